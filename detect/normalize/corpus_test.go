package normalize_test

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/internal/corpus"
)

// TestBenignCorpusViews counts the derived views Views makes over a JSONL
// file of benign prompts (one {"prompt": ...} per line), to measure how
// often ordinary text triggers de-obfuscation views. It needs
// WARDEN_BENIGN_CORPUS, for example the shared benign mix:
//
//	WARDEN_BENIGN_CORPUS=/work/shared/datasets/benign/suggested_mix.jsonl \
//	  go test -run TestBenignCorpusViews -v ./detect/normalize
//
// It fails when a decoder (base64, hex, percent) fires on more than one
// prompt in a thousand.
func TestBenignCorpusViews(t *testing.T) {
	path := os.Getenv("WARDEN_BENIGN_CORPUS")
	if path == "" {
		t.Skip("WARDEN_BENIGN_CORPUS is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	counts := map[string]int{}
	texts := 0
	for sc.Scan() {
		var row struct {
			Prompt string `json:"prompt"`
		}
		if json.Unmarshal(sc.Bytes(), &row) != nil || row.Prompt == "" {
			continue
		}
		texts++
		views := normalize.Views(row.Prompt, normalize.Options{})
		checkViews(t, row.Prompt, views, normalize.Options{})
		for _, v := range views[1:] {
			counts[v.Name]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("%d prompts", texts)
	for _, k := range keys {
		t.Logf("%-10s %6d (%.2f%%)", k, counts[k], 100*float64(counts[k])/float64(texts))
	}
	for _, k := range []string{"base64", "hex", "percent"} {
		if counts[k]*1000 > texts {
			t.Errorf("%s views on %d of %d benign prompts", k, counts[k], texts)
		}
	}
}

// TestShortcutsHideNoViews runs FuzzPrescan's check over every text of the
// classifier's evaluation sets: English and Chinese prompts with emoji,
// Chinese punctuation, ellipses and code, the text the shortcuts skip
// work on.
func TestShortcutsHideNoViews(t *testing.T) {
	opt := normalize.Options{}
	texts := corpus.EvalSets(t, 2)
	for _, e := range texts {
		if err := sameViews(normalize.Views(e.Text, opt), normalize.ViewsWithoutPrescan(e.Text, opt)); err != nil {
			t.Fatalf("%s: %q: %v", e.Source, e.Text, err)
		}
	}
	t.Logf("%d texts", len(texts))
}

// TestShortcutsHideNoViewsOnDatasets is TestShortcutsHideNoViews over the
// public datasets' texts as the classifier's training reads them, about
// 290,000 (three of them once showed prescan hiding a view):
//
//	go test ./detect/normalize -run ShortcutsHideNoViewsOnDatasets -v
//
// It needs ../shared/datasets (or WARDEN_DATASETS).
func TestShortcutsHideNoViewsOnDatasets(t *testing.T) {
	texts := corpus.Public(t, 2)
	failed := 0
	for _, e := range texts {
		if err := sameViews(normalize.Views(e.Text, normalize.Options{}), normalize.ViewsWithoutPrescan(e.Text, normalize.Options{})); err != nil {
			if failed++; failed <= 10 {
				t.Errorf("%s: %q: %v", e.Source, e.Text[:min(len(e.Text), 200)], err)
			}
		}
	}
	t.Logf("%d texts, %d with a hidden view", len(texts), failed)
}
