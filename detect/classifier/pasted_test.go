package classifier_test

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestPastedCodeNotFlagged reads source files of the Go standard library
// the way a user pastes them: the first 8 KB of a file and 1 KB from its
// middle, cut at line breaks. It is real code, none of it in training,
// and in a language the project's own code snippets leave out on purpose
// (own/code), so it measures what the model learned about code in
// general. The fourth to ninth sessions' models read most such files as
// prompt injections, from the look of code rather than anything it says
// (docs/quality.md, "Pasted code and text without words").
func TestPastedCodeNotFlagged(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command to find the standard library: %v", err)
	}
	files := goSources(t, filepath.Join(strings.TrimSpace(string(out)), "src"))
	if len(files) < 100 {
		t.Fatalf("only %d standard-library files of 9,000 bytes or more", len(files))
	}
	d := embedded(t)
	const n = 60
	flagged8, flagged1 := 0, 0
	for i := 0; i < n; i++ {
		path := files[i*len(files)/n]
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		head, middle := cutLines(b, 0, 8<<10), cutLines(b, len(b)/2, 1<<10)
		if p := d.Predict(head).Unsafe; p >= 0.5 {
			flagged8++
			t.Logf("flagged at 8 KB: %s (%.2f)", path, p)
		}
		if p := d.Predict(middle).Unsafe; p >= 0.5 {
			flagged1++
			t.Logf("flagged at 1 KB: %s (%.2f)", path, p)
		}
	}
	t.Logf("Go source files flagged: %d of %d at 8 KB, %d of %d at 1 KB", flagged8, n, flagged1, n)
	if flagged8*100 > n*maxCodeFlagged8 {
		t.Errorf("%d of %d 8 KB Go files flagged, want at most %d%%", flagged8, n, maxCodeFlagged8)
	}
	if flagged1*100 > n*maxCodeFlagged1 {
		t.Errorf("%d of %d 1 KB Go pieces flagged, want at most %d%%", flagged1, n, maxCodeFlagged1)
	}
}

// The most pasted code flagged, in percent. The shipped model flags 15
// and 3 of 60 (seeds 2 and 3 of its settings: 18 and 1, 9 and 1); the
// tenth session's, 20 and 2; the ninth session's, 39 and 7.
const (
	maxCodeFlagged8 = 45
	maxCodeFlagged1 = 10
)

// goSources lists the non-test Go files of 9,000 bytes or more under
// root, outside testdata, sorted.
func goSources(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if e.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		if fi, err := e.Info(); err == nil && fi.Size() >= 9000 {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	sort.Strings(files)
	return files
}

// cutLines returns about n bytes of b from offset from, both ends moved
// to line breaks.
func cutLines(b []byte, from, n int) string {
	for from > 0 && from < len(b) && b[from-1] != '\n' {
		from++
	}
	end := min(from+n, len(b))
	for end < len(b) && end > from && b[end-1] != '\n' {
		end--
	}
	return string(b[from:end])
}

// TestMeaninglessTextNotFlagged scores long texts without a word in them,
// the kind users paste from logs and dumps: lists of UUIDs, hex
// digests, numbers and made-up identifiers of about a thousand tokens.
// With no feature it was trained on, the ninth session's model read them
// near its untrained middle and, over many windows, flagged 91 of these
// 250 (43 of 50 UUID lists); own/noise_tpl teaches it that text without
// meaning is safe. The texts are generated here with their own seed and
// shapes, not gen.go's.
func TestMeaninglessTextNotFlagged(t *testing.T) {
	d := embedded(t)
	r := rand.New(rand.NewPCG(2026, 11))
	word := func(from byte) string {
		b := make([]byte, 3+r.IntN(8))
		for i := range b {
			b[i] = from + byte(r.IntN(26))
		}
		return string(b)
	}
	kinds := map[string]func() string{
		"hex":    func() string { return fmt.Sprintf("%x", r.Uint32()) },
		"upper":  func() string { return word('A') },
		"lower":  func() string { return word('a') },
		"number": func() string { return fmt.Sprint(r.IntN(100000)) },
		"uuid": func() string {
			return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		},
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	flagged, n := 0, 0
	for _, k := range names {
		f := 0
		for i := 0; i < 50; i++ {
			ws := make([]string, 1000)
			for j := range ws {
				ws[j] = kinds[k]()
			}
			if d.Predict(strings.Join(ws, " ")).Unsafe >= 0.5 {
				f++
			}
		}
		t.Logf("%s: %d of 50 lists of 1,000 flagged", k, f)
		flagged += f
		n += 50
	}
	if flagged*100 > n*maxNoiseFlagged {
		t.Errorf("%d of %d meaningless texts flagged, want at most %d%%", flagged, n, maxNoiseFlagged)
	}
}

// maxNoiseFlagged is the most meaningless texts flagged, in percent. The
// shipped model flags 3 of 250 (seeds 2 and 3 of its settings: 16 and
// 5); the tenth session's, 18; the ninth session's, 91.
const maxNoiseFlagged = 30
