package lexicon

import (
	"strings"
	"testing"

	"github.com/warden-safety/warden/hazard"
)

func TestBuiltinListsCoverCategories(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	en := map[hazard.Category]bool{}
	zh := map[hazard.Category]bool{}
	ids := map[string]bool{}
	for _, r := range d.rules {
		if r.score < 0.6 || r.score > 0.99 {
			t.Errorf("rule %s: score %v outside [0.6, 0.99]", r.id, r.score)
		}
		if ids[r.id] {
			t.Errorf("duplicate rule id %s", r.id)
		}
		ids[r.id] = true
		if strings.HasPrefix(r.id, "zh.") {
			zh[r.category] = true
		} else {
			en[r.category] = true
		}
	}
	for _, c := range []hazard.Category{
		hazard.CBRNWeapons, hazard.ChildSexualExploitation, hazard.SexualContent, hazard.Hate,
		hazard.SelfHarm, hazard.PromptInjection, hazard.CriticalInfrastructure, hazard.CyberAttacks,
		hazard.ViolentCrimes, hazard.DeepfakeImpersonation,
	} {
		if !en[c] {
			t.Errorf("no English rule for %s", c)
		}
		if !zh[c] {
			t.Errorf("no Chinese rule for %s", c)
		}
	}
}

// TestRuneMarkTables checks the table lookups of runeMark against the
// classification they cache, over the whole Basic Multilingual Plane and
// the ends of the others.
func TestRuneMarkTables(t *testing.T) {
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r == 0x10000 {
			r = 0x10FF00
		}
		if got, want := runeMark(r), runeMarkSlow(r); got != want {
			t.Fatalf("runeMark(%U) = %d, want %d", r, got, want)
		}
	}
}
