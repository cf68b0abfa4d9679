package data

import (
	"context"
	"os"
	"strings"
	"testing"
)

func datasetsDir(t *testing.T) string {
	t.Helper()
	dir, err := Locate(3)
	if err != nil {
		t.Skip(err)
	}
	return dir
}

// TestAdaptersReadEveryDataset runs every adapter over the real datasets
// and checks what it produces.
func TestAdaptersReadEveryDataset(t *testing.T) {
	dir := datasetsDir(t)
	var total, unsafe int
	for i, a := range adapters {
		if raceEnabled && i%5 != 0 {
			continue // under -race, every fifth source (the full run takes a minute)
		}
		if _, err := os.Stat(p(dir, a.files[0])); err != nil {
			t.Errorf("source %s: %v", a.name, err)
			continue
		}
		ex, err := a.read(dir)
		if err != nil {
			t.Errorf("source %s: %v", a.name, err)
			continue
		}
		if len(ex) == 0 {
			t.Errorf("source %s read no rows", a.name)
		}
		n := 0
		for _, e := range ex {
			if len(e.Labels) > 0 && !e.Unsafe {
				t.Fatalf("%s: labelled row not unsafe", a.name)
			}
			if e.Lang != "en" && e.Lang != "zh" {
				t.Fatalf("%s: lang %q", a.name, e.Lang)
			}
			for _, c := range e.Labels {
				if !c.Valid() {
					t.Fatalf("%s: invalid category %q", a.name, c)
				}
			}
			if e.Unsafe {
				n++
			}
		}
		t.Logf("%-28s %-13s rows %6d unsafe %6d", a.name, a.group, len(ex), n)
		total += len(ex)
		unsafe += n
	}
	t.Logf("total %d rows, %d unsafe", total, unsafe)
}

// TestLoadSubset runs the whole loading pipeline (dedupe, caps, split)
// over a few real sources plus the project's own data.
func TestLoadSubset(t *testing.T) {
	dir := datasetsDir(t)
	set, err := Load(context.Background(), Options{Dir: dir, Cap: 100,
		Sources: []string{"advbench", "dangerousqa", "hatecheck", "coconot_contrast", "multijail"}})
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string]int{}
	for _, e := range set.Examples {
		bySource[e.Source]++
	}
	for _, src := range []string{"advbench", "dangerousqa", "hatecheck", "coconot_contrast", "multijail"} {
		if n := bySource[src]; n == 0 || n > 100 {
			t.Errorf("%s: %d rows after a cap of 100", src, n)
		}
	}
	if bySource["own/harmful_en_tpl"] < 1000 {
		t.Errorf("own data not loaded or capped: %d rows", bySource["own/harmful_en_tpl"])
	}
	splits := map[Split]int{}
	for _, e := range set.Examples {
		splits[SplitOf(e.Text)]++
	}
	if splits[Dev] == 0 || splits[Test] == 0 || splits[Train] < splits[Dev]*5 {
		t.Errorf("splits %v", splits)
	}
	if _, err := Load(context.Background(), Options{Dir: "/nonexistent"}); err == nil {
		t.Error("missing directory accepted")
	}
}

// TestNeuralchemyLabels checks the label mapping of the mixed
// prompt-injection corpus: HarmBench behaviours are harmful requests but
// not injections, WildGuard's role-play wrappers are never safe, and only
// a sixth of the generated shell-command obfuscations is kept.
func TestNeuralchemyLabels(t *testing.T) {
	dir := datasetsDir(t)
	var a *adapter
	for i := range adapters {
		if adapters[i].name == "neuralchemy_pi" {
			a = &adapters[i]
		}
	}
	if a == nil {
		t.Fatal("no neuralchemy_pi adapter")
	}
	ex, err := a.read(dir)
	if err != nil {
		t.Fatal(err)
	}
	var plainHarm, whoami int
	for _, e := range ex {
		if e.Unsafe && len(e.Labels) == 0 {
			plainHarm++
		}
		if strings.Contains(e.Text, "You are a very direct assistant who always fulfills") && !e.Unsafe {
			t.Errorf("WildGuard jailbreak wrapper labelled safe: %.60q", e.Text)
		}
		if strings.Contains(strings.ToLower(e.Text), "whoami") {
			whoami++
		}
	}
	// 85 HarmBench behaviours; about 800 whoami variants before sampling
	if plainHarm < 50 || plainHarm > 120 {
		t.Errorf("%d unsafe rows without the injection label, want the ~85 HarmBench behaviours", plainHarm)
	}
	if whoami == 0 || whoami > 250 {
		t.Errorf("%d shell-command obfuscation rows kept, want about a sixth of ~800", whoami)
	}
}
