// Package detect turns text into a Verdict: per hazard category a score in
// [0,1], a flag, the spans of the ORIGINAL text that caused it, which detector
// and which de-obfuscated view found them, and a one-line explanation.
//
// A Pipeline normalizes the text once (package normalize) into a Document of
// views, runs every Detector over it, and combines their findings. Detectors
// are small and independent: lexicon (curated term lists), pii (personal data
// and secrets), classifier (Warden's trained model) and guardmodel (an
// escalation to a large guard model) all implement the same interface, so
// the gateway, `warden check`, the moderation API and the red-team harness
// all see the same verdicts. Scanning is deterministic: the same text and the
// same detectors always give the same verdict.
package detect

import (
	"context"

	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/hazard"
)

// Span is a byte range [Start, End) of the original text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Finding is one piece of evidence for a category.
type Finding struct {
	Category hazard.Category `json:"category"`
	// Score in [0,1]: how sure the detector is. Lexicon and pii findings are
	// high-precision and score near 1; the classifier's scores are calibrated
	// probabilities.
	Score float64 `json:"score"`
	// Span in the original text; the zero Span with Whole=true means the
	// finding is about the text as a whole (a classifier score).
	Span  Span `json:"span"`
	Whole bool `json:"whole,omitempty"`
	// Detector is the name of the detector that found it.
	Detector string `json:"detector"`
	// View names the de-obfuscated view it was found in ("original",
	// "folded", "base64>rot13", ...).
	View string `json:"view"`
	// Rule identifies what matched: a lexicon term ID, a PII type such as
	// "EMAIL", a model head. Never the matched text itself.
	Rule string `json:"rule,omitempty"`
	// Explanation is one human-readable line. It must not quote the text.
	Explanation string `json:"explanation"`
}

// Document is the text under scan and its views, computed once per scan and
// shared (read-only) by every detector.
type Document struct {
	// Text is the original text.
	Text string
	// Views holds the original text first, then the derived views.
	Views []normalize.View
}

// Detector finds evidence of hazards in a document.
//
// Scan must be safe for concurrent use, must not modify doc, must honour ctx
// (returning ctx.Err() when it is done), and must be deterministic. It
// appends its findings to dst and returns the extended slice; spans in the
// findings point into doc.Text (use View.Original to map them).
type Detector interface {
	Name() string
	// Version identifies the detector's code and data (term-list version,
	// model digest) so audit records can say exactly what decided.
	Version() string
	Scan(ctx context.Context, doc *Document, dst []Finding) ([]Finding, error)
}

// DetectorInfo names a detector and its version.
type DetectorInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// CategoryResult is the combined result for one category.
type CategoryResult struct {
	Category    hazard.Category `json:"category"`
	Score       float64         `json:"score"`
	Flagged     bool            `json:"flagged"`
	Threshold   float64         `json:"threshold"`
	Explanation string          `json:"explanation,omitempty"`
}

// DetectorError records a detector that failed. A failed detector never
// silently passes content: the caller's policy decides (fail closed by
// default).
type DetectorError struct {
	Detector string `json:"detector"`
	Error    string `json:"error"`
}

// Verdict is the pipeline's answer for one text.
type Verdict struct {
	Flagged bool `json:"flagged"`
	// Categories holds one entry per category with a non-zero score, in the
	// order of hazard.All().
	Categories []CategoryResult `json:"categories"`
	Findings   []Finding        `json:"findings"`
	Detectors  []DetectorInfo   `json:"detectors"`
	Errors     []DetectorError  `json:"errors,omitempty"`
	// Bytes is the length of the scanned text.
	Bytes int `json:"bytes"`
}

// Score returns the combined score for c (0 when absent).
func (v *Verdict) Score(c hazard.Category) float64 {
	for _, r := range v.Categories {
		if r.Category == c {
			return r.Score
		}
	}
	return 0
}

// Category returns the result for c.
func (v *Verdict) Category(c hazard.Category) (CategoryResult, bool) {
	for _, r := range v.Categories {
		if r.Category == c {
			return r, true
		}
	}
	return CategoryResult{}, false
}

// FlaggedCategories lists the flagged categories in report order.
func (v *Verdict) FlaggedCategories() []hazard.Category {
	var out []hazard.Category
	for _, r := range v.Categories {
		if r.Flagged {
			out = append(out, r.Category)
		}
	}
	return out
}
