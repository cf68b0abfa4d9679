package board_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/board"
)

// Each test here is one attack on the board; each must be refused and
// leave enforcement unchanged.

func TestAttackForgedSignature(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	env := f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour))
	// Mallory signs with her own key but claims to be alice and bob.
	mallory := testKey(t, "mallory")
	if err := env.AddSignature(mallory); err != nil {
		t.Fatal(err)
	}
	sig := env.Signatures[0].Sig
	env.Signatures = []board.Signature{
		{KeyID: f.keys["alice"].Public.KeyID(), Sig: sig},
		{KeyID: f.keys["bob"].Public.KeyID(), Sig: sig},
		{KeyID: "", Sig: sig},
	}
	_, err := f.submit(env)
	wantRefused(t, err, "unauthorized", "does not verify")
	if err := f.b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err == nil {
		t.Fatal("forged release admitted traffic")
	}
	if len(f.audit.find("refused", board.KindRelease)) != 1 {
		t.Fatal("refusal not audited")
	}
}

func TestAttackRemovedTrustee(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	// Rotate: carol leaves, dave joins (2 of the old, 2 of the new).
	f.keys["dave"] = testKey(t, "dave")
	nc := &board.Charter{Thresholds: board.DefaultThresholds(2), Expires: f.clock.Now().Add(365 * 24 * time.Hour),
		Trustees: []board.PublicKey{f.keys["alice"].Public, f.keys["bob"].Public, f.keys["dave"].Public}}
	env := f.propose(&board.Statement{Type: board.KindCharter, Charter: nc})
	f.mustAccept(f.sign(env, "alice", "bob", "dave"))

	// carol alone: not a trustee any more.
	rel := f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour))
	_, err := f.submit(f.sign(rel, "carol"))
	wantRefused(t, err, "unauthorized", "not a trustee")
	// carol and alice: only alice counts, so still one short.
	res, err := f.submit(f.sign(rel, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "pending" || res.Needed != 1 || strings.Join(res.Signers, ",") != "alice" {
		t.Fatalf("got %+v, want pending with alice only and 1 needed", res)
	}
	if err := f.b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err == nil {
		t.Fatal("release counted a removed trustee")
	}
}

func TestAttackTrusteeSignsTwice(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	env := f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour))
	f.sign(env, "alice")
	// The same signature again, once with and once without key ID.
	env.Signatures = append(env.Signatures, env.Signatures[0], board.Signature{Sig: env.Signatures[0].Sig})
	res, err := f.submit(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "pending" || res.Needed != 1 || len(res.Signers) != 1 {
		t.Fatalf("got %+v, want alice counted once and 1 more needed", res)
	}
	if err := f.b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err == nil {
		t.Fatal("a double signature released the model")
	}
}

func TestAttackThresholdNotMet(t *testing.T) {
	f := newFixture(t, 3, "alice", "bob", "carol")
	env := f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "alice", "bob")
	res, err := f.submit(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "pending" || res.Needed != 1 {
		t.Fatalf("got %+v, want pending, 1 needed", res)
	}
	err = f.b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL)
	wantRefused(t, err, "not-released", "no release signed")
	if len(f.audit.find("pending", board.KindRelease)) != 1 {
		t.Fatal("pending statement not audited")
	}
	// The third signature, submitted alone, completes the statement:
	// signatures are merged with the pending copy.
	only := f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "carol")
	res, err = f.submit(only)
	if err != nil || res.Status != "accepted" {
		t.Fatalf("got %+v, %v; want accepted after merging signatures", res, err)
	}
	if err := f.b.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatal(err)
	}
}

func TestAttackPolicyReplay(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	old := f.sign(f.propose(policyStmt(sha("policy v1"))), "alice", "bob")
	f.mustAccept(old)
	f.mustAccept(f.sign(f.propose(policyStmt(sha("policy v2"))), "alice", "bob"))
	_, err := f.submit(old)
	wantRefused(t, err, "stale", "replay or rollback")
	// The loader asks for the old policy: refused, it was superseded.
	err = f.b.VerifyPolicyDigest(context.Background(), sha("policy v1"), "", false, nil)
	wantRefused(t, err, "policy-unapproved", "superseded")
	if err := f.b.VerifyPolicyDigest(context.Background(), sha("policy v2"), "", false, nil); err != nil {
		t.Fatal(err)
	}
	// A statement that skips a version or names a wrong predecessor.
	s := policyStmt(sha("policy v3"))
	f.b.Status().Prepare(s, f.clock.Now())
	s.Previous = sha("not the head")
	env, _ := s.Envelope()
	_, err = f.submit(f.sign(env, "alice", "bob"))
	wantRefused(t, err, "stale", "names predecessor")
}

func TestAttackOtherDeployment(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	s := haltStmt("*", "drill")
	f.b.Status().Prepare(s, f.clock.Now())
	s.Deployment = "staging"
	env, err := s.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.submit(f.sign(env, "alice", "bob", "carol"))
	wantRefused(t, err, "wrong-deployment", `for deployment "staging"`)
	if err := f.b.Admit(context.Background(), "m", "/r", testUpstream, testUpstreamURL); err != nil && strings.Contains(err.Error(), "halted") {
		t.Fatal("a halt for another deployment was enforced")
	}
}

func TestAttackExpiredRelease(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob"))
	ctx := context.Background()
	if err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL)
	wantRefused(t, err, "not-released", "the release (expired")
	if he, ok := err.(interface{ HTTPStatus() int }); !ok || he.HTTPStatus() != 403 {
		t.Fatalf("Admit error %v has no HTTPStatus 403", err)
	}
	if recs := f.audit.find("enforce", board.KindRelease); len(recs) != 2 || recs[1].Detail["change"] != "release expired" {
		t.Fatalf("expiry not audited once: %v", recs)
	}
	// A release that is already expired is refused at submission.
	_, err = f.submit(f.sign(f.propose(releaseStmt("gpt-y", f.clock.Now(), -time.Minute)), "alice", "bob"))
	wantRefused(t, err, "expired", "expired")
}

func TestAttackTamperedPayload(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	env := f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob")
	p, _ := env.DecodePayload()
	tampered := strings.Replace(string(p), `"gpt-x"`, `"gpt-evil"`, 1)
	if tampered == string(p) {
		t.Fatal("test did not tamper")
	}
	env.Payload = base64.StdEncoding.EncodeToString([]byte(tampered))
	_, err := f.submit(env)
	wantRefused(t, err, "unauthorized", "does not verify")
	if err := f.b.Admit(context.Background(), "gpt-evil", "/v1/chat/completions", testUpstream, testUpstreamURL); err == nil {
		t.Fatal("tampered release admitted traffic")
	}
}

func TestAttackCharterRotationWithoutOldQuorum(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	// An operator makes keys for two puppets and rotates the charter to
	// them, with the help of one old trustee only.
	f.keys["p1"], f.keys["p2"] = testKey(t, "p1"), testKey(t, "p2")
	nc := &board.Charter{Thresholds: board.DefaultThresholds(2), Expires: f.clock.Now().Add(time.Hour * 24 * 365),
		Trustees: []board.PublicKey{f.keys["alice"].Public, f.keys["p1"].Public, f.keys["p2"].Public}}
	env := f.sign(f.propose(&board.Statement{Type: board.KindCharter, Charter: nc}), "alice", "p1", "p2")
	res, err := f.submit(env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "pending" {
		t.Fatalf("rotation with 1 of 2 old trustees: %+v", res)
	}
	if _, v := f.b.Charter(); v != 1 {
		t.Fatalf("charter version %d in force, want 1", v)
	}
	// Only the puppets: refused outright.
	env2 := f.sign(f.propose(&board.Statement{Type: board.KindCharter, Charter: nc, Note: "again"}), "p1", "p2")
	if res, err := f.submit(env2); err == nil && res.Status == "accepted" {
		t.Fatal("rotation by new keys alone was accepted")
	}
	// Old quorum but the new charter's own trustees did not sign: pending
	// (TUF also requires the new root's threshold).
	f.keys["q"] = testKey(t, "q")
	nc2 := &board.Charter{Thresholds: board.DefaultThresholds(2), Expires: f.clock.Now().Add(time.Hour * 24 * 365),
		Trustees: []board.PublicKey{f.keys["q"].Public, f.keys["p1"].Public}}
	env3 := f.sign(f.propose(&board.Statement{Type: board.KindCharter, Charter: nc2}), "alice", "bob")
	res, err = f.submit(env3)
	if err != nil || res.Status != "pending" {
		t.Fatalf("got %+v, %v; want pending for the new trustees", res, err)
	}
}

func TestAttackLooseKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alice.key")
	if err := board.WriteKeyFile(path, testKey(t, "alice"), nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", st.Mode().Perm())
	}
	if _, err := board.ReadKeyFile(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := board.ReadKeyFile(path, nil)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %o: got %v, want a refusal", mode, err)
		}
	}
}
