// Package data reads the labelled text Warden's classifier is trained on.
//
// Each public dataset under a datasets directory (by default
// ../shared/datasets) has an adapter that reads its files in place and maps
// its own labels onto Warden's hazard categories; the project's own
// hand-written and templated examples (the own/ directory, embedded) fill the
// gaps the public sets leave. Everything comes out in one form, Example, is
// de-duplicated across sources by normalized text, capped per source, and
// split deterministically into train, dev and test by a hash of the
// normalized text. docs/data.md records every source, its licence and how its
// labels were mapped.
package data

import (
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/hazard"
)

// Example is one labelled text.
type Example struct {
	Text string `json:"text"`
	// Lang is "en" or "zh".
	Lang string `json:"lang"`
	// Labels are the hazard categories the text falls under. Empty with
	// Unsafe=false means the text is safe.
	Labels []hazard.Category `json:"labels,omitempty"`
	// Unsafe is true for unsafe text. It is always true when Labels is
	// non-empty; a few sources label rows unsafe without saying which
	// category (AdvBench, DangerousQA, ...), and those rows have Unsafe=true
	// and no Labels: the classifier's category heads learn nothing from them.
	Unsafe bool `json:"unsafe"`
	// Source names the dataset ("advbench", "own/harmful_en", ...).
	Source string `json:"source"`
	// Group is the role of the source: "harmful", "response", "injection",
	// "hate", "selfharm", "sexual", "benign", "hard_negative", "own".
	Group string `json:"group,omitempty"`
}

// Split is the partition an example falls in.
type Split int

// The partitions: 80% train, 10% dev (calibration and model selection),
// 10% test (reported, never tuned on).
const (
	Train Split = iota
	Dev
	Test
)

func (s Split) String() string {
	switch s {
	case Dev:
		return "dev"
	case Test:
		return "test"
	}
	return "train"
}

// Canonical is the normalized form used for de-duplication and splitting:
// normalize.Canonical (NFKC, lower case, invisible characters removed,
// look-alike letters read as ASCII) with runs of white space folded to one
// space and the ends trimmed.
func Canonical(s string) string {
	s = normalize.Canonical(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Hash is the 64-bit FNV-1a hash of the canonical text.
func Hash(canonical string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(canonical))
	return h.Sum64()
}

// SplitOf returns the partition of a text: bucket 0 of 10 is dev, bucket 1
// is test, the rest is train. It depends only on the canonical text, so a
// text and its exact duplicates always land in the same partition.
func SplitOf(text string) Split {
	switch Hash(Canonical(text)) % 10 {
	case 0:
		return Dev
	case 1:
		return Test
	}
	return Train
}

// DetectLang returns "zh" when at least a fifth of the letters in s are Han
// characters and "en" otherwise.
func DetectLang(s string) string {
	var han, letters int
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			han++
			letters++
		} else if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters > 0 && han*5 >= letters {
		return "zh"
	}
	return "en"
}
