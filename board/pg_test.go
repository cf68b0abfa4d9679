package board_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/board"
)

// pgDSN returns the test database or skips.
func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("WARDEN_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("WARDEN_TEST_POSTGRES is not set: skipping the PostgreSQL board tests (e.g. WARDEN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return dsn
}

// pgPrefix returns a unique table prefix whose tables are dropped after
// every board and store of the test has closed.
func pgPrefix(t *testing.T, dsn string) string {
	var b [6]byte
	rand.Read(b[:])
	prefix := "t" + hex.EncodeToString(b[:]) + "_"
	t.Cleanup(func() {
		s, err := board.OpenPGStore(context.Background(), dsn, prefix)
		if err != nil {
			t.Errorf("drop tables: %v", err)
			return
		}
		defer s.Close()
		if err := s.Drop(context.Background()); err != nil {
			t.Errorf("drop tables: %v", err)
		}
	})
	return prefix
}

// pgStore opens a store with its own connection pool and drops its tables
// when the test ends.
func pgStore(t *testing.T, dsn, prefix string) *board.PGStore {
	t.Helper()
	s, err := board.OpenPGStore(context.Background(), dsn, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openOn(t *testing.T, f *fixture, s board.Store) *board.Board {
	t.Helper()
	b, err := board.Open(context.Background(), board.Config{Store: s, Genesis: f.genesis, Audit: f.audit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Two board instances, each with its own connection pool, on one database:
// a halt accepted by one is enforced by the other within a second.
func TestPGTwoReplicasHalt(t *testing.T) {
	dsn := pgDSN(t)
	f := newFixture(t, 2, "alice", "bob", "carol")
	prefix := pgPrefix(t, dsn)
	a := openOn(t, f, pgStore(t, dsn, prefix))
	b := openOn(t, f, pgStore(t, dsn, prefix))
	f.b = a
	ctx := context.Background()

	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", time.Now(), time.Hour)), "alice", "bob"))
	waitFor(t, time.Second, func() bool {
		return b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL) == nil
	})

	sig := b.HaltSignal("gpt-x", "/v1/chat/completions")
	t0 := time.Now()
	f.mustAccept(f.sign(f.propose(haltStmt("model:gpt-x", "incident")), "carol"))
	select {
	case <-sig:
		t.Logf("replica B enforced the halt %v after replica A accepted it", time.Since(t0))
	case <-time.After(time.Second):
		t.Fatal("replica B did not enforce the halt within 1 second")
	}
	wantRefused(t, b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "incident")

	// Pending signatures are shared: alice signs the resume on A, bob on B.
	s := resumeStmt("model:gpt-x", "fixed")
	a.Status().Prepare(s, time.Now())
	env, _ := s.Envelope()
	if res, err := a.Submit(ctx, f.sign(env, "alice")); err != nil || res.Status != "pending" {
		t.Fatal(res, err)
	}
	env.Signatures = nil
	if res, err := b.Submit(ctx, f.sign(env, "bob")); err != nil || res.Status != "accepted" {
		t.Fatalf("resume on B merging A's pending signature: %+v %v", res, err)
	}
	waitFor(t, time.Second, func() bool {
		return a.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL) == nil
	})

	// Token totals of both replicas add up once saved.
	a.AddTokens("gpt-x", "served", 800, 0)
	b.AddTokens("guard", "guard", 200, 0)
	if err := a.Close(); err != nil { // saves a's totals; reopen a
		t.Fatal(err)
	}
	a = openOn(t, f, pgStore(t, dsn, prefix))
	f.b = a
	if cr := a.Meter().Commitments(); cr[0].TotalTokens != 800 {
		t.Fatalf("a after restart: %+v", cr)
	}
	b.Close()
	b = openOn(t, f, pgStore(t, dsn, prefix))
	if cr := b.Meter().Commitments(); cr[0].TotalTokens != 1000 || cr[0].Measured != 0.2 || !cr[0].Met {
		t.Fatalf("both replicas' totals: %+v", cr)
	}

	// Both replicas race to halt the same scope with the same version:
	// exactly one wins, the other is refused as stale.
	h1 := f.propose(haltStmt("*", "race one"))
	h2 := f.propose(haltStmt("*", "race two"))
	f.sign(h1, "alice")
	f.sign(h2, "bob")
	errs := make(chan error, 2)
	go func() { _, err := a.Submit(ctx, h1); errs <- err }()
	go func() { _, err := b.Submit(ctx, h2); errs <- err }()
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("racing halts: %v / %v; want exactly one accepted", e1, e2)
	}
	waitFor(t, time.Second, func() bool {
		return a.Admit(ctx, "m", "/r", testUpstream, testUpstreamURL) != nil && b.Admit(ctx, "m", "/r", testUpstream, testUpstreamURL) != nil
	})
	if len(a.History()) != len(b.History()) {
		t.Fatalf("replicas disagree: %d vs %d statements", len(a.History()), len(b.History()))
	}
}

// The same with the second replica in another process.
func TestPGTwoProcessesHalt(t *testing.T) {
	dsn := pgDSN(t)
	f := newFixture(t, 2, "alice", "bob", "carol")
	prefix := pgPrefix(t, dsn)
	a := openOn(t, f, pgStore(t, dsn, prefix))
	f.b = a
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", time.Now(), time.Hour)), "alice", "bob"))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPGReplicaProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "BOARD_REPLICA_DSN="+dsn, "BOARD_REPLICA_PREFIX="+prefix)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	expect := func(prefix string, within time.Duration) string {
		t.Helper()
		deadline := time.After(within)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("replica process exited before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-deadline:
				t.Fatalf("replica process: no %q within %v", prefix, within)
			}
		}
	}
	expect("REPLICA ready", 10*time.Second)
	t0 := time.Now()
	f.mustAccept(f.sign(f.propose(haltStmt("model:gpt-x", "incident")), "carol"))
	expect("REPLICA halted", time.Second)
	t.Logf("replica process enforced the halt %v after this process accepted it", time.Since(t0))
	l := expect("REPLICA admit", time.Second)
	if !strings.Contains(l, "halted by the safety board") {
		t.Fatalf("replica admit after halt: %s", l)
	}
}

// TestPGReplicaProcess is the second process of TestPGTwoProcessesHalt.
func TestPGReplicaProcess(t *testing.T) {
	dsn, prefix := os.Getenv("BOARD_REPLICA_DSN"), os.Getenv("BOARD_REPLICA_PREFIX")
	if dsn == "" {
		t.Skip("helper process for TestPGTwoProcessesHalt")
	}
	s, err := board.OpenPGStore(context.Background(), dsn, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := board.Open(context.Background(), board.Config{Store: s})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatalf("release not visible in replica: %v", err)
	}
	sig := b.HaltSignal("gpt-x", "/v1/chat/completions")
	fmt.Println("REPLICA ready")
	select {
	case <-sig:
		fmt.Println("REPLICA halted")
	case <-time.After(15 * time.Second):
		t.Fatal("no halt")
	}
	fmt.Printf("REPLICA admit %v\n", b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL))
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
