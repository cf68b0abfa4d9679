package policy_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestParseErrors parses every document under testdata/invalid and
// compares the full error (every issue with its line and column) with the
// .golden file next to it. Run with -update to rewrite the golden files
// after checking the new output by eye.
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test documents: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = policy.Parse(filepath.Base(f), data)
			var ve *policy.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *ValidationError", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestParseValid parses every document under testdata/valid and the
// documented example.
func TestParseValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	files = append(files, "../examples/policy.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := policy.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version() == "" || !strings.HasPrefix(p.Digest(), "sha256:") {
				t.Errorf("version %q digest %q", p.Version(), p.Digest())
			}
			// Parsing is deterministic.
			q, err := policy.Parse(f, p.Source())
			if err != nil || q.Digest() != p.Digest() {
				t.Errorf("reparse: %v, digest %s vs %s", err, q.Digest(), p.Digest())
			}
		})
	}
}

func TestParseErrorExactPositions(t *testing.T) {
	// A few positions spelled out, independent of the golden files. CEL
	// places a field-selection error at its dot.
	tests := []struct {
		src  string
		want string
	}{
		{"version: \"1\"\nbogus: 1\n", "t.yaml:2:1: document: unknown field \"bogus\""},
		{"version: \"1\"\ndefaults:\n  input:\n    hate: {action: block, threshold: 2}\n", "t.yaml:4:38: defaults.input.hate: threshold must be a number in [0, 1]"},
		{"version: \"1\"\nrules:\n  - name: x\n    match: {when: 'request.tenant == 1 +'}\n", "t.yaml:4:41: rule \"x\".match.when: Syntax error"},
		{"version: \"1\"\nrules:\n  - name: x\n    match:\n      when: request.tenat == \"a\"\n", "t.yaml:5:20: rule \"x\".match.when: undeclared reference to 'request.tenat'"},
	}
	for _, tt := range tests {
		_, err := policy.Parse("t.yaml", []byte(tt.src))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want prefix %q", tt.src, err, tt.want)
		}
	}
}
