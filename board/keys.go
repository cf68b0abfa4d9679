package board

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PublicKey is a trustee's name and Ed25519 public key, as listed in the
// charter and written to NAME.pub by `warden board keygen`.
type PublicKey struct {
	Name string `json:"name"`
	// Key is the raw 32-byte Ed25519 public key in standard base64.
	Key string `json:"public_key"`
}

// KeyID is the hex SHA-256 of the raw public key ("" if the key is invalid).
func (p PublicKey) KeyID() string {
	raw, err := p.raw()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func (p PublicKey) raw() (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(p.Key)
	if err != nil {
		return nil, fmt.Errorf("public key of %q: bad base64: %w", p.Name, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key of %q: %d bytes, want %d", p.Name, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// PrivateKey is a trustee's signing key, held only by the trustee.
type PrivateKey struct {
	Public  PublicKey
	private ed25519.PrivateKey
}

// GenerateKey makes a new trustee key pair from rand (crypto/rand if nil).
func GenerateKey(name string, r io.Reader) (*PrivateKey, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if r == nil {
		r = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &PrivateKey{Public: PublicKey{Name: name, Key: base64.StdEncoding.EncodeToString(pub)}, private: priv}, nil
}

func validName(name string) error {
	if name == "" {
		return errors.New("trustee name is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("trustee name %q is longer than 64 bytes", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.@", r)) {
			return fmt.Errorf("trustee name %q: only letters, digits and -_.@ are allowed", name)
		}
	}
	return nil
}

// keyFile is the on-disk form of a trustee key.
type keyFile struct {
	Format string `json:"format"` // "warden-trustee-key-v1"
	PublicKey
	// Seed is the 32-byte Ed25519 seed in base64, set only when the file is
	// not encrypted.
	Seed       string      `json:"seed,omitempty"`
	Encryption *encryption `json:"encryption,omitempty"`
}

// encryption describes a seed sealed with NaCl secretbox (XSalsa20-Poly1305)
// under a key derived from the passphrase with scrypt.
type encryption struct {
	KDF   string `json:"kdf"` // "scrypt"
	N     int    `json:"n"`
	R     int    `json:"r"`
	P     int    `json:"p"`
	Salt  string `json:"salt"`
	Nonce string `json:"nonce"`
	Box   string `json:"box"`
}

const keyFormat = "warden-trustee-key-v1"

// scrypt cost for new key files: N=2^15, r=8, p=1 (about 32 MiB and
// ~100 ms), the parameters recommended for interactive logins.
const scryptN, scryptR, scryptP = 1 << 15, 8, 1

// ErrPassphrase is returned when a key file cannot be opened with the given
// passphrase.
var ErrPassphrase = errors.New("wrong passphrase or corrupted key file")

// MarshalKeyFile returns the key file contents; with a non-empty passphrase
// the seed is sealed (scrypt + secretbox).
func MarshalKeyFile(k *PrivateKey, passphrase []byte) ([]byte, error) {
	kf := keyFile{Format: keyFormat, PublicKey: k.Public}
	seed := k.private.Seed()
	if len(passphrase) == 0 {
		kf.Seed = base64.StdEncoding.EncodeToString(seed)
	} else {
		var salt [16]byte
		var nonce [24]byte
		if _, err := rand.Read(salt[:]); err != nil {
			return nil, fmt.Errorf("seal key: %w", err)
		}
		if _, err := rand.Read(nonce[:]); err != nil {
			return nil, fmt.Errorf("seal key: %w", err)
		}
		dk, err := scrypt.Key(passphrase, salt[:], scryptN, scryptR, scryptP, 32)
		if err != nil {
			return nil, fmt.Errorf("seal key: %w", err)
		}
		var key [32]byte
		copy(key[:], dk)
		box := secretbox.Seal(nil, seed, &nonce, &key)
		kf.Encryption = &encryption{KDF: "scrypt", N: scryptN, R: scryptR, P: scryptP,
			Salt: base64.StdEncoding.EncodeToString(salt[:]), Nonce: base64.StdEncoding.EncodeToString(nonce[:]),
			Box: base64.StdEncoding.EncodeToString(box)}
	}
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseKeyFile decodes a key file. passphrase is called only when the file
// is encrypted.
func ParseKeyFile(data []byte, passphrase func() ([]byte, error)) (*PrivateKey, error) {
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("parse key file: %w", err)
	}
	if kf.Format != keyFormat {
		return nil, fmt.Errorf("parse key file: format %q, want %q", kf.Format, keyFormat)
	}
	pub, err := kf.PublicKey.raw()
	if err != nil {
		return nil, fmt.Errorf("parse key file: %w", err)
	}
	var seed []byte
	switch {
	case kf.Encryption != nil:
		e := kf.Encryption
		if e.KDF != "scrypt" {
			return nil, fmt.Errorf("parse key file: unknown kdf %q", e.KDF)
		}
		if e.N < 1<<14 || e.N > 1<<20 || e.R < 1 || e.R > 32 || e.P < 1 || e.P > 16 {
			return nil, fmt.Errorf("parse key file: scrypt parameters N=%d r=%d p=%d out of range", e.N, e.R, e.P)
		}
		salt, err1 := base64.StdEncoding.DecodeString(e.Salt)
		nonceB, err2 := base64.StdEncoding.DecodeString(e.Nonce)
		box, err3 := base64.StdEncoding.DecodeString(e.Box)
		if err := errors.Join(err1, err2, err3); err != nil || len(nonceB) != 24 {
			return nil, errors.New("parse key file: malformed encryption block")
		}
		if passphrase == nil {
			return nil, errors.New("parse key file: key is encrypted and no passphrase was given")
		}
		pass, err := passphrase()
		if err != nil {
			return nil, fmt.Errorf("parse key file: passphrase: %w", err)
		}
		dk, err := scrypt.Key(pass, salt, e.N, e.R, e.P, 32)
		if err != nil {
			return nil, fmt.Errorf("parse key file: %w", err)
		}
		var key [32]byte
		var nonce [24]byte
		copy(key[:], dk)
		copy(nonce[:], nonceB)
		s, ok := secretbox.Open(nil, box, &nonce, &key)
		if !ok {
			return nil, ErrPassphrase
		}
		seed = s
	case kf.Seed != "":
		seed, err = base64.StdEncoding.DecodeString(kf.Seed)
		if err != nil {
			return nil, errors.New("parse key file: seed is not valid base64")
		}
	default:
		return nil, errors.New("parse key file: no private key (is this a .pub file?)")
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("parse key file: seed has the wrong length")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(pub) {
		return nil, errors.New("parse key file: private key does not match the public key")
	}
	return &PrivateKey{Public: kf.PublicKey, private: priv}, nil
}

// WriteKeyFile writes the key to path with mode 0600, refusing to
// overwrite an existing file.
func WriteKeyFile(path string, k *PrivateKey, passphrase []byte) error {
	b, err := MarshalKeyFile(k, passphrase)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	return f.Close()
}

// ReadKeyFile reads a trustee key, refusing a file that anyone but its
// owner can read or write (as ssh does for private keys).
func ReadKeyFile(path string, passphrase func() ([]byte, error)) (*PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read key file: %s has mode %04o: a trustee key must be accessible only by its owner (chmod 600 %s)", path, st.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	k, err := ParseKeyFile(data, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// MarshalPublicKey returns the .pub file form of a public key.
func MarshalPublicKey(p PublicKey) []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}

// ParsePublicKey decodes a .pub file (a key file is accepted too: only its
// public part is read).
func ParsePublicKey(data []byte) (PublicKey, error) {
	var p PublicKey
	if err := json.Unmarshal(data, &p); err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	if err := validName(p.Name); err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	if _, err := p.raw(); err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	return PublicKey{Name: p.Name, Key: p.Key}, nil
}
