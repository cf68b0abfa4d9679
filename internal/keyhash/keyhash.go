// Package keyhash keeps API keys as their SHA-256 hashes, the form
// configuration stores them in (`printf %s KEY | sha256sum`), and checks
// a presented key against a set of hashes in constant time.
package keyhash

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
)

// Hash is the SHA-256 of a key.
type Hash [sha256.Size]byte

// Of hashes a key.
func Of(key string) Hash { return sha256.Sum256([]byte(key)) }

// String is the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Parse reads a hash written as 64 hex digits, optionally prefixed
// "sha256:" and surrounded by spaces.
func Parse(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "sha256:"))
	if err != nil || len(b) != len(h) {
		return h, errors.New("is not a hex SHA-256 (64 hex digits, printf %s KEY | sha256sum)")
	}
	return Hash(b), nil
}

// Match returns the index of the hash in hs that key hashes to, or -1.
// Every hash is compared, in constant time, so timing tells nothing about
// which one came close.
func Match(key string, hs []Hash) int {
	sum := Of(key)
	found := -1
	for i := range hs {
		if subtle.ConstantTimeCompare(sum[:], hs[i][:]) == 1 {
			found = i
		}
	}
	return found
}
