package audit_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/audit"
)

// TestTamper changes the database behind the log's back in every way the
// issue names and checks that verify finds it and names the index.
func TestTamper(t *testing.T) {
	cases := []struct {
		name     string
		sql      func(b backend) []string
		firstBad int64
		problem  string
	}{
		{"change", func(b backend) []string { return []string{b.modifyAction(5)} }, 5, "record 5: body does not match its stored leaf hash"},
		{"delete", func(backend) []string { return []string{`DELETE FROM records WHERE idx = 7`} }, 7, "record 7 is missing"},
		{"delete last", func(backend) []string { return []string{`DELETE FROM records WHERE idx = 39`} }, 39, "record 39 is missing"},
		{"reorder", func(backend) []string {
			return []string{`UPDATE records SET idx = -1 WHERE idx = 2`, `UPDATE records SET idx = 2 WHERE idx = 4`, `UPDATE records SET idx = 4 WHERE idx = -1`}
		}, 2, "record 2: row holds record 4"},
		{"insert in the middle", func(backend) []string {
			return []string{
				`UPDATE records SET idx = -idx - 1 WHERE idx >= 6`,
				`UPDATE records SET idx = -idx WHERE idx < 0`,
				`INSERT INTO records (idx, request_id, kind, time_ns, body, hashes) SELECT 6, request_id, kind, time_ns, body, hashes FROM records WHERE idx = 3`,
			}
		}, 6, "record 6: row holds record 3"},
		{"insert at the end", func(backend) []string {
			return []string{`INSERT INTO records (idx, request_id, kind, time_ns, body, hashes) SELECT 40, request_id, kind, time_ns, body, hashes FROM records WHERE idx = 3`}
		}, 40, "record 40 is beyond the head's 40 records"},
		{"change index column", func(backend) []string {
			return []string{`UPDATE records SET request_id = 'req-999' WHERE idx = 9`}
		}, 9, "record 9: request id, kind or time columns differ"},
		{"change stored hash", func(backend) []string {
			return []string{`UPDATE records SET hashes = (SELECT hashes FROM records WHERE idx = 12) WHERE idx = 14`}
		}, 14, "record 14: body does not match its stored leaf hash"},
		{"forge checkpoint", func(backend) []string {
			return []string{`UPDATE checkpoints SET note = (SELECT note FROM checkpoints ORDER BY size LIMIT 1) WHERE size = (SELECT MAX(size) FROM checkpoints)`}
		}, -1, "note is for size 10"},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := b.config(t)
				cfg.CheckpointEvery = 10
				l := openLog(t, cfg)
				for i := range 40 { // one by one: checkpoints at 10, 20, 30, 40
					if err := l.Record(context.Background(), decision(i)); err != nil {
						t.Fatal(err)
					}
				}
				l.Close()
				if rep := verify(t, cfg, audit.VerifyOptions{}); !rep.OK() {
					t.Fatalf("clean log does not verify: %v", rep.Problems)
				}
				for _, q := range tc.sql(b) {
					b.exec(t, cfg, q)
				}
				rep := verify(t, cfg, audit.VerifyOptions{})
				if rep.OK() {
					t.Fatal("tampering not detected")
				}
				if rep.FirstBad != tc.firstBad {
					t.Errorf("first bad = %d, want %d; problems: %v", rep.FirstBad, tc.firstBad, rep.Problems)
				}
				if !strings.Contains(strings.Join(rep.Problems, "\n"), tc.problem) {
					t.Errorf("problems %q do not mention %q", rep.Problems, tc.problem)
				}
			})
		}
	})
}

// TestRollback restores the database to an older, internally consistent
// state: verify alone cannot tell, a checkpoint saved earlier can, and so
// can it after the rolled-back log grew past it again (a fork).
func TestRollback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		cfg := b.config(t)
		cfg.CheckpointEvery = 10
		l := openLog(t, cfg)
		appendN(t, l, 0, 20)
		old, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, l, 20, 25)
		saved, err := l.Checkpoint(ctx) // a witness keeps this one
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		v, _ := audit.LoadVerifier(cfg.DataDir + "/audit.pub")
		cp, err := audit.OpenCheckpoint(saved, v)
		if err != nil || cp.Size != 45 {
			t.Fatalf("saved checkpoint: %+v, %v", cp, err)
		}
		oldCP, _ := audit.OpenCheckpoint(old, v)

		// Roll back to the state at the old checkpoint: everything after it
		// disappears consistently.
		for _, q := range []string{
			`DELETE FROM records WHERE idx >= ` + itoa(oldCP.Size),
			`DELETE FROM checkpoints WHERE size > ` + itoa(oldCP.Size),
			`UPDATE head SET size = ` + itoa(oldCP.Size) + `, checkpoint_size = ` + itoa(oldCP.Size),
		} {
			b.exec(t, cfg, q)
		}
		if rep := verify(t, cfg, audit.VerifyOptions{}); !rep.OK() {
			t.Fatalf("a consistent rollback is not visible without outside checkpoints, got %v", rep.Problems)
		}
		rep := verify(t, cfg, audit.VerifyOptions{Checkpoints: [][]byte{saved}})
		if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "commits to 45 records but the log has 20") {
			t.Fatalf("rollback not detected: %+v", rep)
		}
		// The log grows again past the saved size, with different records.
		l = openLog(t, cfg)
		for i := range 30 {
			r := decision(1000 + i)
			if err := l.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		rep = verify(t, cfg, audit.VerifyOptions{Checkpoints: [][]byte{saved, old}})
		if rep.OK() || rep.FirstBad != 20 || !strings.Contains(strings.Join(rep.Problems, "\n"), "given checkpoint #1: root hash differs") {
			t.Fatalf("fork not detected at 20: first bad %d, %v", rep.FirstBad, rep.Problems)
		}
	})
}

// TestRollbackFileRestore restores an SQLite database file from a backup
// taken earlier: the restored log verifies on its own, and a checkpoint
// saved after the backup exposes it.
func TestRollbackFileRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(t, dir, audit.Config{DataDir: dir, CheckpointEvery: 10})
	l := openLog(t, cfg)
	appendN(t, l, 0, 30)
	l.Close()
	db := filepath.Join(dir, "audit.db")
	backup := readFiles(t, db, db+"-wal", db+"-shm")

	l = openLog(t, cfg)
	appendN(t, l, 30, 30)
	saved, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	for name, data := range backup {
		os.Remove(name)
		if data != nil {
			if err := os.WriteFile(name, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep := verify(t, cfg, audit.VerifyOptions{}); !rep.OK() || rep.Size != 30 {
		t.Fatalf("restored backup: %+v", rep)
	}
	rep := verify(t, cfg, audit.VerifyOptions{Checkpoints: [][]byte{saved}})
	if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "commits to 60 records but the log has 30") {
		t.Fatalf("restore not detected: %+v", rep)
	}
}

// readFiles returns the contents of the files that exist (nil for the
// others).
func readFiles(t *testing.T, names ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// TestOpenRefusesAlteredTree: a log whose stored tree no longer matches its
// latest checkpoint does not open for appending.
func TestOpenRefusesAlteredTree(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 10
		l := openLog(t, cfg)
		for i := range 40 {
			if err := l.Record(context.Background(), decision(i)); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		// Record 39 holds the root of [32, 40); give it record 7's hashes
		// (also four, so only the values are wrong).
		b.exec(t, cfg, `UPDATE records SET hashes = (SELECT hashes FROM records WHERE idx = 7) WHERE idx = 39`)
		_, err := audit.Open(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "does not match its latest checkpoint") {
			t.Fatalf("opened an altered log: %v", err)
		}
	})
}
