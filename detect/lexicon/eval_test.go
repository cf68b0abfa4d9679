package lexicon_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/classifier/data"
	"github.com/warden-safety/warden/detect/pii"
)

// TestDatasetRates measures how often the built-in lists flag public
// benign and harmful prompt sets (see ../shared/datasets/MANIFEST.md).
// It reads tens of thousands of prompts, so it runs only when WARDEN_EVAL=1;
// WARDEN_DATASETS overrides the dataset directory. The bounds are the
// precision the lists promise: few benign prompts flagged. Recall is
// logged, not asserted: a term list is a high-precision first line, the
// classifier covers the paraphrases.
//
//	WARDEN_EVAL=1 go test ./detect/lexicon -run DatasetRates -v
func TestDatasetRates(t *testing.T) {
	if os.Getenv("WARDEN_EVAL") != "1" {
		t.Skip("set WARDEN_EVAL=1 to measure flag rates on ../shared/datasets")
	}
	dir, err := data.Locate(2)
	if err != nil {
		t.Skip(err)
	}
	p := detect.NewPipeline(newDetector(t))
	sets := []struct {
		name, file, column, filter string
		benign                     bool
		maxRate                    float64
	}{
		{"benign mix (EN+ZH, incl. hard negatives)", "benign/suggested_mix.jsonl", "prompt", "", true, 0.002},
		{"OR-Bench seemingly toxic (EN)", "benign/orbench_80k_subset/prompts.jsonl", "prompt", "", true, 0.01},
		{"medical dialogue (ZH)", "benign/zh_medical_dialogue/prompts.jsonl", "prompt", "", true, 0.002},
		{"neuralchemy label 0 (EN)", "neuralchemy_pi/train.csv", "text", "label=0", true, 0.01},
		{"awesome role-play prompts (EN)", "awesome_prompts/prompts_en.csv", "prompt", "", true, 0.01},
		{"HateCheck non-hateful (EN)", "hatecheck/test_suite_cases.csv", "test_case", "label_gold=non-hateful", true, 0.05},
		{"HateCheck hateful (EN)", "hatecheck/test_suite_cases.csv", "test_case", "label_gold=hateful", false, 0},
		{"AdvBench harmful behaviors (EN)", "advbench/harmful_behaviors.csv", "goal", "", false, 0},
		{"CatQA (ZH half)", "catqa/catqa_en_zh.csv", "text", "lang=zh", false, 0},
		{"CatQA (EN half)", "catqa/catqa_en_zh.csv", "text", "lang=en", false, 0},
		{"neuralchemy direct injection (EN)", "neuralchemy_pi/train.csv", "text", "category=direct_injection", false, 0},
		{"neuralchemy jailbreak (EN)", "neuralchemy_pi/train.csv", "text", "category=jailbreak", false, 0},
		{"jailbreak_llms in-the-wild jailbreaks", "jailbreak_llms/jailbreak_prompts_2023_05_07.csv", "prompt", "", false, 0},
	}
	for _, s := range sets {
		texts, err := readTexts(filepath.Join(dir, s.file), s.column, s.filter)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		flagged := 0
		for _, text := range texts {
			v, err := p.Scan(context.Background(), text)
			if err != nil {
				t.Fatal(err)
			}
			if v.Flagged {
				flagged++
			}
		}
		rate := float64(flagged) / float64(max(1, len(texts)))
		t.Logf("%-42s %6d prompts  %5d flagged  %5.2f%%", s.name, len(texts), flagged, 100*rate)
		if s.benign && rate > s.maxRate {
			t.Errorf("%s: %.2f%% flagged, want at most %.2f%%", s.name, 100*rate, 100*s.maxRate)
		}
	}
	// PII on the benign mix: log how many prompts carry personal data.
	texts, err := readTexts(filepath.Join(dir, "benign/suggested_mix.jsonl"), "prompt", "")
	if err == nil {
		n := 0
		for _, text := range texts {
			if len(pii.Find(text)) > 0 {
				n++
			}
		}
		t.Logf("%-42s %6d prompts  %5d with PII/secrets", "benign mix, pii detector", len(texts), n)
	}
}

// readTexts reads one column of a JSONL or CSV file, keeping the rows whose
// filter column ("name=value") matches.
func readTexts(path, column, filter string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var fk, fv string
	if filter != "" {
		for i := range filter {
			if filter[i] == '=' {
				fk, fv = filter[:i], filter[i+1:]
			}
		}
	}
	var out []string
	if filepath.Ext(path) == ".jsonl" {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if fk != "" && m[fk] != fv {
				continue
			}
			if s, ok := m[column].(string); ok {
				out = append(out, s)
			}
		}
		return out, sc.Err()
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	col, fcol := -1, -1
	for i, h := range rows[0] {
		if h == column {
			col = i
		}
		if h == fk {
			fcol = i
		}
	}
	if col < 0 {
		return nil, os.ErrNotExist
	}
	for _, row := range rows[1:] {
		if col >= len(row) || fk != "" && (fcol < 0 || fcol >= len(row) || row[fcol] != fv) {
			continue
		}
		out = append(out, row[col])
	}
	return out, nil
}
