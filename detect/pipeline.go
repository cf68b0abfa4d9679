package detect

import (
	"context"
	"fmt"
	"slices"

	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/hazard"
)

// DefaultThreshold is the score at or above which a category is flagged
// when the pipeline has no threshold of its own for it.
const DefaultThreshold = 0.5

// Pipeline runs detectors over the normalized views of a text. The zero
// value scans with no detectors; a Pipeline is safe for concurrent use once
// built and must not be modified afterwards.
type Pipeline struct {
	Detectors []Detector
	// Normalize bounds the de-obfuscation.
	Normalize normalize.Options
	// Thresholds per category; categories not listed use DefaultThreshold.
	Thresholds map[hazard.Category]float64
}

// NewPipeline returns a pipeline over the given detectors with default
// bounds and thresholds.
func NewPipeline(ds ...Detector) *Pipeline { return &Pipeline{Detectors: ds} }

// Threshold returns the flagging threshold for c.
func (p *Pipeline) Threshold(c hazard.Category) float64 {
	if t, ok := p.Thresholds[c]; ok {
		return t
	}
	return DefaultThreshold
}

// Info lists the detectors and their versions.
func (p *Pipeline) Info() []DetectorInfo {
	out := make([]DetectorInfo, len(p.Detectors))
	for i, d := range p.Detectors {
		out[i] = DetectorInfo{Name: d.Name(), Version: d.Version()}
	}
	return out
}

// NewDocument normalizes text into its views.
func (p *Pipeline) NewDocument(text string) *Document {
	return &Document{Text: text, Views: normalize.Views(text, p.Normalize)}
}

// Scan normalizes text, runs every detector and combines the findings.
// A detector error is recorded in the verdict (Verdict.Errors) and returned
// as a *ScanError alongside the partial verdict, so callers can apply their
// fail mode; a cancelled context returns ctx.Err().
func (p *Pipeline) Scan(ctx context.Context, text string) (*Verdict, error) {
	return p.ScanDocument(ctx, p.NewDocument(text))
}

// ScanDocument is Scan over an already normalized document.
func (p *Pipeline) ScanDocument(ctx context.Context, doc *Document) (*Verdict, error) {
	v := &Verdict{Bytes: len(doc.Text), Detectors: p.Info()}
	var findings []Finding
	var errs []DetectorError
	for _, d := range p.Detectors {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		findings, err = d.Scan(ctx, doc, findings)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, DetectorError{Detector: d.Name(), Error: err.Error()})
		}
	}
	p.combine(v, findings)
	v.Errors = errs
	if len(errs) > 0 {
		return v, &ScanError{Errors: errs}
	}
	return v, nil
}

// Combine builds a verdict from findings gathered elsewhere (for example
// across the parts of a chat request), applying this pipeline's thresholds.
func (p *Pipeline) Combine(textBytes int, findings []Finding) *Verdict {
	v := &Verdict{Bytes: textBytes, Detectors: p.Info()}
	p.combine(v, findings)
	return v
}

func (p *Pipeline) combine(v *Verdict, findings []Finding) {
	findings = dedupe(findings)
	v.Findings = findings
	if len(findings) == 0 {
		return
	}
	// best[i] is 1 + the index of the strongest finding for category i
	// (directly or through a sub-category); 0 means none.
	best := make([]int32, hazard.Count)
	add := func(c hazard.Category, fi int) {
		i := hazard.Index(c)
		if i < 0 {
			return
		}
		if b := best[i]; b == 0 || findings[fi].Score > findings[b-1].Score {
			best[i] = int32(fi + 1)
		}
	}
	for fi := range findings {
		c := findings[fi].Category
		add(c, fi)
		for _, a := range c.Ancestors() {
			add(a, fi)
		}
	}
	all := hazard.All()
	for i, b := range best {
		if b == 0 {
			continue
		}
		f := &findings[b-1]
		id := all[i].ID
		s := clamp01(f.Score)
		t := p.Threshold(id)
		r := CategoryResult{Category: id, Score: s, Threshold: t, Flagged: s >= t, Explanation: f.Explanation}
		if f.Category != id {
			r.Explanation = fmt.Sprintf("via %s: %s", f.Category, f.Explanation)
		}
		if r.Flagged {
			v.Flagged = true
		}
		v.Categories = append(v.Categories, r)
	}
}

// dedupe drops repeated findings of the same category, detector and span
// (the same term found in several views), keeping the first view that
// revealed it (views are ordered from least to most derived), and sorts
// findings by position.
func dedupe(fs []Finding) []Finding {
	if len(fs) == 0 {
		return fs
	}
	same := func(a, b *Finding) bool {
		return a.Span == b.Span && a.Whole == b.Whole && a.Category == b.Category && a.Rule == b.Rule && a.Detector == b.Detector
	}
	out := fs[:0]
	if len(fs) <= 32 {
		// Few findings (the usual case): compare directly, no map.
	next:
		for _, f := range fs {
			for i := range out {
				if same(&out[i], &f) {
					out[i].Score = max(out[i].Score, f.Score)
					continue next
				}
			}
			out = append(out, f)
		}
	} else {
		type key struct {
			c       hazard.Category
			d, rule string
			s       Span
			whole   bool
		}
		seen := make(map[key]int, len(fs))
		for _, f := range fs {
			k := key{f.Category, f.Detector, f.Rule, f.Span, f.Whole}
			if i, ok := seen[k]; ok {
				out[i].Score = max(out[i].Score, f.Score)
				continue
			}
			seen[k] = len(out)
			out = append(out, f)
		}
	}
	byPos := func(a, b Finding) int {
		if a.Span.Start != b.Span.Start {
			return a.Span.Start - b.Span.Start
		}
		return a.Span.End - b.Span.End
	}
	if !slices.IsSortedFunc(out, byPos) {
		slices.SortStableFunc(out, byPos)
	}
	return out
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// ScanError reports detectors that failed during a scan.
type ScanError struct{ Errors []DetectorError }

func (e *ScanError) Error() string {
	if len(e.Errors) == 1 {
		return fmt.Sprintf("detector %s failed: %s", e.Errors[0].Detector, e.Errors[0].Error)
	}
	return fmt.Sprintf("%d detectors failed; first: %s: %s", len(e.Errors), e.Errors[0].Detector, e.Errors[0].Error)
}
