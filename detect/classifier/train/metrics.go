package train

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/warden-safety/warden/detect/classifier"
	"github.com/warden-safety/warden/detect/classifier/data"
	"github.com/warden-safety/warden/eval"
	"github.com/warden-safety/warden/hazard"
)

// Counts is a binary confusion matrix with the usual rates.
type Counts struct {
	TP, FP, FN, TN int
}

// Add records one prediction.
func (c *Counts) Add(truth, pred bool) {
	switch {
	case truth && pred:
		c.TP++
	case truth:
		c.FN++
	case pred:
		c.FP++
	default:
		c.TN++
	}
}

// N is the number of examples.
func (c Counts) N() int { return c.TP + c.FP + c.FN + c.TN }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Precision, Recall, F1 and FPR (false-positive rate on the negatives).
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }
func (c Counts) Recall() float64    { return ratio(c.TP, c.TP+c.FN) }
func (c Counts) FPR() float64       { return ratio(c.FP, c.FP+c.TN) }
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Report holds metrics of a model on a set of examples at one threshold.
type Report struct {
	Threshold float64
	// Unsafe is unsafe-vs-safe on every example (score = P(unsafe)).
	Unsafe Counts
	// ByLang, BySource and ByGroup slice the unsafe-vs-safe counts.
	ByLang   map[string]*Counts
	BySource map[string]*Counts
	ByGroup  map[string]*Counts
	// HardNegatives is every safe example from a hard-negative source.
	HardNegatives Counts
	// Benign is every safe example.
	Benign Counts
	// Public is unsafe-vs-safe on the rows of public datasets only (not
	// the project's own/ rows), with its AUPRC in APPublic: the slice that
	// stays the same when the own data changes, so models trained on
	// different own data can be compared on it.
	Public   Counts
	APPublic float64
	// AP is the average precision (area under the precision–recall curve)
	// of P(unsafe) for unsafe-vs-safe, from package eval; APByLang per
	// language.
	AP       float64
	APByLang map[string]float64
	// ByCategory: truth = the example carries the category (after head
	// folding), prediction = the category's score ≥ threshold; rows whose
	// categories are unknown are left out.
	ByCategory map[hazard.Category]*Counts
}

// Evaluate scores examples with m and counts outcomes at threshold t.
func Evaluate(ctx context.Context, m *classifier.Model, ex []data.Example, t float64, workers int) (*Report, error) {
	scores := make([]classifier.Scores, len(ex))
	if workers <= 0 {
		workers = 1
	}
	if err := parallel(ctx, len(ex), workers, func(i int) { scores[i] = m.Predict(ex[i].Text) }); err != nil {
		return nil, err
	}
	return Count(m.Config(), ex, scores, t), nil
}

// Count builds a report from precomputed scores.
func Count(cfg classifier.Config, ex []data.Example, scores []classifier.Scores, t float64) *Report {
	r := &Report{Threshold: t, ByLang: map[string]*Counts{}, BySource: map[string]*Counts{},
		ByGroup: map[string]*Counts{}, ByCategory: map[hazard.Category]*Counts{}}
	get := func(m map[string]*Counts, k string) *Counts {
		c := m[k]
		if c == nil {
			c = &Counts{}
			m[k] = c
		}
		return c
	}
	all := make([]float64, len(ex))
	labels := make([]bool, len(ex))
	var pubScores []float64
	var pubLabels []bool
	byLang := map[string][2][]float64{}
	langLab := map[string][]bool{}
	for i, e := range ex {
		all[i], labels[i] = scores[i].Unsafe, e.Unsafe
		v := byLang[e.Lang]
		v[0] = append(v[0], scores[i].Unsafe)
		byLang[e.Lang] = v
		langLab[e.Lang] = append(langLab[e.Lang], e.Unsafe)
		if e.Group != "own" {
			pubScores, pubLabels = append(pubScores, scores[i].Unsafe), append(pubLabels, e.Unsafe)
		}
	}
	r.AP, _ = eval.AveragePrecision(all, labels)
	r.APPublic, _ = eval.AveragePrecision(pubScores, pubLabels)
	r.APByLang = map[string]float64{}
	for l, v := range byLang {
		r.APByLang[l], _ = eval.AveragePrecision(v[0], langLab[l])
	}
	// A category's truth counts every safe row as a negative, also where
	// the heads were trained on unsafe rows only (CondHeads).
	truthCfg := cfg
	truthCfg.CondHeads = false
	for i, e := range ex {
		s := scores[i]
		pred := s.Unsafe >= t
		r.Unsafe.Add(e.Unsafe, pred)
		get(r.ByLang, e.Lang).Add(e.Unsafe, pred)
		get(r.BySource, e.Source).Add(e.Unsafe, pred)
		get(r.ByGroup, e.Group).Add(e.Unsafe, pred)
		if e.Group != "own" {
			r.Public.Add(e.Unsafe, pred)
		}
		if !e.Unsafe {
			r.Benign.Add(false, pred)
			if e.Group == "hard_negative" {
				r.HardNegatives.Add(false, pred)
			}
		}
		y, mask := Targets(truthCfg, e)
		for k := 1; k < len(cfg.Heads); k++ {
			if mask[k] == 0 {
				continue
			}
			c := hazard.Category(cfg.Heads[k])
			cc := r.ByCategory[c]
			if cc == nil {
				cc = &Counts{}
				r.ByCategory[c] = cc
			}
			cc.Add(y[k] == 1, s.Categories[c] >= t)
		}
	}
	return r
}

func line(w io.Writer, name string, c Counts) {
	fmt.Fprintf(w, "| %s | %d | %d | %.3f | %.3f | %.3f | %.3f |\n", name, c.N(), c.TP+c.FN, c.Precision(), c.Recall(), c.F1(), c.FPR())
}

// WriteMarkdown writes the report as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Threshold %.2f on calibrated P(unsafe). Average precision (AUPRC) of P(unsafe): %.3f", r.Threshold, r.AP)
	for _, l := range []string{"en", "zh"} {
		if ap, ok := r.APByLang[l]; ok {
			fmt.Fprintf(w, ", %s %.3f", l, ap)
		}
	}
	fmt.Fprintf(w, "; public sources only (not own/) %.3f.\n\n", r.APPublic)
	fmt.Fprintln(w, "| slice | n | unsafe | precision | recall | F1 | FPR |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	line(w, "**all**", r.Unsafe)
	line(w, "benign (all safe rows)", r.Benign)
	line(w, "benign hard negatives", r.HardNegatives)
	line(w, "public sources only (not own/)", r.Public)
	for _, k := range sortedKeys(r.ByLang) {
		line(w, "lang "+k, *r.ByLang[k])
	}
	for _, k := range sortedKeys(r.ByGroup) {
		line(w, "group "+k, *r.ByGroup[k])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per category (truth: the row carries the category; rows of unknown category left out):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| category | n | positives | precision | recall | F1 | FPR |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	var cats []string
	for c := range r.ByCategory {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		line(w, c, *r.ByCategory[hazard.Category(c)])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Per source:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| source | n | unsafe | precision | recall | F1 | FPR |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, k := range sortedKeys(r.BySource) {
		line(w, k, *r.BySource[k])
	}
}

func sortedKeys(m map[string]*Counts) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
