// Package classifier is Warden's own safety classifier: a compact
// supervised model in pure Go that scores a text for P(unsafe) and for each
// of its hazard categories, and the detect.Detector that runs it over the
// normalized views of a document.
//
// The model is fastText-like. Text is split into words (letters and digits,
// lower-cased), single CJK characters (so Chinese needs no segmenter) and a
// few punctuation marks; each token contributes hashed features: the token,
// the bigram with the previous token, for words a skip-bigram with the token
// two back (the verb–object pairs of "make … a bomb") and a 5-rune prefix,
// for CJK characters, the trigram ending there. Words mixing letters with
// leetspeak digits are hashed as the letters they stand for, and (from
// feature version 2) traditional Chinese characters as their simplified
// forms, so text from Taiwan or Hong Kong reaches the same features. Training
// averages the features' embeddings over a window of tokens and feeds the
// average through a ReLU hidden layer to sigmoid heads: "unsafe" plus one
// per hazard category, the category heads trained on unsafe examples only
// (P(category | unsafe), so the top one names a borderline text's most
// likely harm rather than whichever head is least low). Because the
// average is linear, the shipped model stores every embedding already
// projected through the hidden layer, as int8: scoring a window is an
// int32 sum of table rows, one ReLU and a small output layer. Long texts
// are scored in overlapping 256-token windows, and documents over 1024
// tokens also in 32-token local windows; the maximum per head is kept, so
// a harmful passage inside a long benign document is not diluted. A local
// window's logits are lowered first (the model's LocalBias): the maximum
// over hundreds of short readings is noisy, and unlowered it flagged most
// long benign documents.
// Every head is Platt-calibrated on the dev split.
//
// The trained model is embedded in the binary (model/classifier.wcm); New
// loads it, Load reads any other model file. Training lives in
// detect/classifier/train and the data in detect/classifier/data.
package classifier

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

//go:embed model/classifier.wcm
var embedded []byte

// Name is the detector's name in findings.
const Name = "classifier"

// maxViews bounds how many distinct views of one document are scored.
const maxViews = 8

// minReport is the smallest category score reported besides the top one.
const minReport = 0.05

// Detector runs a Model over a document's views. It is safe for
// concurrent use.
type Detector struct {
	m *Model
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector over the model embedded in the binary.
func New() (*Detector, error) {
	return Load(bytes.NewReader(embedded))
}

// Load returns a detector over the model file read from r.
func Load(r io.Reader) (*Detector, error) {
	m, err := ReadModel(r)
	if err != nil {
		return nil, fmt.Errorf("load classifier: %w", err)
	}
	return NewDetector(m), nil
}

// NewDetector returns a detector over m.
func NewDetector(m *Model) *Detector { return &Detector{m: m} }

// Model returns the detector's model.
func (d *Detector) Model() *Model { return d.m }

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Version implements detect.Detector: the model file's SHA-256.
func (d *Detector) Version() string { return "sha256:" + d.m.digest }

// Predict scores text as given (no de-obfuscation views).
func (d *Detector) Predict(text string) Scores { return d.m.Predict(text) }

// Scan implements detect.Detector. It scores the document's views — the
// folded view in place of the original when there is one (the model
// lower-cases anyway), and every decoded or de-obfuscated view — keeping
// the maximum per head, and reports whole-text findings: always the top
// category (whose score is the calibrated P(unsafe)) and any other category
// scoring at least 0.05.
func (d *Detector) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	m := d.m
	nh := len(m.cfg.Heads)
	best := make([]float32, nh)
	for k := range best {
		best[k] = float32(math.Inf(-1))
	}
	bestView := make([]string, nh)
	raw := make([]float32, nh)
	hasFolded := false
	for _, v := range doc.Views {
		if v.Name == "folded" {
			hasFolded = true
		}
	}
	scored := make([]string, 0, 4)
	for i, v := range doc.Views {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		if i == 0 && hasFolded && v.Name == "original" {
			continue
		}
		dup := false
		for _, t := range scored {
			if t == v.Text {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if len(scored) == maxViews {
			break
		}
		scored = append(scored, v.Text)
		m.logits(v.Text, raw)
		for k, l := range raw {
			if l > best[k] {
				best[k], bestView[k] = l, v.Name
			}
		}
	}
	if len(scored) == 0 {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		m.logits(doc.Text, raw)
		copy(best, raw)
		for k := range bestView {
			bestView[k] = "original"
		}
	}
	s := m.scores(best)
	top, topScore := s.Top()
	for k := 1; k < nh; k++ {
		c := m.heads[k]
		sc := s.Categories[c]
		if c != top && sc < minReport {
			continue
		}
		if c == top {
			sc = topScore
		}
		dst = append(dst, detect.Finding{
			Category:    c,
			Score:       sc,
			Whole:       true,
			Detector:    Name,
			View:        bestView[0],
			Rule:        string(c),
			Explanation: fmt.Sprintf("classifier: %s %.2f", c, sc),
		})
	}
	return dst, nil
}

// Heads lists the model's category heads.
func (d *Detector) Heads() []hazard.Category { return append([]hazard.Category(nil), d.m.heads[1:]...) }
