package board_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/board"
	"github.com/warden-safety/warden/policy"
)

const basePolicy = `
version: "1"
defaults:
  fail_mode: closed
  hold_back: 200
  input:
    "*": flag
    cbrn_weapons: block
  output:
    cbrn_weapons: block
`

// The board as the policy Loader's verifier, over real policy files.
func TestPolicyLoaderWithBoard(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	store := policy.NewStore(nil)
	l := &policy.Loader{Path: path, Store: store, Verifiers: []policy.Verifier{f.b}}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	parse := func(s string) *policy.Policy {
		t.Helper()
		p, err := policy.Parse("p", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Before any approval, a policy weaker than the built-in default is
	// refused.
	write(basePolicy)
	err := l.Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "needs a policy statement with this digest signed by 2 of 3 trustees") {
		t.Fatalf("unsigned first policy: %v", err)
	}
	if cur := store.Current(); cur != nil && cur.Digest() == parse(basePolicy).Digest() {
		t.Fatal("refused policy is in force")
	}

	// The board approves it (with its source).
	p1 := parse(basePolicy)
	s := &board.Statement{Type: board.KindPolicy, Policy: &board.PolicyBundle{Digest: p1.Digest(), PolicyVersion: p1.Version(), Source: p1.Source()}}
	f.mustAccept(f.sign(f.propose(s), "alice", "bob"))
	if err := l.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if store.Current().Digest() != p1.Digest() {
		t.Fatal("approved policy not in force")
	}

	// Weakening (cbrn flag instead of block) without signatures: refused,
	// the previous policy stays, the error names why.
	weaker := strings.Replace(basePolicy, "    cbrn_weapons: block\n  output", "    cbrn_weapons: flag\n  output", 1)
	write(weaker)
	err = l.Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "block becomes flag") {
		t.Fatalf("weaker policy: %v", err)
	}
	if store.Current().Digest() != p1.Digest() {
		t.Fatal("previous policy not kept")
	}
	if len(f.audit.find("refused", board.KindPolicy)) == 0 {
		t.Fatal("refused policy not audited")
	}

	// Tightening (hold back more) applies locally without the board.
	stricter := strings.Replace(basePolicy, "hold_back: 200", "hold_back: 400", 1)
	write(stricter)
	if err := l.Load(ctx); err != nil {
		t.Fatalf("stricter policy: %v", err)
	}
	// After a restart (no policy in force), the stricter local policy is
	// still accepted: it is compared with the approved source.
	l2 := &policy.Loader{Path: path, Store: policy.NewStore(nil), Verifiers: []policy.Verifier{f.b}}
	if err := l2.Load(ctx); err != nil {
		t.Fatalf("stricter policy after restart: %v", err)
	}

	// A bundle whose source does not match its digest is refused.
	bad := &board.Statement{Type: board.KindPolicy, Policy: &board.PolicyBundle{Digest: p1.Digest(), Source: []byte(stricter)}}
	_, err = f.submit(f.sign(f.propose(bad), "alice", "bob"))
	wantRefused(t, err, "invalid", "its source has digest")
}
