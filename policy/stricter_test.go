package policy_test

import (
	"strings"
	"testing"

	"github.com/warden-safety/warden/policy"
)

const baseStrict = `
version: "1"
defaults:
  fail_mode: closed
  hold_back: 200
  guard: lg
  input:
    "*": flag
    cbrn_weapons: block
    self_harm: {action: escalate, threshold: 0.4}
  output:
    cbrn_weapons: block
rules:
  - name: acme
    match: {tenant: acme}
    input:
      hate: {action: block, threshold: 0.6}
`

func TestStricter(t *testing.T) {
	tests := []struct {
		name      string
		candidate string
		stricter  bool
		reason    string // substring of some reason when not stricter
	}{
		{name: "identical", candidate: baseStrict, stricter: true},
		{name: "comment and spelling only", candidate: strings.Replace(baseStrict, "cbrn_weapons: block\n    self_harm", "S9: block # cbrn\n    self_harm", 1), stricter: true},
		{name: "lower threshold", candidate: strings.Replace(baseStrict, "hate: {action: block, threshold: 0.6}", "hate: {action: block, threshold: 0.4}", 1), stricter: true},
		{name: "higher threshold", candidate: strings.Replace(baseStrict, "hate: {action: block, threshold: 0.6}", "hate: {action: block, threshold: 0.8}", 1), reason: `candidate rule "acme" vs current rule "acme": input hate: at score 0.6 block becomes allow`},
		{name: "weaker action", candidate: strings.Replace(baseStrict, "    cbrn_weapons: block\n    self_harm", "    cbrn_weapons: flag\n    self_harm", 1), reason: "input cbrn_weapons: at score 0.5 block becomes flag"},
		{name: "stronger action", candidate: strings.Replace(baseStrict, `"*": flag`, `"*": block`, 1), stricter: true},
		{name: "more categories", candidate: strings.Replace(baseStrict, "  output:\n    cbrn_weapons: block", "  output:\n    cbrn_weapons: block\n    pii: redact", 1), stricter: true},
		{name: "category removed", candidate: strings.Replace(baseStrict, "  output:\n    cbrn_weapons: block", "  output:\n    pii: redact", 1), reason: "output cbrn_weapons: at score 0.5 block becomes allow"},
		{name: "fail open", candidate: strings.Replace(baseStrict, "fail_mode: closed", "fail_mode: open", 1), reason: "fail_mode: closed becomes open"},
		{name: "less hold back", candidate: strings.Replace(baseStrict, "hold_back: 200", "hold_back: 100", 1), reason: "hold_back: 200 becomes 100"},
		{name: "more hold back", candidate: strings.Replace(baseStrict, "hold_back: 200", "hold_back: 400", 1), stricter: true},
		{name: "log content", candidate: strings.Replace(baseStrict, "hold_back: 200", "hold_back: 200\n  log_content: true", 1), reason: "log_content: enabled"},
		{name: "escalate replaces block", candidate: strings.Replace(baseStrict, "    cbrn_weapons: block\n    self_harm", "    cbrn_weapons: escalate\n    self_harm", 1), reason: "block becomes escalate"},
		{name: "escalate replaces flag", candidate: strings.Replace(baseStrict, `"*": flag`, `"*": escalate`, 1), stricter: true},
		{name: "redact replaces escalate then block", candidate: strings.Replace(baseStrict, "self_harm: {action: escalate, threshold: 0.4}", "self_harm: {action: redact, threshold: 0.4}", 1), reason: "at score 0.4 escalate (then block) becomes redact"},
		{name: "escalation added on output", candidate: strings.Replace(baseStrict, "  output:\n    cbrn_weapons: block", "  output:\n    cbrn_weapons: block\n    pii: escalate", 1), stricter: true},
		{name: "block replaces escalate", candidate: strings.Replace(baseStrict, "self_harm: {action: escalate, threshold: 0.4}", "self_harm: {action: block, threshold: 0.4}", 1), stricter: true},
		{name: "escalation then weaker", candidate: strings.Replace(baseStrict, "self_harm: {action: escalate, threshold: 0.4}", "self_harm: {action: escalate, threshold: 0.4, then: flag}", 1), reason: "escalation then block becomes flag"},
		{name: "other guard", candidate: strings.Replace(baseStrict, "guard: lg", "guard: other", 1), reason: `escalates to guard "other" instead of "lg"`},
		{name: "rule removed", candidate: baseStrict[:strings.Index(baseStrict, "rules:")], reason: `candidate defaults vs current rule "acme": input hate: at score 0.6 block becomes flag`},
		{name: "new stricter rule", candidate: baseStrict + `  - name: kids
    match: {tenant: kids}
    input: {"*": {action: block, threshold: 0.3}}
`, stricter: true},
		{name: "new rule with star lowering an escalation threshold", candidate: baseStrict + `  - name: kids2
    match: {tenant: kids}
    input: {"*": block}
`, reason: `candidate rule "kids2" vs current defaults: input self_harm: at score 0.4 escalate (then block) becomes allow`},
		{name: "new weaker rule for another tenant", candidate: baseStrict + `  - name: lab
    match: {tenant: lab}
    input: {cbrn_weapons: flag}
`, reason: `candidate rule "lab" vs current defaults: input cbrn_weapons: at score 0.5 block becomes flag`},
		{name: "new weaker rule before acme with a glob", candidate: strings.Replace(baseStrict, "rules:\n", `rules:
  - name: all-a
    match: {tenant: "a*"}
    input: {hate: flag}
`, 1), reason: `candidate rule "all-a" vs current rule "acme"`},
		{name: "ladder added above block", candidate: strings.Replace(baseStrict, "    cbrn_weapons: block\n    self_harm", "    cbrn_weapons: [{threshold: 0.3, action: flag}, {threshold: 0.5, action: block}]\n    self_harm", 1), stricter: true},
		{name: "ladder raises block", candidate: strings.Replace(baseStrict, "    cbrn_weapons: block\n    self_harm", "    cbrn_weapons: [{threshold: 0.3, action: flag}, {threshold: 0.7, action: block}]\n    self_harm", 1), reason: "at score 0.5 block becomes flag"},
		{name: "condition added to rule", candidate: strings.Replace(baseStrict, "match: {tenant: acme}", "match: {tenant: acme, when: 'request.model == \"x\"'}", 1), reason: `candidate defaults vs current rule "acme"`},
	}
	cur := mustParse(t, baseStrict)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand := mustParse(t, tt.candidate)
			ok, reasons := policy.Stricter(cand, cur)
			if ok != tt.stricter {
				t.Fatalf("Stricter = %v (%q), want %v", ok, reasons, tt.stricter)
			}
			if ok && len(reasons) != 0 {
				t.Fatalf("stricter with reasons %q", reasons)
			}
			if !ok {
				found := false
				for _, r := range reasons {
					if strings.Contains(r, tt.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("reasons %q do not mention %q", reasons, tt.reason)
				}
			}
		})
	}
}

func TestStricterDefault(t *testing.T) {
	def := policy.Default()
	if ok, r := policy.Stricter(def, def); !ok {
		t.Fatalf("default vs itself: %q", r)
	}
	ex, err := policy.Load("../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example is stricter in places (kids-app) but its red-team rule
	// relaxes CBRN for one tenant: not stricter than the default.
	ok, reasons := policy.Stricter(ex, def)
	if ok {
		t.Fatal("example with a relaxing rule judged stricter than default")
	}
	if !strings.Contains(strings.Join(reasons, "\n"), `rule "redteam-evals"`) {
		t.Errorf("reasons do not name redteam-evals: %q", reasons)
	}
}

func TestWarnings(t *testing.T) {
	p := mustParse(t, `version: "1"
rules:
  - name: all-acme
    match: {tenant: "acme*"}
  - name: acme-eu
    match: {tenant: acme-eu, model: gpt-4o}
  - name: globex
    match: {tenant: globex, when: 'request.model == "x"'}
  - name: globex-again
    match: {tenant: globex}
  - name: catch-all
  - name: never
    match: {tenant: other}
`)
	got := p.Warnings()
	if len(got) != 2 || got[0].Line != 5 || !strings.Contains(got[0].Message, `rule "acme-eu" never applies: rule "all-acme"`) ||
		got[1].Line != 12 || !strings.Contains(got[1].Message, `rule "never" never applies: rule "catch-all"`) {
		t.Errorf("warnings %+v", got)
	}
	if w := policy.Default().Warnings(); len(w) != 0 {
		t.Errorf("default has warnings %+v", w)
	}
}
