package audit_test

import (
	"bytes"
	"testing"

	"github.com/warden-safety/warden/audit"
)

// FuzzDecodeRecord: decoding never panics, and a decoded record encodes to
// a canonical form that is a fixed point.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"index":3,"kind":"decision","request_id":"r","time":"2026-01-02T03:04:05Z","action":"block","scores":{"a":0.5},"detail":{"n":1e3,"s":"<x>"}}`))
	f.Add([]byte(`{"kind":"governance","action":"approve","detail":{"digest":"ab"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := audit.DecodeRecord(b)
		if err != nil {
			return
		}
		enc, err := audit.EncodeRecord(r)
		if err != nil {
			return // e.g. a time out of range
		}
		r2, err := audit.DecodeRecord(enc)
		if err != nil {
			t.Fatalf("canonical encoding does not decode: %v\n%s", err, enc)
		}
		enc2, err := audit.EncodeRecord(r2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s (%v)", enc, enc2, err)
		}
	})
}

// FuzzParseCheckpoint: parsing never panics and what parses prints back
// as the same text.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("log.example\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte("log.example\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := audit.ParseCheckpoint(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Text(), b) {
			t.Fatalf("round trip: %q -> %q", b, c.Text())
		}
	})
}

// FuzzParseInclusionProof: parsing never panics, and verifying a parsed
// proof with a key never panics.
func FuzzParseInclusionProof(f *testing.F) {
	f.Add([]byte(`{"format":"warden-audit-inclusion-proof/v1","index":0,"tree_size":1,"record":"{}","leaf_hash":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","root_hash":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","proof":[],"checkpoint":"log.example\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— log.example AAAA\n"}`))
	dir := f.TempDir()
	if err := audit.GenerateKey("log.example", dir+"/k", dir+"/k.pub"); err != nil {
		f.Fatal(err)
	}
	v, err := audit.LoadVerifier(dir + "/k.pub")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := audit.ParseInclusionProof(b)
		if err != nil {
			return
		}
		audit.VerifyInclusionProof(p, v)
		audit.ParseConsistencyProof(b)
	})
}
