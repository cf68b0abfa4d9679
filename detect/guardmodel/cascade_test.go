package guardmodel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

// scored is a built-in detector whose score for a text is set by the test
// through markers: "[hate=0.5]" gives a whole-text hate finding of 0.5.
type scored struct{}

func (scored) Name() string    { return "classifier" }
func (scored) Version() string { return "t" }
func (scored) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	for _, part := range strings.Split(doc.Text, "[")[1:] {
		kv, _, _ := strings.Cut(part, "]")
		k, v, _ := strings.Cut(kv, "=")
		var s float64
		switch v {
		case "0.1":
			s = 0.1
		case "0.5":
			s = 0.5
		case "0.95":
			s = 0.95
		}
		dst = append(dst, detect.Finding{Category: hazard.Category(k), Score: s, Whole: true, Detector: "classifier", View: "original", Explanation: "model"})
	}
	return dst, nil
}

func TestCascadeEscalation(t *testing.T) {
	srv := newFakeLLM(t)
	cfg := lgConfig(srv.srv.URL)
	cfg.CacheSize = -1
	guard := mustGuard(t, cfg)
	tests := []struct {
		name      string
		esc       guardmodel.Escalation
		text      string
		escalates bool
	}{
		{"in band", guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, "[hate=0.5] nerve agent", true},
		{"above band", guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, "[hate=0.95] nerve agent", false},
		{"below band", guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, "[hate=0.1] nerve agent", false},
		{"nothing found, band above zero", guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, "nerve agent", false},
		{"band from zero includes silence", guardmodel.Escalation{Lo: 0, Hi: 0.5}, "nerve agent", true},
		{"default band", guardmodel.Escalation{}, "[hate=0.5]", true},
		{"band limited to other category", guardmodel.Escalation{Lo: 0.3, Hi: 0.7, Categories: []hazard.Category{hazard.SelfHarm}}, "[hate=0.5]", false},
		{"band via child category", guardmodel.Escalation{Lo: 0.3, Hi: 0.7, Categories: []hazard.Category{hazard.CyberAttacks}}, "[critical_infrastructure=0.5]", true},
		{"pii never in default band", guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, "[pii=0.5]", false},
		{"always category", guardmodel.Escalation{Lo: 0.3, Hi: 0.7, Always: []hazard.Category{hazard.CBRNWeapons}}, "[cbrn_weapons=0.95]", true},
		{"always via parent", guardmodel.Escalation{Lo: 0.3, Hi: 0.7, Always: []hazard.Category{hazard.CyberAttacks}}, "[critical_infrastructure=0.95]", true},
		{"always mode", guardmodel.Escalation{Mode: "always"}, "hello", true},
		{"never mode", guardmodel.Escalation{Mode: "never"}, "[hate=0.5] nerve agent", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := guardmodel.NewCascade(tt.esc, guard, scored{})
			if err != nil {
				t.Fatal(err)
			}
			before := srv.requests.Load()
			fs, err := scan(t, context.Background(), c, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			called := srv.requests.Load() != before
			if called != tt.escalates || (c.Escalations() == 1) != tt.escalates {
				t.Fatalf("escalated=%v (count %d), want %v", called, c.Escalations(), tt.escalates)
			}
			fromGuard := false
			for _, f := range fs {
				fromGuard = fromGuard || f.Detector == "guardmodel:lg"
			}
			if tt.escalates && strings.Contains(tt.text, "nerve agent") != fromGuard {
				t.Fatalf("guard findings missing or unexpected: %+v", fs)
			}
		})
	}
}

func TestCascadeResolve(t *testing.T) {
	srv := newFakeLLM(t)
	guard := mustGuard(t, lgConfig(srv.srv.URL))
	ctx := context.Background()
	// "max": the guard's "safe" leaves the uncertain built-in score.
	c, _ := guardmodel.NewCascade(guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, guard, scored{})
	v, err := detect.NewPipeline(c).Scan(ctx, "[hate=0.5] bake bread")
	if err != nil || !v.Flagged || v.Score(hazard.Hate) != 0.5 {
		t.Fatalf("max: %+v %v", v, err)
	}
	// "guard": the guard's "safe" clears the uncertain category…
	c, _ = guardmodel.NewCascade(guardmodel.Escalation{Lo: 0.3, Hi: 0.7, Resolve: "guard"}, guard, scored{})
	p := detect.NewPipeline(c)
	v, err = p.Scan(ctx, "[hate=0.5] bake bread")
	if err != nil || v.Flagged || v.Score(hazard.Hate) != 0 {
		t.Fatalf("guard resolve safe: %+v %v", v, err)
	}
	// …but not a category the guard does not judge (prompt injection),
	// nor a sure finding outside the band.
	v, _ = p.Scan(ctx, "[prompt_injection=0.5][self_harm=0.95][hate=0.5] bake bread")
	if v.Score(hazard.PromptInjection) != 0.5 || v.Score(hazard.SelfHarm) != 0.95 || v.Score(hazard.Hate) != 0 {
		t.Fatalf("guard resolve kept wrong findings: %+v", v.Categories)
	}
	// The guard's "unsafe" flags the category with Detector guardmodel:lg.
	v, _ = p.Scan(ctx, "[hate=0.5] an insult")
	r, ok := v.Category(hazard.Hate)
	if !ok || r.Score != 1 || !r.Flagged || !strings.Contains(r.Explanation, "llama-guard-3") {
		t.Fatalf("guard unsafe: %+v", v.Categories)
	}
	if v.Detectors[0].Name != "cascade" || !strings.Contains(v.Detectors[0].Version, "classifier@t,guardmodel:lg@llama_guard:meta-llama/Llama-Guard-3-8B:llama-guard-3/chat/user") {
		t.Fatalf("detector info %+v", v.Detectors)
	}
}

func TestCascadeErrors(t *testing.T) {
	srv := newFakeLLM(t)
	guard := mustGuard(t, lgConfig(srv.srv.URL))
	broken := word{err: errors.New("model file missing")}
	c, _ := guardmodel.NewCascade(guardmodel.Escalation{Lo: 0.3, Hi: 0.7}, guard, broken, scored{})
	// A failed built-in detector escalates; its error is kept and named.
	fs, err := scan(t, context.Background(), c, "nerve agent")
	if err == nil || !strings.Contains(err.Error(), "lexicon: model file missing") || len(fs) != 1 || fs[0].Detector != "guardmodel:lg" {
		t.Fatalf("builtin failure: %+v %v", fs, err)
	}
	// A failed guard (fail closed) is an error; built-in findings are kept.
	fs, err = scan(t, context.Background(), c, "[hate=0.5] boom")
	var ge *guardmodel.Error
	if !errors.As(err, &ge) || ge.Status != 500 || len(fs) != 1 || fs[0].Category != hazard.Hate {
		t.Fatalf("guard failure: %+v %v", fs, err)
	}
	for _, esc := range []guardmodel.Escalation{{Mode: "sometimes"}, {Lo: 0.8, Hi: 0.2}, {Hi: 1.5}, {Resolve: "vote"},
		{Always: []hazard.Category{"nope"}}} {
		if _, err := guardmodel.NewCascade(esc, guard); err == nil {
			t.Errorf("NewCascade(%+v) accepted", esc)
		}
	}
	if _, err := guardmodel.NewCascade(guardmodel.Escalation{}, nil); err == nil {
		t.Error("nil guard accepted")
	}
}
