package data

import (
	"context"
	"os"
	"testing"
)

func datasetsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WARDEN_DATASETS")
	if dir == "" {
		dir = "../../../../shared/datasets"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("datasets not found at %s (set WARDEN_DATASETS): %v", dir, err)
	}
	return dir
}

func TestLoadDatasets(t *testing.T) {
	dir := datasetsDir(t)
	set, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var unsafe, total int
	for _, st := range set.Stats {
		t.Logf("%-28s %-13s read %6d kept %6d unsafe %6d missing=%v", st.Source, st.Group, st.Read, st.Kept, st.Unsafe, st.Missing)
		if st.Missing {
			t.Errorf("source %s missing", st.Source)
		}
		if !st.Missing && st.Read == 0 {
			t.Errorf("source %s read no rows", st.Source)
		}
	}
	for _, e := range set.Examples {
		total++
		if e.Unsafe {
			unsafe++
		}
		if len(e.Labels) > 0 && !e.Unsafe {
			t.Fatalf("labelled row not unsafe: %+v", e)
		}
		if e.Lang != "en" && e.Lang != "zh" {
			t.Fatalf("bad lang %q in %s", e.Lang, e.Source)
		}
	}
	t.Logf("total %d unsafe %d conflicts %d", total, unsafe, set.Conflicts)
}
