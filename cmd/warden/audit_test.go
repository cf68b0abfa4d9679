package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/warden-safety/warden/audit"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(env, args)
	return code, out.String(), errb.String()
}

func TestAuditCLI(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runCLI(t, "keygen", "--data-dir", dir, "--name", "cli.test/audit"); code != 0 || !strings.Contains(out, "cli.test/audit+") {
		t.Fatalf("keygen: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "keygen", "--data-dir", dir); code != 1 || !strings.Contains(errs, "refusing to overwrite") {
		t.Fatalf("keygen overwrote: %d %s", code, errs)
	}
	ctx := context.Background()
	l, err := audit.Open(ctx, audit.Config{DataDir: dir, CheckpointEvery: 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 25 {
		err := l.Record(ctx, audit.Record{Kind: "decision", RequestID: fmt.Sprintf("r-%d", i), Time: t0.Add(time.Duration(i) * time.Hour), Action: "allow", InputText: "hi"})
		if err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	code, out, errs := runCLI(t, "audit", "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "ok: 25 records") {
		t.Fatalf("verify: %d %s %s", code, out, errs)
	}
	code, saved, _ := runCLI(t, "audit", "checkpoint", "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(saved, "cli.test/audit\n25\n") {
		t.Fatalf("checkpoint: %q", saved)
	}
	cpFile := filepath.Join(t.TempDir(), "cp.txt")
	os.WriteFile(cpFile, []byte(saved), 0o644)

	proofFile := filepath.Join(t.TempDir(), "proof.json")
	if code, out, errs := runCLI(t, "audit", "proof", "--data-dir", dir, "-o", proofFile, "r-7"); code != 0 {
		t.Fatalf("proof: %d %s %s", code, out, errs)
	}
	code, out, errs = runCLI(t, "audit", "verify-proof", "--key", filepath.Join(dir, "audit.pub"), proofFile)
	if code != 0 || !strings.Contains(out, "ok: record 7 is in the tree of 25 records signed by cli.test/audit") {
		t.Fatalf("verify-proof: %d %s %s", code, out, errs)
	}
	// A proof checked against another key fails.
	other := t.TempDir()
	runCLI(t, "keygen", "--data-dir", other, "--name", "cli.test/audit")
	if code, _, errs := runCLI(t, "audit", "verify-proof", "--key", filepath.Join(other, "audit.pub"), proofFile); code != 1 || !strings.Contains(errs, "verify proof") {
		t.Fatalf("verify-proof with a foreign key: %d %s", code, errs)
	}
	// A doctored proof fails.
	b, _ := os.ReadFile(proofFile)
	os.WriteFile(proofFile, bytes.Replace(b, []byte(`\"action\":\"allow\"`), []byte(`\"action\":\"block\"`), 1), 0o644)
	if code, _, errs := runCLI(t, "audit", "verify-proof", "--key", filepath.Join(dir, "audit.pub"), proofFile); code != 1 || !strings.Contains(errs, "does not match its leaf hash") {
		t.Fatalf("doctored proof: %d %s", code, errs)
	}

	if code, out, _ := runCLI(t, "audit", "consistency", "--data-dir", dir, "10", "25"); code != 0 || !strings.Contains(out, `"old_size": 10`) {
		t.Fatalf("consistency: %s", out)
	}
	if code, _, errs := runCLI(t, "audit", "consistency", "--data-dir", dir, "x"); code != 2 || !strings.Contains(errs, "not a positive integer") {
		t.Fatalf("bad consistency arg: %s", errs)
	}
	code, out, _ = runCLI(t, "audit", "export", "--data-dir", dir, "--since", "2026-11-01T20:00:00Z")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.HasPrefix(out, `{"index":20,`) {
		t.Fatalf("export since time: %q", out)
	}
	code, out, _ = runCLI(t, "audit", "export", "--data-dir", dir, "--since", "23")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Fatalf("export since index: %q", out)
	}
	code, out, _ = runCLI(t, "audit", "tail", "--data-dir", dir, "-n", "3")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"request_id":"r-24"`) {
		t.Fatalf("tail: %q", out)
	}
	code, out, _ = runCLI(t, "audit", "stats", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "records:            25") {
		t.Fatalf("stats: %q", out)
	}

	// Tamper: verify fails and names the index.
	db, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '"allow"', '"block"') AS BLOB) WHERE idx = 12`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, _ = runCLI(t, "audit", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "FAIL: first bad index 12") {
		t.Fatalf("verify after tampering: %d %s", code, out)
	}
	// Roll back: drop the newest records consistently; only the saved
	// checkpoint notices.
	db, _ = sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	for _, q := range []string{`DELETE FROM records WHERE idx >= 10`, `DELETE FROM checkpoints WHERE size > 10`, `UPDATE head SET size = 10, checkpoint_size = 10`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if code, out, _ := runCLI(t, "audit", "verify", "--data-dir", dir); code != 0 {
		t.Fatalf("rolled-back log should verify on its own: %s", out)
	}
	code, out, _ = runCLI(t, "audit", "verify", "--data-dir", dir, "--checkpoint", cpFile)
	if code != 1 || !strings.Contains(out, "commits to 25 records but the log has 10") {
		t.Fatalf("verify --checkpoint after rollback: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "audit", "verify", "--data-dir", t.TempDir()); code != 1 || !strings.Contains(errs, "no audit database") {
		t.Fatalf("missing db: %d %s", code, errs)
	}
}

func TestAuditWitnessCLI(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "keygen", "--data-dir", dir, "--name", "w.test/audit"); code != 0 {
		t.Fatal(errs)
	}
	ctx := context.Background()
	l, err := audit.Open(ctx, audit.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: l.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	state := filepath.Join(t.TempDir(), "seen.txt")
	add := func(n int) {
		for i := range n {
			if err := l.Record(ctx, audit.Record{Kind: "decision", RequestID: fmt.Sprint(i), Action: "allow"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	add(3)
	pub := filepath.Join(dir, "audit.pub")
	if code, out, errs := runCLI(t, "audit", "witness", "--url", url, "--key", pub, "--state", state); code != 0 || !strings.Contains(out, "first checkpoint of w.test/audit saved: 3 records") {
		t.Fatalf("witness first: %d %s %s", code, out, errs)
	}
	add(4)
	if code, out, errs := runCLI(t, "audit", "witness", "--url", url, "--key", pub, "--state", state); code != 0 || !strings.Contains(out, "grew consistently from 3 to 7 records") {
		t.Fatalf("witness second: %d %s %s", code, out, errs)
	}
	// A saved checkpoint from the future (another log) makes it fail.
	other := t.TempDir()
	runCLI(t, "keygen", "--data-dir", other, "--name", "w.test/audit")
	if code, _, errs := runCLI(t, "audit", "witness", "--url", url, "--key", filepath.Join(other, "audit.pub"), "--state", state); code != 1 || !strings.Contains(errs, "witness") {
		t.Fatalf("witness with a foreign key: %d %s", code, errs)
	}
}
