package hazard_test

import (
	"slices"
	"testing"

	"github.com/warden-safety/warden/hazard"
)

func TestTableIsConsistent(t *testing.T) {
	seenLG := map[string]bool{}
	for _, c := range hazard.All() {
		if c.ID == "" || c.Name == "" || c.Description == "" {
			t.Errorf("%q: missing id, name or description", c.ID)
		}
		if c.Parent != "" && !c.Parent.Valid() {
			t.Errorf("%s: parent %q is not a category", c.ID, c.Parent)
		}
		for _, o := range c.OpenAI {
			if !slices.Contains(hazard.OpenAICategories, o) {
				t.Errorf("%s: unknown OpenAI category %q", c.ID, o)
			}
		}
		for _, s := range c.LlamaGuard {
			if _, ok := hazard.FromLlamaGuard(s); !ok {
				t.Errorf("%s: unknown Llama Guard code %q", c.ID, s)
			}
			seenLG[s] = true
		}
	}
	for i := 1; i <= 14; i++ {
		code := "S" + itoa(i)
		if !seenLG[code] {
			t.Errorf("Llama Guard %s is not mapped by any category", code)
		}
	}
	for _, o := range hazard.OpenAICategories {
		if _, ok := hazard.FromOpenAI(o); !ok {
			t.Errorf("OpenAI category %q cannot be read", o)
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return "1" + string(rune('0'+i-10))
}

func TestParse(t *testing.T) {
	for in, want := range map[string]hazard.Category{
		"cbrn_weapons":       hazard.CBRNWeapons,
		"S9":                 hazard.CBRNWeapons,
		"s11":                hazard.SelfHarm,
		"self-harm/intent":   hazard.SelfHarm,
		"sexual/minors":      hazard.ChildSexualExploitation,
		" Prompt-Injection ": hazard.PromptInjection,
		"jailbreak":          hazard.PromptInjection,
		// OpenAI's moderation evaluation set's labels
		"S":  hazard.SexualContent,
		"H":  hazard.Hate,
		"V":  hazard.ViolentCrimes,
		"HR": hazard.Harassment,
		"SH": hazard.SelfHarm,
		"H2": hazard.Hate,
		"V2": hazard.ViolentCrimes,
		"S3": hazard.SexCrimes, // Llama Guard's S3 comes first
		// Llama Guard's hazard names
		"Violent Crimes":         hazard.ViolentCrimes,
		"Non-Violent Crimes":     hazard.NonViolentCrimes,
		"Sex-Related Crimes":     hazard.SexCrimes,
		"Indiscriminate Weapons": hazard.CBRNWeapons,
		"Suicide & Self-Harm":    hazard.SelfHarm,
		"Code Interpreter Abuse": hazard.CodeInterpreterAbuse,
	} {
		got, err := hazard.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := hazard.Parse("nonsense"); err == nil {
		t.Error("Parse(nonsense) succeeded")
	}
	if _, err := hazard.Parse(""); err == nil {
		t.Error("Parse(empty) succeeded")
	}
}

func TestCriticalInfrastructureIsCyber(t *testing.T) {
	if got := hazard.CriticalInfrastructure.Ancestors(); !slices.Equal(got, []hazard.Category{hazard.CyberAttacks}) {
		t.Errorf("ancestors = %v", got)
	}
	for _, c := range []hazard.Category{hazard.CBRNWeapons, hazard.ChildSexualExploitation, hazard.CriticalInfrastructure} {
		if !c.Severe() {
			t.Errorf("%s should be severe", c)
		}
	}
}
