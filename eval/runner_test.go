package eval_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/eval"
	"github.com/warden-safety/warden/hazard"
)

// table scorer: the score of a text is given by the test.
type tableScorer map[string]map[hazard.Category]float64

func (s tableScorer) Score(ctx context.Context, text string) (map[hazard.Category]float64, error) {
	if text == "fail" {
		return nil, errors.New("upstream down")
	}
	return s[text], nil
}

func ex(line int, text string, unsafe bool, cats ...hazard.Category) eval.Example {
	return eval.Example{Line: line, Text: text, Unsafe: unsafe, Categories: cats}
}

func TestUnsafeScoreIgnoresDataLeakCategories(t *testing.T) {
	s := eval.UnsafeScore(map[hazard.Category]float64{hazard.PII: 1, hazard.Secrets: 0.9, hazard.Hate: 0.3, hazard.PromptInjection: 0.4})
	if s != 0.4 {
		t.Fatalf("UnsafeScore = %v, want 0.4", s)
	}
}

func TestRunnerReport(t *testing.T) {
	sc := tableScorer{
		"a": {hazard.Hate: 0.9},
		"b": {hazard.Hate: 0.2, hazard.CBRNWeapons: 0.7},
		"c": {hazard.PII: 1},               // unsafe score 0
		"d": {hazard.PromptInjection: 0.6}, // false positive
		"e": {hazard.CyberAttacks: 0.8, hazard.CriticalInfrastructure: 0.8},
		"f": {},
	}
	exs := []eval.Example{
		ex(1, "a", true, hazard.Hate),
		ex(2, "b", true, hazard.Hate), // hate scored 0.2: category FN, overall TP via cbrn
		ex(3, "c", true),              // no categories: not in per-category metrics
		ex(4, "d", false),
		ex(5, "e", true, hazard.CriticalInfrastructure),
		ex(6, "f", false),
		ex(7, "fail", false),
	}
	var progress atomic.Int32
	r := eval.Runner{Scorer: sc, Workers: 3, Threshold: 0.5, Slowest: 2, Worst: 5, Progress: func(done, total int) { progress.Add(1) }}
	rep, err := r.Run(context.Background(), exs)
	if err != nil {
		t.Fatal(err)
	}
	if progress.Load() != 7 {
		t.Errorf("progress called %d times", progress.Load())
	}
	if rep.Failed != 1 || !strings.Contains(rep.FirstFailure, "line 7: upstream down") {
		t.Errorf("failed=%d first=%q", rep.Failed, rep.FirstFailure)
	}
	// Overall at 0.5: scores a .9 P, b .7 P, c 0 P, d .6 N, e .8 P, f 0 N.
	want := eval.Confusion{TP: 3, FN: 1, FP: 1, TN: 1}
	if rep.Overall.Confusion != want || rep.Positives != 4 || rep.Negatives != 2 {
		t.Errorf("overall %+v", rep.Overall)
	}
	// Ranking: .9P .8P .7P .6N 0P 0N → AP = 3/4·1 + 1/4·(4/6) = 11/12.
	if rep.Overall.AUPRC == nil || !near(*rep.Overall.AUPRC, 11.0/12) {
		t.Errorf("AUPRC %v", rep.Overall.AUPRC)
	}
	byCat := map[hazard.Category]eval.CategoryMetrics{}
	for _, c := range rep.Categories {
		byCat[c.Category] = c
	}
	if len(rep.Categories) != 3 {
		t.Errorf("categories %v", rep.Categories)
	}
	// hate: examples a(P .9), b(P .2), d(N 0), e(N 0), f(N 0).
	if h := byCat[hazard.Hate]; h.Confusion != (eval.Confusion{TP: 1, FN: 1, TN: 3}) || !near(*h.AUPRC, 1) {
		t.Errorf("hate %+v", h)
	}
	// Hate's best F1 is at 0.2, where both positives and no negative pass.
	if h := byCat[hazard.Hate]; h.BestF1 == nil || h.BestF1.Threshold != 0.2 || h.BestF1.F1 != 1 || len(h.Sweep) != 9 || h.Sweep[1].TP != 2 {
		t.Errorf("hate best F1 %+v sweep %+v", h.BestF1, h.Sweep)
	}
	// With two negatives, 1%, 3% and 5% all allow none: .9P .8P .7P pass,
	// .6N does not.
	if a := rep.Overall.AtFPR; len(a) != 3 || a[0].Threshold != 0.7 || a[0].TP != 3 || a[0].FP != 0 || a[2] != a[0] {
		t.Errorf("overall at FPR %+v", a)
	}
	if h := byCat[hazard.Hate]; len(h.AtFPR) != 3 || h.AtFPR[1].TP != 2 {
		t.Errorf("hate at FPR %+v", h.AtFPR)
	}
	if rep.Overall.Sweep != nil || rep.Overall.BestF1 == nil {
		t.Errorf("overall sweep belongs in Report.Sweep; best F1 %+v", rep.Overall.BestF1)
	}
	// cyber_attacks is counted through its child category.
	if c := byCat[hazard.CyberAttacks]; c.Positives != 1 || c.TP != 1 {
		t.Errorf("cyber %+v", c)
	}
	if len(rep.Sweep) != 9 || rep.Sweep[8].TP != 1 || rep.Sweep[0].TP != 3 {
		t.Errorf("sweep %+v", rep.Sweep)
	}
	if len(rep.FalsePositives) != 1 || rep.FalsePositives[0].Line != 4 || len(rep.FalseNegatives) != 1 || rep.FalseNegatives[0].Line != 3 {
		t.Errorf("misses fp=%+v fn=%+v", rep.FalsePositives, rep.FalseNegatives)
	}
	if len(rep.Slowest) != 2 || len(rep.Slowest[0].SHA256) != 12 {
		t.Errorf("slowest %+v", rep.Slowest)
	}
}

func TestRunnerWorstOrderAndTruncation(t *testing.T) {
	long := strings.Repeat("é", 300) + "\nX"
	sc := tableScorer{"n1": {hazard.Hate: 0.6}, "n2": {hazard.Hate: 0.95}, long: {hazard.Hate: 0.1}, "p2": {hazard.Hate: 0.3}}
	r := eval.Runner{Scorer: sc, Worst: 1, Threshold: 0.5}
	rep, err := r.Run(context.Background(), []eval.Example{ex(1, "n1", false), ex(2, "n2", false), ex(3, long, true), ex(4, "p2", true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.FalsePositives) != 1 || rep.FalsePositives[0].Line != 2 {
		t.Errorf("worst FP %+v", rep.FalsePositives)
	}
	if len(rep.FalseNegatives) != 1 || rep.FalseNegatives[0].Line != 3 {
		t.Fatalf("worst FN %+v", rep.FalseNegatives)
	}
	if txt := rep.FalseNegatives[0].Text; len([]rune(txt)) != eval.MissTextRunes+1 || strings.Contains(txt, "X") {
		t.Errorf("text not truncated: %d runes", len([]rune(txt)))
	}
}

func TestRunnerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	block := eval.ScorerFunc(func(ctx context.Context, text string) (map[hazard.Category]float64, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	exs := make([]eval.Example, 50)
	for i := range exs {
		exs[i] = ex(i+1, "x", false)
	}
	done := make(chan error, 1)
	go func() {
		_, err := (&eval.Runner{Scorer: block, Workers: 2}).Run(ctx, exs)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestRunnerRejectsBadThreshold(t *testing.T) {
	if _, err := (&eval.Runner{Scorer: tableScorer{}, Threshold: 1.5}).Run(context.Background(), nil); err == nil {
		t.Fatal("threshold 1.5 accepted")
	}
	_, err := (&eval.Runner{Scorer: tableScorer{}, Threshold: 0.5, FPRs: []float64{0.03, -0.1}}).Run(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "false-positive rate -0.1") {
		t.Fatalf("false-positive rate -0.1: %v", err)
	}
}

// keyword is a minimal detector so the runner is tested over a real
// detect.Pipeline.
type keyword struct{ word string }

func (k keyword) Name() string    { return "kw" }
func (k keyword) Version() string { return "1" }
func (k keyword) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	if i := strings.Index(doc.Text, k.word); i >= 0 {
		dst = append(dst, detect.Finding{Category: hazard.ViolentCrimes, Score: 0.9, Span: detect.Span{Start: i, End: i + len(k.word)},
			Detector: "kw", View: "original", Explanation: "keyword"})
	}
	if strings.Contains(doc.Text, "@") {
		dst = append(dst, detect.Finding{Category: hazard.PII, Score: 1, Detector: "kw", View: "original", Whole: true, Explanation: "at"})
	}
	return dst, nil
}

func TestPipelineScorer(t *testing.T) {
	p := detect.NewPipeline(keyword{"stab"})
	r := eval.Runner{Scorer: eval.PipelineScorer(p), Threshold: detect.DefaultThreshold}
	rep, err := r.Run(context.Background(), []eval.Example{
		ex(1, "how to stab someone", true, hazard.ViolentCrimes),
		ex(2, "mail me at a@b.c", false),
		ex(3, "bake bread", false),
		ex(4, "kill him", true, hazard.ViolentCrimes),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Overall.Confusion != (eval.Confusion{TP: 1, FN: 1, TN: 2}) {
		t.Fatalf("overall %+v", rep.Overall.Confusion)
	}
}
