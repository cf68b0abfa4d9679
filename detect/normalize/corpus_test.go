package normalize_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/warden-safety/warden/detect/normalize"
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
	files, err := filepath.Glob("../classifier/testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no evaluation sets: %v", err)
	}
	opt := normalize.Options{}
	texts := 0
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var row struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			texts++
			got := normalize.Views(row.Text, opt)
			want := normalize.ViewsWithoutPrescan(row.Text, opt)
			if len(got) != len(want) {
				t.Fatalf("%s: views %q, without shortcuts %q", path, names(got), names(want))
			}
			for i := range got {
				if got[i].Name != want[i].Name || got[i].Text != want[i].Text {
					t.Fatalf("%s: view %d differs: %q vs %q", path, i, got[i].Name, want[i].Name)
				}
			}
		}
		f.Close()
	}
	t.Logf("%d texts", texts)
}
