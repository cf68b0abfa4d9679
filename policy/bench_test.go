package policy_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("../examples/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := policy.Parse("policy.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide measures one decision on a verdict with three scored
// categories (one blocked), with the built-in default (no rules, no CEL).
func BenchmarkDecide(b *testing.B) {
	p := policy.Default()
	req := policy.Request{Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: "acme", Stage: policy.Input}
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 0.9, hazard.PII: 0.7, hazard.Hate: 0.2})
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req, v)
	}
}

// BenchmarkDecideRules is Decide with the example policy for a request
// that passes the glob rules and evaluates two CEL conditions (one over
// request metadata, one over the verdict) before the defaults apply.
func BenchmarkDecideRules(b *testing.B) {
	p, err := policy.Load("../examples/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	req := policy.Request{Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: "redteam", Stage: policy.Output, Metadata: map[string]string{"x-user": "u1"}}
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 0.9, hazard.PII: 0.7, hazard.Hate: 0.2})
	if d := p.Decide(req, v); d.Rule != "default" || d.Action != policy.Block {
		b.Fatalf("decision %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req, v)
	}
}

// BenchmarkDecideCELMatch is Decide where a CEL rule over request
// metadata matches.
func BenchmarkDecideCELMatch(b *testing.B) {
	p, err := policy.Load("../examples/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	req := policy.Request{Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: "redteam", Stage: policy.Input, Metadata: map[string]string{"x-eval-run": "r1"}}
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 0.9, hazard.PII: 0.7, hazard.Hate: 0.2})
	if d := p.Decide(req, v); d.Rule != "redteam-evals" {
		b.Fatalf("decision %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req, v)
	}
}

func BenchmarkChecks(b *testing.B) {
	p := policy.Default()
	req := policy.Request{Stage: policy.Output}
	b.ReportAllocs()
	for b.Loop() {
		p.Checks(req)
	}
}

// BenchmarkDecide50Rules is Decide under a policy of 50 rules matched by
// tenant and model globs (no CEL) when the request matches none of them.
func BenchmarkDecide50Rules(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: b\ndefaults:\n  input: {\"*\": flag, cbrn_weapons: block}\nrules:\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&sb, "  - name: r%d\n    match: {tenant: \"tenant-%d-*\", model: [\"gpt-4*\", \"claude-*\"]}\n    input: {hate: block}\n", i, i)
	}
	p, err := policy.Parse("b.yaml", []byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	req := policy.Request{Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: "other", Stage: policy.Input}
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 0.9, hazard.PII: 0.7, hazard.Hate: 0.2})
	if d := p.Decide(req, v); d.Rule != "default" || d.Action != policy.Block {
		b.Fatalf("decision %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Decide(req, v)
	}
}

// BenchmarkStricter compares the example policy with the default.
func BenchmarkStricter(b *testing.B) {
	p, err := policy.Load("../examples/policy.yaml")
	if err != nil {
		b.Fatal(err)
	}
	def := policy.Default()
	for b.Loop() {
		policy.Stricter(p, def)
	}
}
