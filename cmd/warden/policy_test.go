package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/policy"
)

func runPolicyCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = run(e, append([]string{"policy"}, args...))
	return code, out.String(), errb.String()
}

func writePolicyFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPolicyCheckOK(t *testing.T) {
	code, out, errs := runPolicyCmd(t, "check", "../../examples/policy.yaml")
	p, err := policy.Load("../../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := "ok " + p.Digest() + " version 2026-11-29.1\n"
	if code != 0 || out != want || errs != "" {
		t.Fatalf("exit %d, stdout %q (want %q), stderr %q", code, out, want, errs)
	}
}

func TestPolicyCheckInvalid(t *testing.T) {
	path := writePolicyFile(t, `version: "1"
defaults:
  input:
    nuclear: block
    hate: {action: deny, threshold: 1.2}
rules:
  - name: r
    match: {tenant: "a[", when: "request.tenantt == 'x'"}
    extra: 1
`)
	code, out, errs := runPolicyCmd(t, "check", path)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	wantLines := []string{
		path + ":4:5: defaults.input: unknown category \"nuclear\"",
		path + ":5:20: defaults.input.hate: unknown action \"deny\"",
		path + ":5:37: defaults.input.hate: threshold must be a number in [0, 1]",
		path + ":8:21: rule \"r\".match.tenant: bad pattern",
		path + ":8:41: rule \"r\".match.when: undeclared reference to 'request.tenantt'",
		path + ":9:5: rule \"r\": unknown field \"extra\"",
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != len(wantLines) {
		t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(wantLines), errs)
	}
	for i, w := range wantLines {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s…", i+1, lines[i], w)
		}
	}
}

func TestPolicyCheckUsage(t *testing.T) {
	if code, _, _ := runPolicyCmd(t, "check"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
	if code, _, _ := runPolicyCmd(t); code != 2 {
		t.Errorf("no subcommand: exit %d", code)
	}
	if code, _, _ := runPolicyCmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
	if code, _, errs := runPolicyCmd(t, "check", filepath.Join(t.TempDir(), "missing.yaml")); code != 1 || !strings.Contains(errs, "missing.yaml") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
	if code, out, _ := runPolicyCmd(t, "--help"); code != 0 || !strings.Contains(out, "warden policy check") {
		t.Errorf("help: exit %d, %q", code, out)
	}
}

func TestPolicyShow(t *testing.T) {
	code, out, _ := runPolicyCmd(t, "show")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	// The output is itself a valid policy with the default's digest.
	p, err := policy.Parse("shown", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest() != policy.Default().Digest() || !strings.Contains(out, policy.Default().Digest()) {
		t.Errorf("shown policy digest %s, default %s", p.Digest(), policy.Default().Digest())
	}
	code, out, _ = runPolicyCmd(t, "show", "--json")
	var doc struct {
		Version  string
		Defaults struct {
			FailMode string `json:"fail_mode"`
			HoldBack int    `json:"hold_back"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Defaults.FailMode != "closed" || doc.Defaults.HoldBack != 200 {
		t.Errorf("show --json: exit %d, %+v\n%s", code, doc, out)
	}
}

func TestPolicyStricter(t *testing.T) {
	weaker := writePolicyFile(t, "version: w\ndefaults:\n  input: {cbrn_weapons: flag}\n")
	if code, out, _ := runPolicyCmd(t, "stricter", weaker, "default"); code != 1 || !strings.Contains(out, "cbrn_weapons") {
		t.Errorf("weaker: exit %d\n%s", code, out)
	}
	if code, out, _ := runPolicyCmd(t, "stricter", "default", weaker); code != 0 {
		t.Errorf("default over weaker: exit %d\n%s", code, out)
	}
	if code, _, _ := runPolicyCmd(t, "stricter", weaker); code != 2 {
		t.Errorf("one argument: exit %d", code)
	}
}

func TestPolicyCheckWarning(t *testing.T) {
	path := writePolicyFile(t, "version: w\nrules:\n  - name: all\n  - name: late\n    match: {tenant: x}\n")
	code, out, errs := runPolicyCmd(t, "check", path)
	if code != 0 || !strings.HasPrefix(out, "ok sha256:") || !strings.Contains(errs, path+":4:5: warning: rule \"late\" never applies") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
