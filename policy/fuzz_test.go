package policy_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// FuzzParse feeds arbitrary documents to Parse. A document either fails
// with a *ValidationError whose issues all have positions, or parses into
// a policy that re-parses to the same digest, has valid canonical JSON, is
// Stricter than itself, and decides any verdict without panicking. Seeds
// are under testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(docVersion("seed")))
	verdicts := []map[hazard.Category]float64{
		nil,
		{hazard.CBRNWeapons: 0.9, hazard.PII: 0.6},
		{hazard.PromptInjection: 0.95, hazard.Secrets: 1, hazard.SelfHarm: 0.4},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Parse("fuzz.yaml", data)
		if err != nil {
			var ve *policy.ValidationError
			if !errors.As(err, &ve) || len(ve.Issues) == 0 {
				t.Fatalf("error %v (%T) is not a ValidationError with issues", err, err)
			}
			for _, is := range ve.Issues {
				if is.Line < 1 || is.Column < 1 || is.Message == "" {
					t.Fatalf("issue without position: %+v", is)
				}
			}
			return
		}
		q, err := policy.Parse("again.yaml", p.Source())
		if err != nil || q.Digest() != p.Digest() {
			t.Fatalf("re-parse: %v (%s vs %s)", err, q.Digest(), p.Digest())
		}
		if !json.Valid(p.Canonical()) {
			t.Fatalf("canonical form is not JSON: %s", p.Canonical())
		}
		if ok, reasons := policy.Stricter(p, p); !ok {
			t.Fatalf("not stricter than itself: %q", reasons)
		}
		for _, st := range []policy.Stage{policy.Input, policy.Output} {
			req := policy.Request{Route: "/v1/chat/completions", Model: "gpt-4o", Tenant: "acme", Stage: st, Metadata: map[string]string{"k": "v"}}
			for _, s := range verdicts {
				d := p.Decide(req, verdict(s))
				if d.Action.Strength() > policy.Block.Strength() {
					t.Fatalf("unknown action %q", d.Action)
				}
			}
			_ = p.Checks(req)
			_ = p.Thresholds(req)
			_ = p.Escalation(req)
			if hb := p.HoldBack(req); hb < 0 {
				t.Fatalf("hold back %d", hb)
			}
		}
	})
}
