package board_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/board"
)

var _ board.Auditor = (*audit.Log)(nil)

// errAuditor forwards to the real log and keeps any error (the board only
// logs audit failures).
type errAuditor struct {
	l    *audit.Log
	mu   sync.Mutex
	errs []error
}

func (e *errAuditor) Record(ctx context.Context, r audit.Record) error {
	err := e.l.Record(ctx, r)
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err)
		e.mu.Unlock()
	}
	return err
}

// Governance records land on the real Merkle log (SQLite) and can be
// found again by request ID.
func TestGovernanceOnRealAuditLog(t *testing.T) {
	dir := t.TempDir()
	if err := audit.GenerateKey("board-test", filepath.Join(dir, "audit.key"), filepath.Join(dir, "audit.pub")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := audit.Open(ctx, audit.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := newFixture(t, 2, "alice", "bob", "carol")
	ea := &errAuditor{l: l}
	b, err := board.Open(ctx, board.Config{Dir: t.TempDir(), Genesis: f.genesis, Audit: ea, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f.b = b
	res := f.mustAccept(f.sign(f.propose(haltStmt("*", "drill")), "alice"))
	ids, err := l.FindRequest(ctx, "board-"+strings.TrimPrefix(res.Digest, "sha256:")[:16])
	if err != nil || len(ids) != 2 {
		t.Fatalf("records of the halt: %v %v (want accepted + enforce)", ids, err)
	}
	e, err := l.Entry(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	rec := string(e.Record)
	for _, want := range []string{`"kind":"governance"`, `"action":"accepted"`, `"statement_type":"halt"`, `"signers":["alice"]`, res.Digest} {
		if !strings.Contains(rec, want) {
			t.Errorf("record lacks %s: %s", want, rec)
		}
	}
	if len(ea.errs) > 0 {
		t.Fatalf("audit errors: %v", ea.errs)
	}
}
