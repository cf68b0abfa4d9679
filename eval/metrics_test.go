package eval_test

import (
	"math"
	"testing"

	"github.com/warden-safety/warden/eval"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestConfusionMeasures(t *testing.T) {
	tests := []struct {
		name          string
		c             eval.Confusion
		p, r, f1, fpr float64
		acc           float64
	}{
		// P = 3/4, R = 3/5, F1 = 2·3/(2·3+1+2) = 6/9, FPR = 1/5.
		{"mixed", eval.Confusion{TP: 3, FP: 1, TN: 4, FN: 2}, 0.75, 0.6, 6.0 / 9, 0.2, 0.7},
		{"perfect", eval.Confusion{TP: 5, TN: 5}, 1, 1, 1, 0, 1},
		{"nothing predicted", eval.Confusion{TN: 3, FN: 2}, 0, 0, 0, 0, 0.6},
		{"no positives", eval.Confusion{FP: 2, TN: 2}, 0, 0, 0, 0.5, 0.5},
		{"empty", eval.Confusion{}, 0, 0, 0, 0, 0},
		// P = 1/3, R = 1/2: F1 = 2·(1/6)/(5/6) = 0.4.
		{"harmonic", eval.Confusion{TP: 1, FP: 2, FN: 1}, 1.0 / 3, 0.5, 0.4, 1, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			if !near(c.Precision(), tt.p) || !near(c.Recall(), tt.r) || !near(c.F1(), tt.f1) || !near(c.FPR(), tt.fpr) || !near(c.Accuracy(), tt.acc) {
				t.Errorf("got P=%v R=%v F1=%v FPR=%v Acc=%v, want %v %v %v %v %v",
					c.Precision(), c.Recall(), c.F1(), c.FPR(), c.Accuracy(), tt.p, tt.r, tt.f1, tt.fpr, tt.acc)
			}
		})
	}
}

func TestAtCountsScoreAtThresholdAsPositive(t *testing.T) {
	scores := []float64{0.9, 0.5, 0.5, 0.2, 0.7}
	labels := []bool{true, true, false, false, false}
	got := eval.At(scores, labels, 0.5)
	want := eval.Confusion{TP: 2, FP: 2, TN: 1, FN: 0}
	if got != want {
		t.Fatalf("At(0.5) = %+v, want %+v", got, want)
	}
	if got := eval.At(scores, labels, 0.95); got != (eval.Confusion{TN: 3, FN: 2}) {
		t.Fatalf("At(0.95) = %+v", got)
	}
}

func TestAveragePrecision(t *testing.T) {
	T, F := true, false
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
		ok     bool
	}{
		// Thresholds 0.9 (R 1/3, P 1), 0.8 (R unchanged), 0.7 (R 2/3, P 2/3),
		// 0.6 (R 1, P 3/4): 1/3 + 2/9 + 1/4 = 29/36.
		{"distinct", []float64{0.9, 0.8, 0.7, 0.6, 0.2}, []bool{T, F, T, T, F}, 29.0 / 36, true},
		// The same data in another order gives the same AP.
		{"order does not matter", []float64{0.2, 0.6, 0.8, 0.9, 0.7}, []bool{F, T, F, T, T}, 29.0 / 36, true},
		// A tie of one positive and one negative is one threshold with
		// precision 1/2, whichever comes first in the input.
		{"tie positive first", []float64{0.5, 0.5}, []bool{T, F}, 0.5, true},
		{"tie negative first", []float64{0.5, 0.5}, []bool{F, T}, 0.5, true},
		// 0.9 (R 1/3, P 1), tie at 0.5 (R 2/3, P 2/4), 0.1 (R 1, P 3/5):
		// 1/3 + 1/6 + 1/5 = 0.7.
		{"tie in the middle", []float64{0.9, 0.5, 0.5, 0.5, 0.1}, []bool{T, F, T, F, T}, 0.7, true},
		{"all tied is prevalence", []float64{0.3, 0.3, 0.3, 0.3}, []bool{T, F, F, F}, 0.25, true},
		{"perfect ranking", []float64{0.9, 0.8, 0.1}, []bool{T, T, F}, 1, true},
		// Worst ranking: positive last: P at its threshold = 1/3.
		{"worst ranking", []float64{0.9, 0.8, 0.1}, []bool{F, F, T}, 1.0 / 3, true},
		{"no positives", []float64{0.9, 0.1}, []bool{F, F}, 0, false},
		{"empty", nil, nil, 0, false},
		// NaN ranks below every score.
		{"nan lowest", []float64{math.NaN(), 0.1}, []bool{F, T}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := eval.AveragePrecision(tt.scores, tt.labels)
			if ok != tt.ok || !near(got, tt.want) {
				t.Fatalf("AveragePrecision = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	T, F := true, false
	scores := []float64{0.95, 0.65, 0.35, 0.15, 0.55, 0.05}
	labels := []bool{T, T, T, F, F, F}
	pts := eval.Sweep(scores, labels, []float64{0.1, 0.5, 0.9})
	want := []eval.Confusion{
		{TP: 3, FP: 2, TN: 1, FN: 0}, // >= 0.1
		{TP: 2, FP: 1, TN: 2, FN: 1}, // >= 0.5
		{TP: 1, FP: 0, TN: 3, FN: 2}, // >= 0.9
	}
	for i, p := range pts {
		if p.Confusion != want[i] {
			t.Errorf("threshold %v: %+v, want %+v", p.Threshold, p.Confusion, want[i])
		}
	}
	if p := pts[1]; !near(p.Precision, 2.0/3) || !near(p.Recall, 2.0/3) || !near(p.F1, 2.0/3) || !near(p.FPR, 1.0/3) {
		t.Errorf("point at 0.5 = %+v", p)
	}
	d := eval.DefaultSweep()
	if len(d) != 9 || !near(d[0], 0.1) || !near(d[8], 0.9) {
		t.Errorf("DefaultSweep = %v", d)
	}
}

func TestBestF1(t *testing.T) {
	T, F := true, false
	// Thresholds: 0.9 → TP1 FP0 FN2: F1 2/4 = 0.5; 0.8 → TP1 FP1 FN2: 2/5;
	// 0.7 → TP2 FP1 FN1: 4/6; 0.6 → TP3 FP1: 6/7 (best); 0.2 → TP3 FP2: 6/8.
	p, ok := eval.BestF1([]float64{0.9, 0.8, 0.7, 0.6, 0.2}, []bool{T, F, T, T, F})
	if !ok || p.Threshold != 0.6 || !near(p.F1, 6.0/7) || p.Confusion != (eval.Confusion{TP: 3, FP: 1, TN: 1}) {
		t.Fatalf("BestF1 = %+v, %v", p, ok)
	}
	// Equal F1: the higher threshold wins. 0.9 → TP1 FN1: 2/3; 0.5 → TP2 FP2: 4/6.
	p, _ = eval.BestF1([]float64{0.9, 0.5, 0.5, 0.5}, []bool{T, T, F, F})
	if p.Threshold != 0.9 {
		t.Fatalf("tie: %+v", p)
	}
	if _, ok := eval.BestF1([]float64{0.3}, []bool{F}); ok {
		t.Fatal("no positives gave a point")
	}
	// A positive with a NaN score is never reached by a threshold.
	p, _ = eval.BestF1([]float64{math.NaN(), 0.4}, []bool{T, F})
	if p.Threshold != 0.4 || p.F1 != 0 {
		t.Fatalf("nan: %+v", p)
	}
}

func TestAtFPR(t *testing.T) {
	T, F := true, false
	// Ten negatives, four positives. Negatives at 0.95, 0.5 and eight at 0.1;
	// positives at 0.9, 0.8, 0.5, 0.05.
	scores := []float64{0.95, 0.9, 0.8, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05}
	labels := []bool{F, T, T, T, F, F, F, F, F, F, F, F, F, T}
	tests := []struct {
		fpr       float64
		threshold float64
		c         eval.Confusion
	}{
		// No negative may be flagged: nothing is, the threshold sits just
		// above the top score.
		{0, math.Nextafter(0.95, 1), eval.Confusion{FN: 4, TN: 10}},
		// One negative (10%) may be flagged: 0.8 catches two positives; 0.5
		// would flag a second negative.
		{0.1, 0.8, eval.Confusion{TP: 2, FP: 1, TN: 9, FN: 2}},
		{0.15, 0.8, eval.Confusion{TP: 2, FP: 1, TN: 9, FN: 2}},
		// Two: the tied pair at 0.5 comes in whole.
		{0.2, 0.5, eval.Confusion{TP: 3, FP: 2, TN: 8, FN: 1}},
		// Everything.
		{1, 0.05, eval.Confusion{TP: 4, FP: 10}},
	}
	for _, tt := range tests {
		p, ok := eval.AtFPR(scores, labels, tt.fpr)
		if !ok || p.Threshold != tt.threshold || p.Confusion != tt.c || p.FPR > tt.fpr || !near(p.Recall, tt.c.Recall()) {
			t.Errorf("AtFPR(%v) = %+v, %v; want threshold %v, %+v", tt.fpr, p, ok, tt.threshold, tt.c)
		}
	}
	if _, ok := eval.AtFPR([]float64{0.3}, []bool{F}, 0.1); ok {
		t.Error("no positives gave a point")
	}
	if _, ok := eval.AtFPR([]float64{0.3}, []bool{T}, 0.1); ok {
		t.Error("no negatives gave a point")
	}
	// A NaN score is never reached by a threshold.
	p, _ := eval.AtFPR([]float64{math.NaN(), 0.4}, []bool{T, F}, 1)
	if p.Threshold != 0.4 || p.TP != 0 || p.FP != 1 {
		t.Errorf("nan: %+v", p)
	}
}
