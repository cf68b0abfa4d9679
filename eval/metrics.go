// Package eval measures how well a scorer separates unsafe from safe text:
// the pure metrics (confusion counts, precision, recall, F1, false-positive
// rate, area under the precision-recall curve as average precision, a
// threshold sweep), a reader for labelled JSONL files, and a Runner that
// scores every example with any Scorer in parallel and builds a Report
// overall and per hazard category. `warden eval` and the red-team harness
// are thin wrappers around it.
package eval

import (
	"cmp"
	"math"
	"slices"
)

// Confusion counts the outcomes of a binary decision.
type Confusion struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

// Add counts one decision: predicted is the decision, actual the label.
func (c *Confusion) Add(predicted, actual bool) {
	switch {
	case predicted && actual:
		c.TP++
	case predicted && !actual:
		c.FP++
	case !predicted && actual:
		c.FN++
	default:
		c.TN++
	}
}

// Total is the number of decisions counted.
func (c Confusion) Total() int { return c.TP + c.FP + c.TN + c.FN }

// Precision is TP/(TP+FP); it is 0 when nothing was predicted positive
// (no prediction, so no correct prediction).
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), the true-positive rate; 0 when there are no
// positives.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall, 0 when both are 0.
func (c Confusion) F1() float64 {
	// 2TP/(2TP+FP+FN) equals 2PR/(P+R) and avoids rounding twice.
	return ratio(2*c.TP, 2*c.TP+c.FP+c.FN)
}

// FPR is the false-positive rate FP/(FP+TN); 0 when there are no negatives.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// Accuracy is (TP+TN)/total.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.Total()) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// At counts the decisions "score >= threshold" against labels.
// scores and labels must have the same length.
func At(scores []float64, labels []bool, threshold float64) Confusion {
	var c Confusion
	for i, s := range scores {
		c.Add(s >= threshold, labels[i])
	}
	return c
}

// AveragePrecision is the area under the precision-recall curve computed as
// average precision: AP = Σ_k (R_k − R_{k−1})·P_k over the distinct score
// thresholds k in decreasing order, where P_k and R_k are the precision and
// recall of "score >= threshold_k". Examples with equal scores are one
// threshold, so ties are neither rewarded nor punished by their order in the
// input (the definition scikit-learn's average_precision_score uses). ok is
// false when there are no positives, where AP is undefined. NaN scores are
// treated as the lowest score.
func AveragePrecision(scores []float64, labels []bool) (ap float64, ok bool) {
	// Order within a group of equal scores does not matter: the group is
	// consumed whole.
	items, positives := ranked(scores, labels)
	if positives == 0 {
		return 0, false
	}
	tp, fp := 0, 0
	prevRecall := 0.0
	for i := 0; i < len(items); {
		s := items[i].s
		for ; i < len(items) && items[i].s == s; i++ {
			if items[i].pos {
				tp++
			} else {
				fp++
			}
		}
		recall := float64(tp) / float64(positives)
		if recall > prevRecall {
			ap += (recall - prevRecall) * float64(tp) / float64(tp+fp)
			prevRecall = recall
		}
	}
	return ap, true
}

// scored is one example of a ranking: its score (NaN read as -Inf) and
// whether it is a positive.
type scored struct {
	s   float64
	pos bool
}

// ranked returns the examples ordered by decreasing score (equal scores in
// any order) and the number of positives.
func ranked(scores []float64, labels []bool) ([]scored, int) {
	items := make([]scored, len(scores))
	positives := 0
	for i, s := range scores {
		items[i] = scored{key(s), labels[i]}
		if labels[i] {
			positives++
		}
	}
	slices.SortFunc(items, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
	return items, positives
}

// key orders NaN below every number.
func key(s float64) float64 {
	if math.IsNaN(s) {
		return math.Inf(-1)
	}
	return s
}

// Point is the operating point of one threshold.
type Point struct {
	Threshold float64 `json:"threshold"`
	Confusion
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	FPR       float64 `json:"fpr"`
}

// PointAt computes the operating point of threshold.
func PointAt(scores []float64, labels []bool, threshold float64) Point {
	c := At(scores, labels, threshold)
	return Point{Threshold: threshold, Confusion: c, Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(), FPR: c.FPR()}
}

// Sweep returns the operating point at each threshold, in the order given.
func Sweep(scores []float64, labels []bool, thresholds []float64) []Point {
	out := make([]Point, len(thresholds))
	for i, t := range thresholds {
		out[i] = PointAt(scores, labels, t)
	}
	return out
}

// BestF1 returns the operating point with the highest F1 among the
// thresholds equal to a score in the data (the only thresholds where the
// confusion changes); ties go to the higher threshold, which flags less.
// ok is false when there are no positives.
func BestF1(scores []float64, labels []bool) (best Point, ok bool) {
	items, positives := ranked(scores, labels)
	if positives == 0 {
		return Point{}, false
	}
	var c Confusion
	c.FN, c.TN = positives, len(items)-positives
	bestF1 := -1.0
	for i := 0; i < len(items); {
		s := items[i].s
		for ; i < len(items) && items[i].s == s; i++ {
			if items[i].pos {
				c.TP++
				c.FN--
			} else {
				c.FP++
				c.TN--
			}
		}
		if f := c.F1(); f > bestF1 && !math.IsInf(s, -1) {
			bestF1 = f
			best = Point{Threshold: s, Confusion: c, Precision: c.Precision(), Recall: c.Recall(), F1: f, FPR: c.FPR()}
		}
	}
	return best, bestF1 >= 0
}

// DefaultFPRs are the false-positive rates at which a report gives the
// recall (AtFPR): 1%, 3% and 5%.
func DefaultFPRs() []float64 { return []float64{0.01, 0.03, 0.05} }

// DefaultSweep is 0.1, 0.2, …, 0.9.
func DefaultSweep() []float64 {
	out := make([]float64, 9)
	for i := range out {
		out[i] = float64(i+1) / 10
	}
	return out
}

// AtFPR returns the operating point with the highest recall whose
// false-positive rate is at most maxFPR: the lowest threshold, among the
// scores seen, that flags no more than maxFPR of the negatives. It answers
// "how much of the unsafe text does this scorer catch if I can afford to
// flag 3% of the safe text?", which compares scorers whose calibration
// differs. When even the highest score flags too many negatives, the point
// is the threshold just above it (nothing flagged). ok is false when there
// are no positives or no negatives.
func AtFPR(scores []float64, labels []bool, maxFPR float64) (best Point, ok bool) {
	items, positives := ranked(scores, labels)
	negatives := len(items) - positives
	if positives == 0 || negatives == 0 {
		return Point{}, false
	}
	var c Confusion
	c.FN, c.TN = positives, negatives
	best = Point{Threshold: math.Nextafter(items[0].s, math.Inf(1)), Confusion: c}
	for i := 0; i < len(items); {
		s := items[i].s
		next := c
		for ; i < len(items) && items[i].s == s; i++ {
			if items[i].pos {
				next.TP++
				next.FN--
			} else {
				next.FP++
				next.TN--
			}
		}
		if next.FPR() > maxFPR || math.IsInf(s, -1) {
			break
		}
		c = next
		best = Point{Threshold: s, Confusion: c, Precision: c.Precision(), Recall: c.Recall(), F1: c.F1(), FPR: c.FPR()}
	}
	return best, true
}
