package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-safety/warden/board"
)

// shellWords splits a command line the way sh does for the simple lines of
// the walkthrough: words separated by blanks, '...' and "..." quoting, and
// an unquoted # starting a comment (returned separately).
func shellWords(line string) (words []string, comment string, err error) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, "", strconv.ErrSyntax
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, strings.TrimSpace(line[i+1:]), nil
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, "", nil
}

var exitRE = regexp.MustCompile(`^exit (\d+)`)

// walkthrough returns the command lines between the walkthrough markers of
// docs/governance.md.
func walkthrough(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "governance.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "<!-- walkthrough:begin -->")
	j := strings.Index(s, "<!-- walkthrough:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/governance.md has no walkthrough block")
	}
	var lines []string
	for _, l := range strings.Split(s[i:j], "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "```") || strings.HasPrefix(l, "<!--") {
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// TestGovernanceWalkthrough runs the walkthrough of docs/governance.md
// command by command through the real CLI, in-process, checking every exit
// code the document states (0 when it states none), then checks the
// result through the board package.
func TestGovernanceWalkthrough(t *testing.T) {
	lines := walkthrough(t)
	t.Chdir(t.TempDir())
	vars := map[string]string{}
	outputs := map[string]string{}
	if len(lines) < 20 {
		t.Fatalf("walkthrough has only %d commands", len(lines))
	}
	for _, line := range lines {
		words, comment, err := shellWords(line)
		if err != nil || len(words) == 0 {
			t.Fatalf("cannot parse %q", line)
		}
		switch words[0] {
		case "export":
			k, v, ok := strings.Cut(words[1], "=")
			if !ok {
				t.Fatalf("bad export %q", line)
			}
			vars[k] = v
			continue
		case "echo":
			if len(words) != 4 || words[2] != ">" {
				t.Fatalf("unsupported echo line %q", line)
			}
			if err := os.WriteFile(words[3], []byte(words[1]+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		case "warden":
		default:
			t.Fatalf("walkthrough line is not a warden command: %q", line)
		}
		want := 0
		if m := exitRE.FindStringSubmatch(comment); m != nil {
			want, _ = strconv.Atoi(m[1])
		}
		var out, errb bytes.Buffer
		env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		code := run(env, words[1:])
		t.Logf("$ %s\n%s%s", line, out.String(), errb.String())
		if code != want {
			t.Fatalf("%q exited %d, the document says %d\nstdout: %s\nstderr: %s", line, code, want, out.String(), errb.String())
		}
		outputs[line] = out.String() + errb.String()
	}

	// What the document claims the output says.
	for substr, cmd := range map[string]string{
		"release statement pending: 1 of 2 signatures (alice); 1 more needed":                                                   "warden board submit release.json   # exit 3: one of two signatures, pending",
		`model "gpt-4o-mini" is halted by the safety board: jailbreak reported`:                                                 "warden board admit --model gpt-4o-mini --upstream openai --upstream-url https://api.openai.com   # exit 1",
		`model "gpt-4o-mini" is released for upstream https://api.openai.com/v1 only, not cheap (https://llm.cheap.example/v1)`: "warden board admit --model gpt-4o-mini --upstream cheap --upstream-url https://llm.cheap.example/v1   # exit 1",
		"resume statement pending: 1 of 2 signatures (alice); 1 more needed":                                                    `warden board resume --key alice.key --scope model:gpt-4o-mini --reason "patched and re-evaluated" -o resume.json   # exit 3`,
	} {
		if !strings.Contains(outputs[cmd], substr) {
			t.Errorf("output of %q lacks %q:\n%s", cmd, substr, outputs[cmd])
		}
	}

	// The result, read through the package API.
	b, err := board.Open(context.Background(), board.Config{Dir: filepath.Join("data", "board")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var kinds []string
	for _, h := range b.History() {
		kinds = append(kinds, string(h.Type)+"/"+strings.Join(h.Signers, "+"))
	}
	if got, want := strings.Join(kinds, " "), "charter/alice+bob+carol release/alice+bob halt/carol resume/alice+bob"; got != want {
		t.Fatalf("history %s, want %s", got, want)
	}
	if err := b.Admit(context.Background(), "gpt-4o-mini", "/v1/chat/completions", "openai", "https://api.openai.com"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"alice.key", "bob.key", "carol.key"} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", p, err, st.Mode())
		}
	}
}

func runBoardCmd(t *testing.T, vars map[string]string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(k string) string { return vars[k] }}
	code := run(env, append([]string{"board"}, args...))
	return code, out.String()
}

// The same acts against a running server over HTTP (127.0.0.1, port 0).
func TestBoardCLIAgainstServer(t *testing.T) {
	t.Chdir(t.TempDir())
	// alice's key is encrypted (scrypt is slow under -race: keep the
	// number of decryptions small), bob's is not.
	vars := map[string]string{"WARDEN_TRUSTEE_PASSPHRASE": "correct horse battery"}
	if code, out := runBoardCmd(t, vars, "keygen", "--name", "alice", "--encrypt"); code != 0 || !strings.Contains(out, "encrypted") {
		t.Fatal(out)
	}
	if code, out := runBoardCmd(t, nil, "keygen", "--name", "bob"); code != 0 {
		t.Fatal(out)
	}
	if code, out := runBoardCmd(t, vars, "init", "--deployment", "srv", "--trustee", "alice.pub", "--trustee", "bob.pub", "--key", "alice.key", "--key", "bob.key", "-o", "charter.json"); code != 0 {
		t.Fatal(out)
	}
	// A first charter is never accepted over HTTP.
	if code, out := runBoardCmd(t, vars, "submit", "--server", "http://127.0.0.1:1", "charter.json"); code != 1 || !strings.Contains(out, "cannot be sent to a server") {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := runBoardCmd(t, vars, "submit", "--dir", "data", "charter.json"); code != 0 {
		t.Fatal(out)
	}
	b, err := board.Open(context.Background(), board.Config{Dir: filepath.Join("data", "board")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := newLocalServer(t, b)
	vars["WARDEN_BOARD_SERVER"] = srv
	if code, out := runBoardCmd(t, vars, "halt", "--key", "bob.key", "--scope", "*", "--reason", "drill"); code != 0 || !strings.Contains(out, "halted *: drill") {
		t.Fatalf("%d %s", code, out)
	}
	if err := b.Admit(context.Background(), "m", "/r", "u", "https://u.example"); err == nil {
		t.Fatal("server's board did not enforce the halt")
	}
	// Wrong passphrase: a clear error, nothing submitted.
	vars["WARDEN_TRUSTEE_PASSPHRASE"] = "wrong"
	if code, out := runBoardCmd(t, vars, "resume", "--key", "alice.key", "--scope", "*", "--reason", "x", "-o", "r.json"); code != 1 || !strings.Contains(out, "wrong passphrase") {
		t.Fatalf("%d %s", code, out)
	}
	vars["WARDEN_TRUSTEE_PASSPHRASE"] = "correct horse battery"
	if code, out := runBoardCmd(t, vars, "resume", "--key", "bob.key", "--key", "alice.key", "--scope", "*", "--reason", "drill over"); code != 0 {
		t.Fatalf("%d %s", code, out)
	}
	if code, out := runBoardCmd(t, vars, "status", "--json"); code != 0 || !strings.Contains(out, `"halts": []`) {
		t.Fatalf("%d %s", code, out)
	}
	// A statement for a model without release: refused by admit.
	if code, out := runBoardCmd(t, vars, "admit", "--model", "nope"); code != 1 || !strings.Contains(out, "no release") {
		t.Fatalf("%d %s", code, out)
	}
	// Replaying the halt file is refused.
	if code, out := runBoardCmd(t, vars, "propose", "halt", "--scope", "*", "--reason", "again", "-o", "h.json"); code != 0 {
		t.Fatal(out)
	}
	if code, out := runBoardCmd(t, vars, "sign", "--key", "bob.key", "h.json"); code != 0 {
		t.Fatal(out)
	}
	if code, out := runBoardCmd(t, vars, "submit", "h.json"); code != 0 {
		t.Fatal(out)
	}
	if code, out := runBoardCmd(t, vars, "submit", "h.json"); code != 1 || !strings.Contains(out, "already applied") {
		t.Fatalf("%d %s", code, out)
	}
}

// newLocalServer serves b's HTTP API on 127.0.0.1 (random port).
func newLocalServer(t *testing.T, b *board.Board) string {
	t.Helper()
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// Charter rotation through the CLI: carol leaves, dave joins; carol's
// signature no longer counts; commitments carry over.
func TestBoardCLICharterRotation(t *testing.T) {
	t.Chdir(t.TempDir())
	vars := map[string]string{"WARDEN_DATA_DIR": "data"}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		if code, out := runBoardCmd(t, vars, "keygen", "--name", n); code != 0 {
			t.Fatal(out)
		}
	}
	steps := [][]string{
		{"init", "--deployment", "rot", "--trustee", "alice.pub", "--trustee", "bob.pub", "--trustee", "carol.pub", "--commitment", "safety:guard+eval:0.2", "--key", "alice.key", "--key", "bob.key", "--key", "carol.key", "-o", "c1.json"},
		{"submit", "c1.json"},
		{"propose", "charter", "--trustee", "alice.pub", "--trustee", "bob.pub", "--trustee", "dave.pub", "--threshold", "2", "-o", "c2.json"},
		{"sign", "--key", "alice.key", "c2.json"},
		{"sign", "--key", "dave.key", "c2.json"},
	}
	for _, s := range steps {
		if code, out := runBoardCmd(t, vars, s...); code != 0 {
			t.Fatalf("%v: %d %s", s, code, out)
		}
	}
	// One old trustee: pending.
	if code, out := runBoardCmd(t, vars, "submit", "c2.json"); code != 3 || !strings.Contains(out, "1 more needed") {
		t.Fatalf("rotation with one old trustee: %d %s", code, out)
	}
	runBoardCmd(t, vars, "sign", "--key", "bob.key", "c2.json")
	if code, out := runBoardCmd(t, vars, "submit", "c2.json"); code != 0 {
		t.Fatalf("%d %s", code, out)
	}
	// Tokens metered by a server on this data directory, saved on close,
	// are measured by the CLI.
	b, err := board.Open(context.Background(), board.Config{Dir: filepath.Join("data", "board")})
	if err != nil {
		t.Fatal(err)
	}
	b.AddTokens("gpt-x", "served", 700, 100)
	b.AddTokens("lg", "guard", 200, 0)
	b.Close()
	code, out := runBoardCmd(t, vars, "commitments")
	if code != 0 || !strings.Contains(out, "safety: promised at least 20.0%") || !strings.Contains(out, "measured 20.0% (200 of 1000 tokens) — met") {
		t.Fatalf("commitments after rotation: %d %s", code, out)
	}
	// carol is out: her halt alone is refused.
	code, out = runBoardCmd(t, vars, "halt", "--key", "carol.key", "--scope", "*", "--reason", "x")
	if code != 1 || !strings.Contains(out, "not a trustee") {
		t.Fatalf("removed trustee's halt: %d %s", code, out)
	}
	code, out = runBoardCmd(t, vars, "halt", "--key", "dave.key", "--scope", "*", "--reason", "x")
	if code != 0 {
		t.Fatalf("new trustee's halt: %d %s", code, out)
	}
}

// A policy bundle through the CLI: digest, version and source of the file.
func TestBoardCLIPolicyBundle(t *testing.T) {
	t.Chdir(t.TempDir())
	vars := map[string]string{"WARDEN_DATA_DIR": "data"}
	for _, n := range []string{"alice", "bob"} {
		if code, out := runBoardCmd(t, vars, "keygen", "--name", n); code != 0 {
			t.Fatal(out)
		}
	}
	src := "version: \"7\"\ndefaults:\n  fail_mode: closed\n  input:\n    cbrn_weapons: block\n"
	if err := os.WriteFile("policy.yaml", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]string{
		{"init", "--deployment", "pol", "--trustee", "alice.pub", "--trustee", "bob.pub", "--key", "alice.key", "--key", "bob.key", "-o", "c.json"},
		{"submit", "c.json"},
		{"propose", "policy", "--policy", "policy.yaml", "-o", "p.json"},
		{"sign", "--key", "alice.key", "p.json"},
		{"sign", "--key", "bob.key", "p.json"},
		{"submit", "p.json"},
	} {
		if code, out := runBoardCmd(t, vars, s...); code != 0 {
			t.Fatalf("%v: %d %s", s, code, out)
		}
	}
	code, out := runBoardCmd(t, vars, "show", "p.json")
	if code != 0 || !strings.Contains(out, "cbrn_weapons: block") || !strings.Contains(out, `"policy_version": "7"`) || strings.Count(out, "  key ") != 2 {
		t.Fatalf("show: %d %s", code, out)
	}
	code, out = runBoardCmd(t, vars, "status")
	if code != 0 || !strings.Contains(out, `(version "7", bundle 1)`) {
		t.Fatalf("status: %d %s", code, out)
	}
	// Replaying the same bundle is refused.
	if code, out := runBoardCmd(t, vars, "submit", "p.json"); code != 1 || !strings.Contains(out, "already applied") {
		t.Fatalf("replay: %d %s", code, out)
	}
	// A malformed policy file is a clear error.
	os.WriteFile("bad.yaml", []byte("defaults: [\n"), 0o644)
	if code, out := runBoardCmd(t, vars, "propose", "policy", "--policy", "bad.yaml", "-o", "b.json"); code != 1 || !strings.Contains(out, "bad.yaml") {
		t.Fatalf("bad policy: %d %s", code, out)
	}
}
