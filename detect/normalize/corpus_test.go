package normalize_test

import (
	"bufio"
	"encoding/json"
	"os"
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
