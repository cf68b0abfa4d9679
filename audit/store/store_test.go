package store_test

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit/store"
)

// TestHashLocation checks that every stored hash index maps to the record
// that created it and the hash's place in that record's row.
func TestHashLocation(t *testing.T) {
	var next int64
	for n := int64(0); n < 5000; n++ {
		created := 1 + countTrailingOnes(n) // tlog.StoredHashes returns this many
		if base := tlog.StoredHashIndex(0, n); base != next {
			t.Fatalf("record %d: first stored index %d, want %d", n, base, next)
		}
		for k := 0; k < created; k++ {
			rec, off := store.HashLocation(next)
			if rec != n || off != k {
				t.Fatalf("index %d: got record %d offset %d, want %d %d", next, rec, off, n, k)
			}
			next++
		}
	}
	if next != tlog.StoredHashCount(5000) {
		t.Fatalf("counted %d stored hashes, tlog says %d", next, tlog.StoredHashCount(5000))
	}
}

func countTrailingOnes(n int64) int {
	c := 0
	for n&1 == 1 {
		c++
		n >>= 1
	}
	return c
}

func TestHashAt(t *testing.T) {
	h := tlog.RecordHash([]byte("x"))
	row := append(make([]byte, 32), h[:]...)
	got, err := store.HashAt(row, 1)
	if err != nil || got != h {
		t.Fatalf("HashAt: %v %v", got, err)
	}
	if _, err := store.HashAt(row, 2); err == nil {
		t.Fatal("HashAt past the row did not fail")
	}
}
