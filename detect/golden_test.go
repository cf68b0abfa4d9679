package detect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/pii"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current verdicts")

// goldenVerdict is the part of a verdict the golden files pin down: what
// was flagged, with which score, by which rule, and where. Detector
// versions and view names are left out so that a list edit or a renamed
// normalize view does not churn every file; the matched text is included
// to make the files reviewable.
type goldenVerdict struct {
	Flagged    bool             `json:"flagged"`
	Categories []goldenCategory `json:"categories"`
	Findings   []goldenFinding  `json:"findings"`
}

type goldenCategory struct {
	Category string  `json:"category"`
	Score    float64 `json:"score"`
	Flagged  bool    `json:"flagged"`
}

type goldenFinding struct {
	Category string      `json:"category"`
	Detector string      `json:"detector"`
	Rule     string      `json:"rule"`
	Span     detect.Span `json:"span"`
	Match    string      `json:"match"`
}

// builtinLexicon is compiled once for all tests; detectors are immutable.
var builtinLexicon = sync.OnceValues(func() (*lexicon.Detector, error) { return lexicon.New() })

// newPipeline returns a fresh pipeline (tests may set its thresholds) over
// the built-in lexicon and the pii detector.
func newPipeline(t testing.TB) *detect.Pipeline {
	t.Helper()
	lex, err := builtinLexicon()
	if err != nil {
		t.Fatal(err)
	}
	return detect.NewPipeline(lex, pii.New())
}

func toGolden(text string, v *detect.Verdict) goldenVerdict {
	g := goldenVerdict{Flagged: v.Flagged, Categories: []goldenCategory{}, Findings: []goldenFinding{}}
	for _, c := range v.Categories {
		g.Categories = append(g.Categories, goldenCategory{string(c.Category), c.Score, c.Flagged})
	}
	for _, f := range v.Findings {
		g.Findings = append(g.Findings, goldenFinding{string(f.Category), f.Detector, f.Rule, f.Span, text[f.Span.Start:f.Span.End]})
	}
	return g
}

func TestGolden(t *testing.T) {
	p := newPipeline(t)
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Scan(context.Background(), string(text))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(toGolden(string(text), v), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			out := strings.TrimSuffix(in, ".txt") + ".json"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./detect -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("verdict for %s differs from %s (rerun with -update if intended):\n got %s\nwant %s", in, out, got, want)
			}
		})
	}
}
