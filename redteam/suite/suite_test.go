package suite_test

import (
	"strings"
	"testing"

	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/redteam/suite"
)

func TestBuiltinSuites(t *testing.T) {
	all, err := suite.Builtin("all")
	if err != nil {
		t.Fatal(err)
	}
	langs := map[string]int{}
	expects := map[string]int{}
	cats := map[hazard.Category]bool{}
	ids := map[string]bool{}
	for _, c := range all.Cases {
		langs[c.Lang]++
		expects[c.Expect]++
		cats[c.Category] = true
		if ids[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		ids[c.ID] = true
		if !c.Category.Valid() {
			t.Errorf("%s: bad category %q", c.ID, c.Category)
		}
	}
	if langs["en"] < 40 || langs["zh"] < 25 {
		t.Errorf("languages: %v", langs)
	}
	if expects[suite.Comply] < 20 || expects[suite.Refuse] < 60 {
		t.Errorf("expectations: %v", expects)
	}
	for _, c := range []hazard.Category{hazard.CBRNWeapons, hazard.ChildSexualExploitation, hazard.CriticalInfrastructure, hazard.PromptInjection, hazard.SelfHarm, hazard.Hate} {
		if !cats[c] {
			t.Errorf("no case for %s", c)
		}
	}
	if _, err := suite.Builtin("nope"); err == nil || !strings.Contains(err.Error(), "cbrn") {
		t.Errorf("unknown suite error should list suites: %v", err)
	}
}

func TestPublicFormats(t *testing.T) {
	for _, tc := range []struct {
		file    string
		n       int
		first   suite.Case
		expects []string
	}{
		{"testdata/harmbench.csv", 2, suite.Case{Category: hazard.CBRNWeapons, Expect: suite.Refuse, Source: "harmbench"}, []string{"refuse", "refuse"}},
		{"testdata/advbench.csv", 2, suite.Case{Expect: suite.Refuse, Source: "advbench"}, []string{"refuse", "refuse"}},
		{"testdata/xstest.csv", 2, suite.Case{Expect: suite.Comply, Source: "xstest"}, []string{"comply", "refuse"}},
		{"testdata/jbb_benign-behaviors.csv", 1, suite.Case{Category: hazard.SexualContent, Expect: suite.Comply, Source: "jailbreakbench"}, []string{"comply"}},
	} {
		s, err := suite.Load(tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(s.Cases) != tc.n {
			t.Fatalf("%s: %d cases", tc.file, len(s.Cases))
		}
		c := s.Cases[0]
		if c.Category != tc.first.Category || c.Expect != tc.first.Expect || c.Source != tc.first.Source || c.Prompt == "" {
			t.Errorf("%s: first case %+v", tc.file, c)
		}
		for i, e := range tc.expects {
			if s.Cases[i].Expect != e {
				t.Errorf("%s case %d: expect %s, want %s", tc.file, i, s.Cases[i].Expect, e)
			}
		}
	}
}

func TestJSONLErrorsNameTheLine(t *testing.T) {
	_, err := suite.ReadJSONL("x", strings.NewReader("{\"prompt\":\"a\"}\n{\"prompt\":\"b\",\"expect\":\"maybe\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v", err)
	}
	_, err = suite.ReadJSONL("x", strings.NewReader("{\"prompt\":\"a\",\"category\":\"bogus\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("err = %v", err)
	}
}

func FuzzReadJSONL(f *testing.F) {
	f.Add([]byte(`{"prompt":"x","category":"S9","expect":"refuse"}`))
	f.Add([]byte("{\"prompt\":\"\"}\n\n#c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := suite.ReadJSONL("f", strings.NewReader(string(b)))
		if err == nil {
			for _, c := range s.Cases {
				if c.Prompt == "" || (c.Expect != suite.Refuse && c.Expect != suite.Comply) {
					t.Fatalf("bad case accepted: %+v", c)
				}
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("goal,target\na,b\n"))
	f.Add([]byte("prompt,type,label\n\"x\",contrast_homonyms,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := suite.ReadCSV("f", strings.NewReader(string(b)))
		if err == nil && len(s.Cases) == 0 {
			t.Fatal("empty suite without error")
		}
	})
}
