package board_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-safety/warden/board"
)

func TestKeyFileEncrypted(t *testing.T) {
	dir := t.TempDir()
	k, err := board.GenerateKey("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alice.key")
	if err := board.WriteKeyFile(path, k, []byte("correct horse")); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), `"seed"`) || !strings.Contains(string(raw), `"kdf": "scrypt"`) {
		t.Fatalf("encrypted key file holds a plain seed or no kdf:\n%s", raw)
	}
	if err := board.WriteKeyFile(path, k, nil); err == nil {
		t.Fatal("WriteKeyFile overwrote an existing key")
	}
	_, err = board.ReadKeyFile(path, func() ([]byte, error) { return []byte("wrong"), nil })
	if !errors.Is(err, board.ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := board.ReadKeyFile(path, nil); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("no passphrase: %v", err)
	}
	k2, err := board.ReadKeyFile(path, func() ([]byte, error) { return []byte("correct horse"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if k2.Public != k.Public {
		t.Fatal("public key changed")
	}
	// The reopened key signs what the original's public key verifies.
	c := &board.Charter{Trustees: []board.PublicKey{k.Public}}
	env := &board.Envelope{PayloadType: board.PayloadType, Payload: "eA=="}
	if err := env.AddSignature(k2); err != nil {
		t.Fatal(err)
	}
	if rep := c.CheckSignatures(env); len(rep.Signers) != 1 {
		t.Fatalf("signature of reopened key: %+v", rep)
	}
	// Mismatched public key is detected.
	other, _ := board.GenerateKey("alice", nil)
	data, _ := board.MarshalKeyFile(k, nil)
	bad := strings.Replace(string(data), k.Public.Key, other.Public.Key, 1)
	if _, err := board.ParseKeyFile([]byte(bad), nil); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatched key file: %v", err)
	}
	// A .pub file is not a private key.
	if _, err := board.ParseKeyFile(board.MarshalPublicKey(k.Public), nil); err == nil {
		t.Fatal("parsed a public key as a private key")
	}
	p, err := board.ParsePublicKey(board.MarshalPublicKey(k.Public))
	if err != nil || p != k.Public {
		t.Fatalf("public key round trip: %v", err)
	}
}

func TestKeyNames(t *testing.T) {
	for _, n := range []string{"", "a b", "x/y", strings.Repeat("a", 65)} {
		if _, err := board.GenerateKey(n, nil); err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
}
