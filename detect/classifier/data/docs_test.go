package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/hazard"
)

// TestDocsPayloadsStayInTheirSplit checks the promise of own/gen.go's
// documents: every payload (an instruction to an AI hidden in a document)
// is set into documents, those rows are injections, and they all fall in
// the payload's own split, so a payload trained on never makes a dev or
// test row easy. Asides (notes_*.txt) are set into documents as safe rows.
func TestDocsPayloadsStayInTheirSplit(t *testing.T) {
	rows, _, err := LoadOwn()
	if err != nil {
		t.Fatal(err)
	}
	var docs []Example
	for _, e := range rows {
		if e.Source == "own/docs_tpl" {
			docs = append(docs, e)
		}
	}
	if len(docs) < 1000 {
		t.Fatalf("own/docs_tpl has %d rows; run gen.go in own/", len(docs))
	}
	for kind, least := range map[string]int{"payloads": 200, "notes": 100} {
		entries := readDocEntries(t, kind)
		if len(entries) < least {
			t.Fatalf("only %d %s", len(entries), kind)
		}
		for _, p := range entries {
			home := SplitOf(p)
			set := 0
			for _, e := range docs {
				if e.Text == p || !strings.Contains(e.Text, p) {
					continue
				}
				set++
				if s := SplitOf(e.Text); s != home {
					t.Errorf("a document holding %s %.40q is in %s, the %s in %s", kind, p, s, kind, home)
				}
				pi := len(e.Labels) == 1 && e.Labels[0] == hazard.PromptInjection
				if kind == "payloads" && !pi || kind == "notes" && e.Unsafe {
					t.Errorf("a document holding %s %.40q is labelled %v", kind, p, e.Labels)
				}
			}
			if set == 0 {
				t.Errorf("%s %.40q is set into no document", kind, p)
			}
		}
	}
}

// readDocEntries reads the texts of own/docs/KIND_*.txt ("=== id lang
// tag" then the text).
func readDocEntries(t *testing.T, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("own", "docs", kind+"_*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no own/docs/%s_*.txt: %v", kind, err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split("\n"+string(b), "\n=== ")[1:] {
			_, body, _ := strings.Cut(part, "\n")
			out = append(out, strings.TrimSpace(body))
		}
	}
	return out
}
