package eval_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/eval"
	"github.com/warden-safety/warden/hazard"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line   string
		unsafe bool
		cats   []hazard.Category
		err    string
	}{
		{`{"text":"hello","label":"safe"}`, false, nil, ""},
		{`  {"text":"x","label":"UNSAFE ","categories":["S9","self-harm/intent","hate","Hate"],"source":"a"}  `, true,
			[]hazard.Category{hazard.CBRNWeapons, hazard.SelfHarm, hazard.Hate}, ""},
		{`{"text":"x","label":"unsafe","categories":null}`, true, nil, ""},
		{`{"text":"x","label":"safe","categories":[]}`, false, nil, ""},
		{`{"text":"x","label":"unsafe","categories":["illicit/violent","cyber_attacks"]}`, true,
			[]hazard.Category{hazard.ViolentCrimes, hazard.CyberAttacks}, ""},
		// the labels of OpenAI's moderation evaluation set
		{`{"text":"x","label":"unsafe","categories":["HR","SH","V2"]}`, true,
			[]hazard.Category{hazard.Harassment, hazard.SelfHarm, hazard.ViolentCrimes}, ""},
		{``, false, nil, "empty line"},
		{`not json`, false, nil, "invalid JSON"},
		{`["text"]`, false, nil, "invalid JSON"},
		{`{"text":"x","label":"safe"} {}`, false, nil, "unexpected data after"},
		{`{"label":"safe"}`, false, nil, `missing "text"`},
		{`{"text":"  ","label":"safe"}`, false, nil, `empty "text"`},
		{`{"text":"x"}`, false, nil, `missing "label"`},
		{`{"text":"x","label":"harmful"}`, false, nil, `label "harmful" is neither`},
		{`{"text":"x","label":1}`, false, nil, `field "label" has the wrong type`},
		{`{"text":7,"label":"safe"}`, false, nil, `field "text" has the wrong type`},
		{`{"text":"x","label":"unsafe","categories":"hate"}`, false, nil, `"categories" must be a list`},
		{`{"text":"x","label":"unsafe","categories":["hate","bogus"]}`, false, nil, `unknown category "bogus"`},
		{`{"text":"x","label":"safe","categories":["hate"]}`, false, nil, `labelled "safe"`},
	}
	for _, tt := range tests {
		ex, err := eval.ParseLine([]byte(tt.line))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLine(%s) error = %v, want containing %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLine(%s): %v", tt.line, err)
			continue
		}
		if ex.Unsafe != tt.unsafe || !slices.Equal(ex.Categories, tt.cats) {
			t.Errorf("ParseLine(%s) = %+v, want unsafe=%v cats=%v", tt.line, ex, tt.unsafe, tt.cats)
		}
	}
}

func TestParseLineErrorDoesNotQuoteText(t *testing.T) {
	_, err := eval.ParseLine([]byte(`{"text":"SECRET-PROMPT-TEXT","label":"maybe"}`))
	if err == nil || strings.Contains(err.Error(), "SECRET-PROMPT-TEXT") {
		t.Fatalf("error %v", err)
	}
}

func TestHasCategoryIncludesAncestors(t *testing.T) {
	ex := eval.Example{Unsafe: true, Categories: []hazard.Category{hazard.CriticalInfrastructure}}
	if !ex.HasCategory(hazard.CyberAttacks) || !ex.HasCategory(hazard.CriticalInfrastructure) || ex.HasCategory(hazard.Hate) {
		t.Fatal("HasCategory does not follow the parent chain")
	}
}

func TestReadJSONL(t *testing.T) {
	in := "{\"text\":\"a\",\"label\":\"safe\"}\n\n{\"text\":\"b\",\"label\":\"unsafe\",\"categories\":[\"S1\"]}\r\n" +
		"{\"text\":\"c\",\"label\":\"??\"}\n{\"text\":\"d\",\"label\":\"safe\"}"
	exs, bad, err := eval.ReadJSONL(strings.NewReader(in), false)
	var le *eval.LineError
	if !errors.As(err, &le) || le.Line != 4 || len(exs) != 2 || bad != nil {
		t.Fatalf("strict: err=%v exs=%d bad=%v", err, len(exs), bad)
	}
	if !strings.HasPrefix(err.Error(), "line 4: label") {
		t.Fatalf("error %q does not name the line", err)
	}
	exs, bad, err = eval.ReadJSONL(strings.NewReader(in), true)
	if err != nil || len(exs) != 3 || len(bad) != 1 || bad[0].Line != 4 {
		t.Fatalf("skip-bad: err=%v exs=%d bad=%v", err, len(exs), bad)
	}
	if exs[0].Line != 1 || exs[1].Line != 3 || exs[2].Line != 5 || exs[2].Text != "d" || !exs[1].Unsafe {
		t.Fatalf("lines/labels wrong: %+v", exs)
	}
}

func TestReadJSONLLineTooLong(t *testing.T) {
	long := `{"text":"` + strings.Repeat("a", eval.MaxLineBytes) + `","label":"safe"}`
	_, _, err := eval.ReadJSONL(strings.NewReader("{\"text\":\"a\",\"label\":\"safe\"}\n"+long), true)
	var le *eval.LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"text":"hello","label":"safe"}`))
	f.Add([]byte(`{"text":"x","label":"unsafe","categories":["S9","self-harm/intent"]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		ex, err := eval.ParseLine(line)
		if err != nil {
			if ex.Text != "" && strings.Contains(err.Error(), ex.Text) && len(ex.Text) > 40 {
				t.Fatalf("error quotes the text: %v", err)
			}
			return
		}
		if strings.TrimSpace(ex.Text) == "" {
			t.Fatal("accepted an empty text")
		}
		if !ex.Unsafe && len(ex.Categories) > 0 {
			t.Fatal("safe example with categories")
		}
		seen := map[hazard.Category]bool{}
		for _, c := range ex.Categories {
			if !c.Valid() || seen[c] {
				t.Fatalf("bad category list %v", ex.Categories)
			}
			seen[c] = true
		}
	})
}
