package board_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/warden-safety/warden/board"
)

func TestPAE(t *testing.T) {
	// The DSSE protocol's own example.
	got := string(board.PAE("http://example.com/HelloWorld", []byte("hello world")))
	want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	if got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
	if got := string(board.PAE("", nil)); got != "DSSEv1 0  0 " {
		t.Fatalf("empty PAE = %q", got)
	}
}

// FuzzPAE checks our PAE against the reference implementation used by
// in-toto and Sigstore.
func FuzzPAE(f *testing.F) {
	f.Add("application/vnd.warden.board.statement+json", []byte(`{"type":"halt"}`))
	f.Add("", []byte{})
	f.Add("a b", []byte("DSSEv1 1 x 1 y"))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		if !bytes.Equal(board.PAE(typ, body), dsse.PAE(typ, body)) {
			t.Fatalf("PAE differs from the reference for %q, %q", typ, body)
		}
	})
}

// FuzzParseEnvelope feeds arbitrary bytes to the envelope and statement
// decoders: they must never panic, and whatever they accept must survive
// a round trip and verification.
func FuzzParseEnvelope(f *testing.F) {
	s := `{"type":"halt","deployment":"prod","version":1,"issued_at":"2026-11-01T00:00:00Z","halt":{"scope":"*","reason":"x"}}`
	f.Add([]byte(`{"payloadType":"` + board.PayloadType + `","payload":"` + base64.StdEncoding.EncodeToString([]byte(s)) + `","signatures":[{"keyid":"ab","sig":"AAAA"}]}`))
	f.Add([]byte(`{"payloadType":"x","payload":"","signatures":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	k, _ := board.GenerateKey("fuzz", bytes.NewReader(make([]byte, 32)))
	c := &board.Charter{Trustees: []board.PublicKey{k.Public}}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := board.ParseEnvelope(data)
		if err != nil {
			return
		}
		e2, err := board.ParseEnvelope(e.Marshal())
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		d1, _ := e.Digest()
		d2, _ := e2.Digest()
		if d1 != d2 {
			t.Fatal("digest changed in round trip")
		}
		c.CheckSignatures(e)
		if st, err := e.Statement(); err == nil {
			_ = st.Subject()
			_ = board.Summarize(st)
		}
	})
}

// FuzzParseKeyFile: the key file parser must not panic on any input.
func FuzzParseKeyFile(f *testing.F) {
	k, _ := board.GenerateKey("alice", bytes.NewReader(make([]byte, 32)))
	plain, _ := board.MarshalKeyFile(k, nil)
	f.Add(plain)
	f.Add(board.MarshalPublicKey(k.Public))
	f.Add([]byte(`{"format":"warden-trustee-key-v1","name":"a","public_key":"","encryption":{"kdf":"scrypt","n":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// No passphrase callback: encrypted files stop before scrypt, so
		// the fuzzer stays fast.
		board.ParseKeyFile(data, nil)
		board.ParsePublicKey(data)
	})
}

// FuzzSubmit feeds arbitrary envelopes to a board: nothing may panic, and
// whatever is accepted must carry enough trustee signatures.
func FuzzSubmit(f *testing.F) {
	fx := newFixture(f, 2, "alice", "bob", "carol")
	now := fx.clock.Now()
	for _, s := range []*board.Statement{releaseStmt("m", now, time.Hour), haltStmt("*", "x"), policyStmt(sha("p"))} {
		f.Add(fx.sign(fx.propose(s), "alice", "bob").Marshal())
		f.Add(fx.sign(fx.propose(s), "carol").Marshal())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := board.ParseEnvelope(data)
		if err != nil {
			return
		}
		res, err := fx.b.Submit(context.Background(), e)
		if err != nil {
			return
		}
		if res.Status == "accepted" && len(res.Signers) == 0 {
			t.Fatalf("accepted without signers: %+v", res)
		}
	})
}
