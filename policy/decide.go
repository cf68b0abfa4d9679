package policy

import (
	"strings"
	"sync"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// EscalationRule says where a stage escalates and what happens after.
type EscalationRule struct {
	// Guard names the guard-model configuration to ask.
	Guard string `json:"guard"`
	// Then is the action when the guard flags the text: flag, redact or
	// block (the default). When the guard clears it, the escalated
	// categories are only flagged. When the guard fails, the fail mode
	// decides: closed acts as if it flagged.
	Then Action `json:"then"`
	// Categories lists the categories that escalate, in report order.
	Categories []hazard.Category `json:"categories"`
}

// defaultPolicy is the built-in default policy, parsed once; see
// default.yaml.
var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("policy: built-in default does not parse: " + err.Error())
	}
	return p
})

// Default returns the built-in default policy, used when no policy file is
// configured. `warden policy show` prints it with its reasoning.
func Default() *Policy { return defaultPolicy() }

// Name returns the label the document was parsed under (its file name).
func (p *Policy) Name() string { return p.name }

// Version returns the document's version field.
func (p *Policy) Version() string { return p.version }

// Digest returns "sha256:<hex>" of the canonical form (Canonical): the same
// for documents that differ only in comments, layout or spelling.
func (p *Policy) Digest() string { return p.digest }

// Canonical returns the canonical JSON form the digest is computed over.
func (p *Policy) Canonical() []byte { return append([]byte(nil), p.canonical...) }

// Source returns the document's bytes exactly as loaded.
func (p *Policy) Source() []byte { return append([]byte(nil), p.source...) }

// LogContent reports whether the document explicitly enables logging of
// prompt and completion text (defaults.log_content; false by default).
func (p *Policy) LogContent() bool { return p.logContent }

// RuleNames lists the rules in evaluation order.
func (p *Policy) RuleNames() []string {
	out := make([]string, len(p.rules))
	for i := range p.rules {
		out[i] = p.rules[i].name
	}
	return out
}

func (r *rule) matchRequest(req *Request) bool {
	return r.tenants.match(req.Tenant) && r.models.match(req.Model) && r.routes.match(req.Route)
}

// settingsFor finds the rule that applies to a request with verdict v: the
// first whose patterns match and whose condition holds. A condition that
// fails to evaluate follows its rule's fail mode: closed returns that rule
// with the error (the caller blocks), open skips the rule.
func (p *Policy) settingsFor(req *Request, v *detect.Verdict) (*settings, string, error) {
	var act *activation
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matchRequest(req) {
			continue
		}
		if r.cond != nil {
			if act == nil {
				act = &activation{req: *req, v: v}
			}
			ok, err := r.cond.eval(act)
			if err != nil {
				if r.eff.failMode == FailClosed {
					return &r.eff, r.name, err
				}
				continue
			}
			if !ok {
				continue
			}
		}
		return &r.eff, r.name, nil
	}
	return &p.defaults, "default", nil
}

// candidates appends to buf every configuration that may apply to req
// before the verdict is known: the first rule that surely applies (its
// patterns match and its request-only condition holds, or fails to
// evaluate and fails closed) or the defaults, preceded by the matching
// rules whose condition reads the verdict. Request-only questions combine
// the candidates conservatively.
func (p *Policy) candidates(req *Request, buf []*settings) []*settings {
	var act *activation
	for i := range p.rules {
		r := &p.rules[i]
		if !r.matchRequest(req) {
			continue
		}
		if r.cond != nil {
			if r.cond.needsVerdict {
				// A rule behind an earlier possible rule with the same
				// condition never applies: skip it.
				if !sameCondBefore(p.rules[:i], req, r.cond.src) {
					buf = append(buf, &r.eff)
				}
				continue
			}
			if act == nil {
				act = &activation{req: *req}
			}
			ok, err := r.cond.eval(act)
			if err != nil {
				if r.eff.failMode == FailClosed {
					// Decide will block under this rule, whatever the verdict.
					return append(buf, &r.eff)
				}
				continue
			}
			if !ok {
				continue
			}
		}
		return append(buf, &r.eff)
	}
	return append(buf, &p.defaults)
}

// sameCondBefore reports whether one of rules matches req by its patterns
// and has the condition src.
func sameCondBefore(rules []rule, req *Request, src string) bool {
	for i := range rules {
		if rules[i].cond != nil && rules[i].cond.src == src && rules[i].matchRequest(req) {
			return true
		}
	}
	return false
}

// Checks returns the categories a request's stage checks (those with an
// action other than allow), in report order. The caller must not modify
// the slice.
func (p *Policy) Checks(req Request) []hazard.Category {
	var arr [4]*settings
	cs := p.candidates(&req, arr[:0])
	if len(cs) == 1 {
		return cs[0].stage(req.Stage).checks
	}
	var out []hazard.Category
	for _, c := range catList {
		for _, s := range cs {
			if _, ok := s.stage(req.Stage).thresholds[c]; ok {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// Thresholds returns, per checked category, the lowest score at which the
// policy acts on it: the flagging threshold detectors should use. The
// caller must not modify the map.
func (p *Policy) Thresholds(req Request) map[hazard.Category]float64 {
	var arr [4]*settings
	cs := p.candidates(&req, arr[:0])
	if len(cs) == 1 {
		return cs[0].stage(req.Stage).thresholds
	}
	out := map[hazard.Category]float64{}
	for _, s := range cs {
		for c, t := range s.stage(req.Stage).thresholds {
			if old, ok := out[c]; !ok || t < old {
				out[c] = t
			}
		}
	}
	return out
}

// FailMode returns what to do when a detector or guard model fails for
// this request: closed (block) unless every configuration that may apply
// says open.
func (p *Policy) FailMode(req Request) FailMode {
	var arr [4]*settings
	for _, s := range p.candidates(&req, arr[:0]) {
		if s.failMode != FailOpen {
			return FailClosed
		}
	}
	return FailOpen
}

// HoldBack returns the streaming hold-back window in characters: how much
// of a streamed answer the output guard keeps back until it has been
// scanned with what follows.
func (p *Policy) HoldBack(req Request) int {
	var arr [4]*settings
	max := 0
	for _, s := range p.candidates(&req, arr[:0]) {
		if s.holdBack > max {
			max = s.holdBack
		}
	}
	return max
}

// Escalation returns the guard-model escalation configured for the
// request's stage, or nil when no category escalates.
func (p *Policy) Escalation(req Request) *EscalationRule {
	var arr [4]*settings
	var out *EscalationRule
	for _, s := range p.candidates(&req, arr[:0]) {
		e := s.stage(req.Stage).esc
		if e == nil {
			continue
		}
		if out == nil {
			out = &EscalationRule{Guard: e.Guard, Then: e.Then, Categories: append([]hazard.Category(nil), e.Categories...)}
			continue
		}
		if e.Then.Strength() > out.Then.Strength() {
			out.Then = e.Then
		}
		for _, c := range e.Categories {
			if !containsCat(out.Categories, c) {
				out.Categories = append(out.Categories, c)
			}
		}
	}
	return out
}

// Refusal returns the refusal message and block style for a request
// before any verdict (for example for a request refused for its size).
func (p *Policy) Refusal(req Request) (message, blockStyle string) {
	var arr [4]*settings
	s := p.candidates(&req, arr[:0])[0]
	return s.refusal, s.blockStyle
}

type escState uint8

const (
	escPending escState = iota
	escFlagged
	escCleared
)

// Decide applies the policy to a verdict for one request stage. For each
// category the verdict scores, the applicable rule's ladder gives an
// action; the decision is the strongest of them, with every category that
// led to a non-allow action, the rule that decided, and the refusal text
// and block style when the action is block or escalate.
//
// A nil verdict or a verdict with detector errors follows the fail mode:
// closed blocks, open decides on what the detectors that worked found.
// A redact action on a category whose evidence has no span (a whole-text
// classifier score) cannot be carried out and becomes block.
func (p *Policy) Decide(req Request, v *detect.Verdict) Decision {
	return p.decide(&req, v, escPending)
}

// DecideEscalated is Decide after the guard model has answered for the
// categories Decide escalated: guardFlagged true applies the escalation's
// then action, false only flags them. Call it with guardFlagged true when
// the guard failed and the fail mode is closed.
func (p *Policy) DecideEscalated(req Request, v *detect.Verdict, guardFlagged bool) Decision {
	if guardFlagged {
		return p.decide(&req, v, escFlagged)
	}
	return p.decide(&req, v, escCleared)
}

func (p *Policy) decide(req *Request, v *detect.Verdict, esc escState) Decision {
	s, name, err := p.settingsFor(req, v)
	d := Decision{Rule: name, Action: Allow}
	if err != nil {
		return s.block(d, "condition could not be evaluated: "+err.Error())
	}
	if v == nil {
		if s.failMode == FailOpen {
			d.Reason = "no verdict (fail open)"
			return d
		}
		return s.block(d, "no verdict (fail closed)")
	}
	if len(v.Errors) > 0 {
		names := make([]string, len(v.Errors))
		for i, e := range v.Errors {
			names[i] = e.Detector
		}
		reason := "detector failed: " + strings.Join(names, ", ")
		if s.failMode != FailOpen {
			return s.block(d, reason+" (fail closed)")
		}
		d.Reason = reason + " (fail open)"
	}
	sc := s.stage(req.Stage)
	for _, r := range v.Categories {
		idx, ok := catIndex[r.Category]
		if !ok {
			continue
		}
		ts := sc.tiers[idx]
		if ts == nil {
			continue
		}
		t := tierAt(ts, r.Score)
		if t == nil || t.Action == Allow {
			continue
		}
		a := t.Action
		if a == Escalate {
			switch esc {
			case escPending:
				d.Escalate = append(d.Escalate, r.Category)
			case escFlagged:
				a = t.Then
			case escCleared:
				a = Flag
			}
		}
		if a == Redact {
			if hasSpan(v, r.Category) {
				d.Redact = append(d.Redact, r.Category)
			} else {
				a = Block
				if d.Reason == "" {
					d.Reason = "redact: " + string(r.Category) + " has no span to redact"
				}
			}
		}
		if d.Categories == nil {
			d.Categories = make([]hazard.Category, 0, len(v.Categories))
		}
		d.Categories = append(d.Categories, r.Category)
		if a.Strength() > d.Action.Strength() {
			d.Action = a
		}
	}
	switch d.Action {
	case Escalate:
		if sc.esc != nil {
			d.Guard = sc.esc.Guard
		}
		d.Refusal, d.BlockStyle = s.refusal, s.blockStyle
	case Block:
		d.Escalate = nil
		d.Refusal, d.BlockStyle = s.refusal, s.blockStyle
	default:
		d.Escalate = nil
	}
	return d
}

func (s *settings) block(d Decision, reason string) Decision {
	d.Action = Block
	d.Reason = reason
	d.Refusal, d.BlockStyle = s.refusal, s.blockStyle
	return d
}

// tierAt returns the strongest tier whose threshold the score reaches (so
// the action never weakens as the score grows), nil when none is reached.
func tierAt(ts []tier, score float64) *tier {
	var out *tier
	for i := range ts {
		if score < ts[i].Threshold {
			break // tiers are sorted by threshold
		}
		if out == nil || ts[i].Action.Strength() >= out.Action.Strength() {
			out = &ts[i]
		}
	}
	return out
}

// hasSpan reports whether some finding for c (or a sub-category of c) has
// a span of the text that redaction can replace.
func hasSpan(v *detect.Verdict, c hazard.Category) bool {
	for i := range v.Findings {
		f := &v.Findings[i]
		if f.Whole || f.Span.End <= f.Span.Start {
			continue
		}
		if f.Category == c {
			return true
		}
		for _, a := range f.Category.Ancestors() {
			if a == c {
				return true
			}
		}
	}
	return false
}

// RedactFinding reports whether the gateway must redact finding f under
// decision d; use it as the keep function of detect.Redaction.Redact.
func (d *Decision) RedactFinding(f detect.Finding) bool {
	if len(d.Redact) == 0 || f.Whole {
		return false
	}
	for _, c := range d.Redact {
		if f.Category == c {
			return true
		}
		for _, a := range f.Category.Ancestors() {
			if a == c {
				return true
			}
		}
	}
	return false
}
