package policy_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// A small random policy model, rendered to YAML, to check that Stricter is
// sound: whenever it says a candidate is at least as strict, no request and
// verdict gets a weaker outcome under the candidate.

var (
	propCats       = []string{"hate", "cbrn_weapons", "pii", "self_harm"}
	propActions    = []string{"allow", "flag", "redact", "escalate", "block"}
	propThresholds = []float64{0.2, 0.5, 0.8}
	propTenants    = []string{"", "a", "b", "a*", "*"}
	propModels     = []string{"", "m1", "m*"}
	propWhens      = []string{"", `request.metadata["k"] == "v"`, `verdict.scores["hate"] > 0.6`, `"k" in request.metadata`}
)

type propTier struct {
	threshold float64
	action    string
}

type propConfig struct {
	failMode string // "" inherit
	holdBack int    // 0 inherit
	stages   [2]map[string][]propTier
}

type propRule struct {
	name, tenant, model, when string
	cfg                       propConfig
}

type propPolicy struct {
	defaults propConfig
	rules    []propRule
}

func randLadder(r *rand.Rand) []propTier {
	if r.IntN(4) == 0 {
		lo, hi := propThresholds[r.IntN(2)], 0.8
		return []propTier{{lo, propActions[r.IntN(len(propActions))]}, {hi, propActions[r.IntN(len(propActions))]}}
	}
	return []propTier{{propThresholds[r.IntN(len(propThresholds))], propActions[r.IntN(len(propActions))]}}
}

func randConfig(r *rand.Rand, isDefaults bool) propConfig {
	var c propConfig
	if isDefaults || r.IntN(3) == 0 {
		c.failMode = []string{"open", "closed"}[r.IntN(2)]
	}
	if isDefaults || r.IntN(3) == 0 {
		c.holdBack = []int{100, 200, 300}[r.IntN(3)]
	}
	for s := range c.stages {
		c.stages[s] = map[string][]propTier{}
		for _, cat := range propCats {
			if r.IntN(2) == 0 {
				c.stages[s][cat] = randLadder(r)
			}
		}
	}
	return c
}

func randPolicy(r *rand.Rand) *propPolicy {
	p := &propPolicy{defaults: randConfig(r, true)}
	for i := range r.IntN(4) {
		p.rules = append(p.rules, randRule(r, i))
	}
	return p
}

func randRule(r *rand.Rand, i int) propRule {
	return propRule{
		name:   fmt.Sprintf("r%d-%d", i, r.IntN(1000)),
		tenant: propTenants[r.IntN(len(propTenants))],
		model:  propModels[r.IntN(len(propModels))],
		when:   propWhens[r.IntN(len(propWhens))],
		cfg:    randConfig(r, false),
	}
}

func (c propConfig) clone() propConfig {
	out := c
	for s := range c.stages {
		out.stages[s] = map[string][]propTier{}
		for k, v := range c.stages[s] {
			out.stages[s][k] = append([]propTier(nil), v...)
		}
	}
	return out
}

func (p *propPolicy) clone() *propPolicy {
	out := &propPolicy{defaults: p.defaults.clone()}
	for _, r := range p.rules {
		r.cfg = r.cfg.clone()
		out.rules = append(out.rules, r)
	}
	return out
}

// mutate changes p a little: most mutations tighten, some loosen.
func mutate(r *rand.Rand, p *propPolicy) {
	cfg := &p.defaults
	if len(p.rules) > 0 && r.IntN(2) == 0 {
		cfg = &p.rules[r.IntN(len(p.rules))].cfg
	}
	st := cfg.stages[r.IntN(2)]
	cat := propCats[r.IntN(len(propCats))]
	switch r.IntN(9) {
	case 0, 1: // stronger action
		if l := st[cat]; len(l) > 0 {
			i := r.IntN(len(l))
			l[i].action = propActions[min(len(propActions)-1, actionIndex(l[i].action)+1+r.IntN(2))]
		} else {
			st[cat] = randLadder(r)
		}
	case 2: // lower threshold
		if l := st[cat]; len(l) > 0 {
			l[0].threshold = 0.2
		}
	case 3: // weaker action
		if l := st[cat]; len(l) > 0 {
			i := r.IntN(len(l))
			l[i].action = propActions[max(0, actionIndex(l[i].action)-1)]
		}
	case 4: // drop a category
		delete(st, cat)
	case 5:
		cfg.failMode = []string{"open", "closed"}[r.IntN(2)]
	case 6:
		cfg.holdBack = []int{100, 200, 300}[r.IntN(3)]
	case 7: // add a rule somewhere
		i := r.IntN(len(p.rules) + 1)
		p.rules = append(p.rules[:i], append([]propRule{randRule(r, 9)}, p.rules[i:]...)...)
	case 8: // remove a rule
		if len(p.rules) > 0 {
			i := r.IntN(len(p.rules))
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
		}
	}
}

func actionIndex(a string) int {
	for i, x := range propActions {
		if x == a {
			return i
		}
	}
	return 0
}

func (c propConfig) render(b *strings.Builder, indent string) {
	if c.failMode != "" {
		fmt.Fprintf(b, "%sfail_mode: %s\n", indent, c.failMode)
	}
	if c.holdBack != 0 {
		fmt.Fprintf(b, "%shold_back: %d\n", indent, c.holdBack)
	}
	for s, name := range []string{"input", "output"} {
		if len(c.stages[s]) == 0 {
			continue
		}
		fmt.Fprintf(b, "%s%s:\n", indent, name)
		for _, cat := range propCats {
			l, ok := c.stages[s][cat]
			if !ok {
				continue
			}
			fmt.Fprintf(b, "%s  %s: [", indent, cat)
			for i, t := range l {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "{threshold: %g, action: %s}", t.threshold, t.action)
			}
			b.WriteString("]\n")
		}
	}
}

func (p *propPolicy) render() string {
	var b strings.Builder
	b.WriteString("version: prop\ndefaults:\n  guard: g\n")
	p.defaults.render(&b, "  ")
	if len(p.rules) > 0 {
		b.WriteString("rules:\n")
	}
	seen := map[string]bool{}
	for _, r := range p.rules {
		name := r.name
		for seen[name] {
			name += "x"
		}
		seen[name] = true
		fmt.Fprintf(&b, "  - name: %s\n", name)
		if r.tenant != "" || r.model != "" || r.when != "" {
			b.WriteString("    match:\n")
			if r.tenant != "" {
				fmt.Fprintf(&b, "      tenant: %q\n", r.tenant)
			}
			if r.model != "" {
				fmt.Fprintf(&b, "      model: %q\n", r.model)
			}
			if r.when != "" {
				fmt.Fprintf(&b, "      when: '%s'\n", r.when)
			}
		}
		r.cfg.render(&b, "    ")
	}
	return b.String()
}

func randVerdict(r *rand.Rand) *detect.Verdict {
	scores := map[hazard.Category]float64{}
	var whole []hazard.Category
	for _, c := range propCats {
		if r.IntN(2) == 0 {
			id, _ := hazard.Parse(c)
			scores[id] = float64(r.IntN(11)) / 10
			if r.IntN(3) == 0 {
				whole = append(whole, id)
			}
		}
	}
	v := verdict(scores, whole...)
	if r.IntN(10) == 0 {
		v.Errors = []detect.DetectorError{{Detector: "x", Error: "failed"}}
	}
	return v
}

func randRequest(r *rand.Rand) policy.Request {
	req := policy.Request{
		Tenant: []string{"a", "b", "c", "ab", ""}[r.IntN(5)],
		Model:  []string{"m1", "m2"}[r.IntN(2)],
		Stage:  []policy.Stage{policy.Input, policy.Output}[r.IntN(2)],
	}
	switch r.IntN(3) {
	case 1:
		req.Metadata = map[string]string{"k": "v"}
	case 2:
		req.Metadata = map[string]string{"k": "x"}
	}
	return req
}

func TestStricterSound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pairs, stricter := 300, 0
	if testing.Short() {
		pairs = 100
	}
	for i := 0; i < pairs; i++ {
		cur := randPolicy(r)
		cand := cur.clone()
		for range 1 + r.IntN(3) {
			mutate(r, cand)
		}
		kp, err := policy.Parse("current.yaml", []byte(cur.render()))
		if err != nil {
			t.Fatalf("current does not parse: %v\n%s", err, cur.render())
		}
		cp, err := policy.Parse("candidate.yaml", []byte(cand.render()))
		if err != nil {
			t.Fatalf("candidate does not parse: %v\n%s", err, cand.render())
		}
		ok, _ := policy.Stricter(cp, kp)
		if !ok {
			continue
		}
		stricter++
		for j := 0; j < 60; j++ {
			req, v := randRequest(r), randVerdict(r)
			for _, guardFlags := range []bool{true, false} {
				dc := cp.DecideEscalated(req, v, guardFlags)
				dk := kp.DecideEscalated(req, v, guardFlags)
				if dc.Action.Strength() < dk.Action.Strength() {
					t.Fatalf("Stricter said yes, but for %+v (guard flags: %v) candidate %s (rule %s, %s) < current %s (rule %s, %s)\nverdict %+v\ncandidate:\n%s\ncurrent:\n%s",
						req, guardFlags, dc.Action, dc.Rule, dc.Reason, dk.Action, dk.Rule, dk.Reason, v.Categories, cand.render(), cur.render())
				}
			}
			// A request blocked because a condition failed to evaluate never
			// reaches the model: what it would have streamed is moot.
			in := req
			in.Stage = policy.Input
			if d := cp.Decide(in, v); d.Action == policy.Block && strings.HasPrefix(d.Reason, "condition could not be evaluated") {
				continue
			}
			if cp.HoldBack(req) < kp.HoldBack(req) || kp.FailMode(req) == policy.FailClosed && cp.FailMode(req) != policy.FailClosed {
				t.Fatalf("Stricter said yes, but hold back %d < %d or fail mode %s vs %s for %+v\ncandidate:\n%s\ncurrent:\n%s", cp.HoldBack(req), kp.HoldBack(req), cp.FailMode(req), kp.FailMode(req), req, cand.render(), cur.render())
			}
		}
	}
	// The generator must exercise both answers.
	if stricter < pairs/10 || stricter > pairs*9/10 {
		t.Errorf("%d of %d pairs judged stricter: the generator is lopsided", stricter, pairs)
	}
	t.Logf("%d of %d random changes judged stricter; all checked on random requests", stricter, pairs)
}

// TestRequestOnlyConsistent checks, on random policies, that what the
// gateway learns before scanning covers what Decide acts on afterwards:
// every category a decision acts on is in Checks, at a score at or above
// its Thresholds entry.
func TestRequestOnlyConsistent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		pp := randPolicy(r)
		p, err := policy.Parse("p.yaml", []byte(pp.render()))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 40; j++ {
			req, v := randRequest(r), randVerdict(r)
			d := p.Decide(req, v)
			checks, th := p.Checks(req), p.Thresholds(req)
			for _, c := range d.Categories {
				if !slices.Contains(checks, c) || v.Score(c) < th[c] {
					t.Fatalf("decision acts on %s (score %g) but Checks %v, Thresholds %v\nrequest %+v\n%s", c, v.Score(c), checks, th, req, pp.render())
				}
			}
		}
	}
}
