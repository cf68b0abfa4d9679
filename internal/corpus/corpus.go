// Package corpus gives tests the texts they run detectors over: the
// classifier's evaluation sets, the public datasets as training reads
// them, and long documents joined from them. Only tests import it.
package corpus

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect/classifier/data"
)

// Text is one text and where it came from.
type Text struct {
	Source string
	Text   string
}

// EvalSets returns the texts of the classifier's evaluation sets
// (detect/classifier/testdata/*.jsonl), read from a package directory up
// levels below the repository root.
func EvalSets(tb testing.TB, up int) []Text {
	tb.Helper()
	files, err := filepath.Glob(path.Join(strings.Repeat("../", up), "detect/classifier/testdata/*.jsonl"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no evaluation sets: %v", err)
	}
	var out []Text
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var row struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				tb.Fatalf("%s: %v", name, err)
			}
			out = append(out, Text{Source: name, Text: row.Text})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

// Public returns every row of the public datasets as training reads them,
// without caps or the project's own examples, from data.Locate(up). It
// skips tb, naming where it looked, when the datasets are not there.
func Public(tb testing.TB, up int) []Text {
	tb.Helper()
	dir, err := data.Locate(up)
	if err != nil {
		tb.Skip(err)
	}
	set, err := data.Load(context.Background(), data.Options{Dir: dir, Cap: -1, NoOwn: true})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]Text, len(set.Examples))
	for i, e := range set.Examples {
		out[i] = Text{Source: e.Source, Text: e.Text}
	}
	return out
}

// Join joins the texts, each ended by a newline, into documents of at
// least n bytes; the last holds what is left.
func Join(texts []Text, n int) []string {
	var docs []string
	var b strings.Builder
	for _, t := range texts {
		b.WriteString(t.Text)
		b.WriteByte('\n')
		if b.Len() >= n {
			docs = append(docs, b.String())
			b.Reset()
		}
	}
	if b.Len() > 0 {
		docs = append(docs, b.String())
	}
	return docs
}

// FullWidth writes the printable ASCII of s in full-width forms
// (U+FF01..U+FF5E), which folding reads back as ASCII.
func FullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > ' ' && r < 0x7f {
			r += 0xFF01 - '!'
		}
		b.WriteRune(r)
	}
	return b.String()
}
