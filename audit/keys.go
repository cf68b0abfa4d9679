package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// GenerateKey creates an Ed25519 note key pair named name (the log's
// origin, for example "audit.warden.example.com") and writes the signer key
// to signerPath with mode 0600 and the verifier key to verifierPath. It
// refuses to overwrite either file.
func GenerateKey(name, signerPath, verifierPath string) error {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	for _, p := range []string{signerPath, verifierPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("generate key: %s exists; refusing to overwrite it", p)
		}
	}
	if err := writeNew(signerPath, skey+"\n", 0o600); err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(verifierPath, vkey+"\n", 0o644); err != nil {
		os.Remove(signerPath)
		return fmt.Errorf("generate key: %w", err)
	}
	return nil
}

func writeNew(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; refusing to overwrite it", path)
		}
		return err
	}
	if err := f.Chmod(mode); err != nil { // the umask may have narrowed it
		f.Close()
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadSigner reads a signer key file written by GenerateKey and returns the
// signer and its verifier. It refuses a file that group or others can read
// or write.
func LoadSigner(path string) (note.Signer, note.Verifier, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load signer key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, fmt.Errorf("load signer key: %s has mode %04o; it must not be accessible by group or others (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load signer key: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	s, err := note.NewSigner(skey)
	if err != nil {
		// The note package's errors do not include the key; keep it that way.
		return nil, nil, fmt.Errorf("load signer key: %s: malformed signer key", path)
	}
	v, err := verifierFromSigner(skey)
	if err != nil {
		return nil, nil, fmt.Errorf("load signer key: %s: %w", path, err)
	}
	return s, v, nil
}

// verifierFromSigner derives the verifier of an Ed25519 signer key
// "PRIVATE+KEY+name+hash+base64(alg || seed)".
func verifierFromSigner(skey string) (note.Verifier, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return nil, errors.New("malformed signer key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("signer key is not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(vkey)
}

// LoadVerifier reads a verifier key file ("name+hash+base64 key").
func LoadVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load verifier key: %w", err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("load verifier key: %s: %w", path, err)
	}
	return v, nil
}
