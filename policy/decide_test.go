package policy_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// verdict builds a verdict with the given scores. Every category gets one
// span finding unless it is listed in whole, which gets a whole-text
// (classifier) finding instead.
func verdict(scores map[hazard.Category]float64, whole ...hazard.Category) *detect.Verdict {
	v := &detect.Verdict{Bytes: 100}
	for _, info := range hazard.All() {
		s, ok := scores[info.ID]
		if !ok {
			continue
		}
		r := detect.CategoryResult{Category: info.ID, Score: s, Threshold: detect.DefaultThreshold, Flagged: s >= detect.DefaultThreshold}
		v.Flagged = v.Flagged || r.Flagged
		v.Categories = append(v.Categories, r)
		f := detect.Finding{Category: info.ID, Score: s, Span: detect.Span{Start: 10, End: 20}, Detector: "test", View: "original"}
		if slices.Contains(whole, info.ID) {
			f.Span, f.Whole = detect.Span{}, true
		}
		v.Findings = append(v.Findings, f)
	}
	return v
}

func mustParse(t testing.TB, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

const rulesDoc = `
version: t1
defaults:
  refusal: "Blocked."
  block_style: completion
  guard: llama-guard
  input:
    "*": flag
    cbrn_weapons: block
    hate: {action: flag, threshold: 0.7}
    prompt_injection:
      - {threshold: 0.5, action: flag}
      - {threshold: 0.9, action: block}
    self_harm: {action: escalate, threshold: 0.4}
    pii: redact
    secrets: redact
  output:
    cbrn_weapons: block
    violent_crimes: {action: escalate, guard: output-guard, then: redact, threshold: 0.3}
rules:
  - name: acme-strict
    match: {tenant: "acme-*", model: ["gpt-4*", "claude-*"]}
    refusal: "Acme says no."
    block_style: error
    input:
      hate: block
      sexual_content: {action: block, threshold: 0.3}
  - name: research
    match:
      route: /v1/chat/completions
      tenant: lab
      when: 'request.metadata["clearance"] == "bio"'
    input:
      cbrn_weapons: flag
  - name: loud-injection
    match:
      when: verdict.scores["prompt_injection"] > 0.6 && request.stage == "input"
    input:
      prompt_injection: block
  - name: flagged-many
    match:
      when: size(verdict.categories) >= 3
    output:
      "*": block
`

func TestDecide(t *testing.T) {
	def := policy.Default()
	rp := mustParse(t, rulesDoc)
	in := func(model, tenant string) policy.Request {
		return policy.Request{Route: "/v1/chat/completions", Model: model, Tenant: tenant, Stage: policy.Input}
	}
	out := func(model, tenant string) policy.Request {
		r := in(model, tenant)
		r.Stage = policy.Output
		return r
	}
	type S = map[hazard.Category]float64
	tests := []struct {
		name   string
		p      *policy.Policy
		req    policy.Request
		v      *detect.Verdict
		action policy.Action
		rule   string
		cats   []hazard.Category
		redact []hazard.Category
		esc    []hazard.Category
		guard  string
		reason bool
	}{
		// The built-in default.
		{name: "default/clean", p: def, req: in("m", ""), v: verdict(nil), action: policy.Allow, rule: "default"},
		{name: "default/below threshold", p: def, req: in("m", ""), v: verdict(S{hazard.CBRNWeapons: 0.49}), action: policy.Allow, rule: "default"},
		{name: "default/cbrn input", p: def, req: in("m", ""), v: verdict(S{hazard.CBRNWeapons: 0.5}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons}},
		{name: "default/cbrn output", p: def, req: out("m", ""), v: verdict(S{hazard.CBRNWeapons: 0.9}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons}},
		{name: "default/csam output", p: def, req: out("m", ""), v: verdict(S{hazard.ChildSexualExploitation: 0.8}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.ChildSexualExploitation}},
		{name: "default/sex crimes input", p: def, req: in("m", ""), v: verdict(S{hazard.SexCrimes: 0.8}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.SexCrimes}},
		{name: "default/critical infra output", p: def, req: out("m", ""), v: verdict(S{hazard.CriticalInfrastructure: 0.8, hazard.CyberAttacks: 0.8}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CyberAttacks, hazard.CriticalInfrastructure}},
		{name: "default/flag only", p: def, req: in("m", ""), v: verdict(S{hazard.Hate: 0.95, hazard.SelfHarm: 0.7}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.Hate, hazard.SelfHarm}},
		{name: "default/injection flag", p: def, req: in("m", ""), v: verdict(S{hazard.PromptInjection: 0.6}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.PromptInjection}},
		{name: "default/injection block", p: def, req: in("m", ""), v: verdict(S{hazard.PromptInjection: 0.95}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.PromptInjection}},
		{name: "default/injection output only flagged", p: def, req: out("m", ""), v: verdict(S{hazard.PromptInjection: 0.95}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.PromptInjection}},
		{name: "default/secrets redacted", p: def, req: out("m", ""), v: verdict(S{hazard.Secrets: 1, hazard.PII: 1}), action: policy.Redact, rule: "default", cats: []hazard.Category{hazard.PII, hazard.Secrets}, redact: []hazard.Category{hazard.Secrets}},
		{name: "default/redact without span blocks", p: def, req: out("m", ""), v: verdict(S{hazard.Secrets: 1}, hazard.Secrets), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.Secrets}, reason: true},
		{name: "default/block beats redact", p: def, req: in("m", ""), v: verdict(S{hazard.Secrets: 1, hazard.CBRNWeapons: 1}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons, hazard.Secrets}, redact: []hazard.Category{hazard.Secrets}},
		{name: "default/nil verdict fails closed", p: def, req: in("m", ""), v: nil, action: policy.Block, rule: "default", reason: true},
		{name: "default/detector error fails closed", p: def, req: in("m", ""), v: &detect.Verdict{Errors: []detect.DetectorError{{Detector: "classifier", Error: "boom"}}}, action: policy.Block, rule: "default", reason: true},
		{name: "default/empty stage is input", p: def, req: policy.Request{}, v: verdict(S{hazard.PromptInjection: 0.95}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.PromptInjection}},

		// Thresholds and ladders.
		{name: "rules/hate below custom threshold", p: rp, req: in("m", "x"), v: verdict(S{hazard.Hate: 0.69}), action: policy.Allow, rule: "default"},
		{name: "rules/hate at custom threshold", p: rp, req: in("m", "x"), v: verdict(S{hazard.Hate: 0.7}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.Hate}},
		{name: "rules/escalate", p: rp, req: in("m", "x"), v: verdict(S{hazard.SelfHarm: 0.45}), action: policy.Escalate, rule: "default", cats: []hazard.Category{hazard.SelfHarm}, esc: []hazard.Category{hazard.SelfHarm}, guard: "llama-guard"},
		{name: "rules/block beats escalate", p: rp, req: in("m", "x"), v: verdict(S{hazard.SelfHarm: 0.45, hazard.CBRNWeapons: 0.6}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons, hazard.SelfHarm}},
		{name: "rules/output unchecked category", p: rp, req: out("m", "x"), v: verdict(S{hazard.Hate: 0.99}), action: policy.Allow, rule: "default"},
		{name: "rules/output escalate own guard", p: rp, req: out("m", "x"), v: verdict(S{hazard.ViolentCrimes: 0.3}), action: policy.Escalate, rule: "default", cats: []hazard.Category{hazard.ViolentCrimes}, esc: []hazard.Category{hazard.ViolentCrimes}, guard: "output-guard"},

		// Rules by tenant and model globs.
		{name: "rules/acme model match", p: rp, req: in("gpt-4o", "acme-eu"), v: verdict(S{hazard.Hate: 0.75}), action: policy.Block, rule: "acme-strict", cats: []hazard.Category{hazard.Hate}},
		{name: "rules/acme second model pattern", p: rp, req: in("claude-3", "acme-us"), v: verdict(S{hazard.SexualContent: 0.35}), action: policy.Block, rule: "acme-strict", cats: []hazard.Category{hazard.SexualContent}},
		{name: "rules/acme inherits defaults", p: rp, req: in("gpt-4o", "acme-eu"), v: verdict(S{hazard.Elections: 0.9}), action: policy.Flag, rule: "acme-strict", cats: []hazard.Category{hazard.Elections}},
		{name: "rules/acme other model", p: rp, req: in("llama", "acme-eu"), v: verdict(S{hazard.Hate: 0.75}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.Hate}},
		{name: "rules/other tenant", p: rp, req: in("gpt-4o", "globex"), v: verdict(S{hazard.Hate: 0.75}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.Hate}},

		// CEL over request metadata.
		{name: "cel/metadata match", p: rp, req: withMeta(in("m", "lab"), "clearance", "bio"), v: verdict(S{hazard.CBRNWeapons: 0.9}), action: policy.Flag, rule: "research", cats: []hazard.Category{hazard.CBRNWeapons}},
		{name: "cel/metadata other value", p: rp, req: withMeta(in("m", "lab"), "clearance", "none"), v: verdict(S{hazard.CBRNWeapons: 0.9}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons}},
		{name: "cel/missing key fails closed", p: rp, req: in("m", "lab"), v: verdict(S{hazard.CBRNWeapons: 0.9}), action: policy.Block, rule: "research", reason: true},
		{name: "cel/route mismatch skips rule", p: rp, req: withRoute(withMeta(in("m", "lab"), "clearance", "bio"), "/v1/completions"), v: verdict(S{hazard.CBRNWeapons: 0.9}), action: policy.Block, rule: "default", cats: []hazard.Category{hazard.CBRNWeapons}},

		// CEL over the verdict.
		{name: "cel/verdict score", p: rp, req: in("m", "x"), v: verdict(S{hazard.PromptInjection: 0.7}), action: policy.Block, rule: "loud-injection", cats: []hazard.Category{hazard.PromptInjection}},
		{name: "cel/verdict score low", p: rp, req: in("m", "x"), v: verdict(S{hazard.PromptInjection: 0.55}), action: policy.Flag, rule: "default", cats: []hazard.Category{hazard.PromptInjection}},
		{name: "cel/verdict categories", p: rp, req: out("m", "x"), v: verdict(S{hazard.Hate: 0.6, hazard.Harassment: 0.6, hazard.Defamation: 0.6}), action: policy.Block, rule: "flagged-many", cats: []hazard.Category{hazard.Defamation, hazard.Hate, hazard.Harassment}},
		{name: "cel/verdict categories below", p: rp, req: out("m", "x"), v: verdict(S{hazard.Hate: 0.6, hazard.Harassment: 0.6}), action: policy.Allow, rule: "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.p.Decide(tt.req, tt.v)
			if d.Action != tt.action || d.Rule != tt.rule {
				t.Fatalf("action %s rule %q, want %s rule %q (decision %+v)", d.Action, d.Rule, tt.action, tt.rule, d)
			}
			if !reflect.DeepEqual(d.Categories, tt.cats) {
				t.Errorf("categories %v, want %v", d.Categories, tt.cats)
			}
			if !reflect.DeepEqual(d.Redact, tt.redact) {
				t.Errorf("redact %v, want %v", d.Redact, tt.redact)
			}
			if !reflect.DeepEqual(d.Escalate, tt.esc) || d.Guard != tt.guard {
				t.Errorf("escalate %v to %q, want %v to %q", d.Escalate, d.Guard, tt.esc, tt.guard)
			}
			if (d.Reason != "") != tt.reason {
				t.Errorf("reason %q, want reason: %v", d.Reason, tt.reason)
			}
			blocking := d.Action == policy.Block || d.Action == policy.Escalate
			if blocking && (d.Refusal == "" || d.BlockStyle == "") {
				t.Errorf("block without refusal/style: %+v", d)
			}
			if !blocking && (d.Refusal != "" || d.BlockStyle != "") {
				t.Errorf("refusal set on %s: %+v", d.Action, d)
			}
		})
	}
}

func withMeta(r policy.Request, k, v string) policy.Request {
	r.Metadata = map[string]string{k: v}
	return r
}

func withRoute(r policy.Request, route string) policy.Request {
	r.Route = route
	return r
}

func TestDecideRefusalAndStyle(t *testing.T) {
	p := mustParse(t, rulesDoc)
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 1})
	d := p.Decide(policy.Request{Tenant: "acme-1", Model: "gpt-4", Stage: policy.Input}, v)
	if d.Refusal != "Acme says no." || d.BlockStyle != policy.BlockStyleError {
		t.Errorf("acme: %q %q", d.Refusal, d.BlockStyle)
	}
	d = p.Decide(policy.Request{Tenant: "other", Stage: policy.Input}, v)
	if d.Refusal != "Blocked." || d.BlockStyle != policy.BlockStyleCompletion {
		t.Errorf("default: %q %q", d.Refusal, d.BlockStyle)
	}
}

func TestDecideEscalated(t *testing.T) {
	p := mustParse(t, rulesDoc)
	out := policy.Request{Stage: policy.Output}
	v := verdict(map[hazard.Category]float64{hazard.ViolentCrimes: 0.5})
	if d := p.DecideEscalated(out, v, true); d.Action != policy.Redact || !reflect.DeepEqual(d.Redact, []hazard.Category{hazard.ViolentCrimes}) {
		t.Errorf("guard flagged: %+v, want redact (then: redact)", d)
	}
	if d := p.DecideEscalated(out, v, false); d.Action != policy.Flag || d.Escalate != nil {
		t.Errorf("guard cleared: %+v, want flag", d)
	}
	in := policy.Request{Stage: policy.Input}
	v = verdict(map[hazard.Category]float64{hazard.SelfHarm: 0.5})
	if d := p.DecideEscalated(in, v, true); d.Action != policy.Block {
		t.Errorf("input guard flagged: %+v, want block (default then)", d)
	}
}

func TestFailOpen(t *testing.T) {
	p := mustParse(t, `
version: "1"
defaults:
  fail_mode: open
  input: {hate: block, pii: flag}
rules:
  - name: meta
    match: {when: 'request.metadata["x"] == "y"'}
    input: {pii: block}
`)
	v := verdict(map[hazard.Category]float64{hazard.PII: 0.9})
	v.Errors = []detect.DetectorError{{Detector: "classifier", Error: "timeout"}}
	d := p.Decide(policy.Request{}, v)
	if d.Action != policy.Flag || d.Rule != "default" || d.Reason == "" {
		t.Errorf("fail open with detector error: %+v, want flag by default with a reason", d)
	}
	if d := p.Decide(policy.Request{}, nil); d.Action != policy.Allow || d.Reason == "" {
		t.Errorf("fail open with nil verdict: %+v", d)
	}
	if got := p.FailMode(policy.Request{}); got != policy.FailOpen {
		t.Errorf("FailMode = %s", got)
	}
}

func TestDecideRedactSubcategory(t *testing.T) {
	// A redact action on a parent category redacts the spans of findings in
	// its sub-categories.
	p := mustParse(t, `
version: "1"
defaults:
  output: {cyber_attacks: redact}
`)
	v := verdict(map[hazard.Category]float64{hazard.CyberAttacks: 0.9}, hazard.CyberAttacks)
	v.Findings = append(v.Findings, detect.Finding{Category: hazard.CriticalInfrastructure, Score: 0.9, Span: detect.Span{Start: 1, End: 5}})
	d := p.Decide(policy.Request{Stage: policy.Output}, v)
	if d.Action != policy.Redact {
		t.Fatalf("decision %+v, want redact", d)
	}
	if !d.RedactFinding(detect.Finding{Category: hazard.CriticalInfrastructure, Span: detect.Span{Start: 1, End: 5}}) {
		t.Error("sub-category finding not redacted")
	}
	if d.RedactFinding(detect.Finding{Category: hazard.PII, Span: detect.Span{Start: 1, End: 5}}) {
		t.Error("unrelated finding redacted")
	}
}

func TestRequestOnlyQuestions(t *testing.T) {
	p := mustParse(t, `
version: "1"
defaults:
  hold_back: 100
  fail_mode: open
  input: {hate: {action: flag, threshold: 0.8}}
rules:
  - name: acme
    match: {tenant: acme}
    hold_back: 300
    input: {pii: block, hate: {action: block, threshold: 0.6}}
  - name: by-verdict
    match: {tenant: [globex, initech], when: 'verdict.flagged'}
    fail_mode: closed
    hold_back: 50
    input: {secrets: {action: block, threshold: 0.2}}
`)
	acme := policy.Request{Tenant: "acme", Stage: policy.Input}
	if got, want := p.Checks(acme), []hazard.Category{hazard.Hate, hazard.PII}; !reflect.DeepEqual(got, want) {
		t.Errorf("acme checks %v, want %v", got, want)
	}
	if got := p.Thresholds(acme); got[hazard.Hate] != 0.6 || got[hazard.PII] != 0.5 || len(got) != 2 {
		t.Errorf("acme thresholds %v", got)
	}
	if p.HoldBack(acme) != 300 || p.FailMode(acme) != policy.FailOpen {
		t.Errorf("acme hold back %d fail mode %s", p.HoldBack(acme), p.FailMode(acme))
	}
	// For globex, the verdict-dependent rule may apply: the request-only
	// answers combine it with the defaults conservatively.
	globex := policy.Request{Tenant: "globex", Stage: policy.Input}
	if got, want := p.Checks(globex), []hazard.Category{hazard.Hate, hazard.Secrets}; !reflect.DeepEqual(got, want) {
		t.Errorf("globex checks %v, want %v", got, want)
	}
	if got := p.Thresholds(globex); got[hazard.Secrets] != 0.2 || got[hazard.Hate] != 0.8 {
		t.Errorf("globex thresholds %v", got)
	}
	if p.HoldBack(globex) != 100 || p.FailMode(globex) != policy.FailClosed {
		t.Errorf("globex hold back %d fail mode %s", p.HoldBack(globex), p.FailMode(globex))
	}
	other := policy.Request{Tenant: "other", Stage: policy.Output}
	if len(p.Checks(other)) != 0 || p.Escalation(other) != nil {
		t.Errorf("other output checks %v", p.Checks(other))
	}
	if policy.Default().HoldBack(other) != 200 || policy.Default().LogContent() {
		t.Error("default hold back / log content")
	}
}

func TestEscalationRule(t *testing.T) {
	p := mustParse(t, rulesDoc)
	e := p.Escalation(policy.Request{Stage: policy.Output})
	if e == nil || e.Guard != "output-guard" || e.Then != policy.Redact || !reflect.DeepEqual(e.Categories, []hazard.Category{hazard.ViolentCrimes}) {
		t.Errorf("output escalation %+v", e)
	}
	e = p.Escalation(policy.Request{Stage: policy.Input})
	if e == nil || e.Guard != "llama-guard" || e.Then != policy.Block {
		t.Errorf("input escalation %+v", e)
	}
	if policy.Default().Escalation(policy.Request{}) != nil {
		t.Error("default policy escalates")
	}
}

func TestDigestCanonical(t *testing.T) {
	a := mustParse(t, "version: x\ndefaults:\n  input: {cbrn: block, S10: flag}\n")
	b := mustParse(t, "# a comment\nversion: x\ndefaults:\n  hold_back: 200\n  input:\n    hate: {action: flag, threshold: 0.5}\n    cbrn_weapons: block\n")
	c := mustParse(t, "version: x\ndefaults:\n  input: {cbrn: block, S10: {action: flag, threshold: 0.6}}\n")
	if a.Digest() != b.Digest() {
		t.Errorf("equivalent documents differ: %s %s\n%s\n%s", a.Digest(), b.Digest(), a.Canonical(), b.Canonical())
	}
	if a.Digest() == c.Digest() {
		t.Error("different thresholds, same digest")
	}
	if string(a.Source()) == string(b.Source()) {
		t.Error("sources should differ")
	}
	if len(a.Digest()) != len("sha256:")+64 {
		t.Errorf("digest %q", a.Digest())
	}
}

func TestCELCostLimit(t *testing.T) {
	doc := `
version: "1"
defaults:
  fail_mode: %s
  input: {hate: flag}
rules:
  - name: quadratic
    match:
      when: request.metadata.all(a, request.metadata.all(b, a + b != "x"))
    input: {hate: allow}
`
	meta := map[string]string{}
	for i := 0; i < 300; i++ {
		meta[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	req := policy.Request{Stage: policy.Input, Metadata: meta}
	v := verdict(map[hazard.Category]float64{hazard.Hate: 0.9})

	closed := mustParse(t, strings.Replace(doc, "%s", "closed", 1))
	d := closed.Decide(req, v)
	if d.Action != policy.Block || d.Rule != "quadratic" || !strings.Contains(d.Reason, "cost") {
		t.Errorf("closed: %+v, want block by quadratic for exceeding the cost limit", d)
	}
	open := mustParse(t, strings.Replace(doc, "%s", "open", 1))
	if d := open.Decide(req, v); d.Action != policy.Flag || d.Rule != "default" {
		t.Errorf("open: %+v, want the rule skipped", d)
	}
	// With a small map the same condition evaluates and matches.
	req.Metadata = map[string]string{"k": "v"}
	if d := closed.Decide(req, v); d.Action != policy.Allow || d.Rule != "quadratic" {
		t.Errorf("small map: %+v", d)
	}
}

func TestDecideAllocs(t *testing.T) {
	// The common case, a clean text under a policy without conditions,
	// must not allocate.
	p := policy.Default()
	req := policy.Request{Route: "/v1/chat/completions", Model: "m", Tenant: "t", Stage: policy.Input}
	v := verdict(map[hazard.Category]float64{hazard.Hate: 0.1})
	if n := testing.AllocsPerRun(100, func() { p.Decide(req, v) }); n != 0 {
		t.Errorf("Decide on a clean verdict allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.Checks(req) }); n != 0 {
		t.Errorf("Checks allocates %v times", n)
	}
}

func TestRuleGuard(t *testing.T) {
	// An escalate tier without a guard uses the guard of the block it is
	// written in: the rule's, else the defaults'.
	p := mustParse(t, `
version: "1"
defaults:
  guard: g-default
  input: {hate: escalate}
rules:
  - name: own-guard
    match: {tenant: a}
    guard: g-rule
    output: {hate: escalate}
`)
	if e := p.Escalation(policy.Request{Tenant: "a", Stage: policy.Output}); e == nil || e.Guard != "g-rule" {
		t.Errorf("rule output escalation %+v", e)
	}
	if e := p.Escalation(policy.Request{Tenant: "a", Stage: policy.Input}); e == nil || e.Guard != "g-default" {
		t.Errorf("inherited input escalation %+v", e)
	}
}
