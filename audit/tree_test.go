package audit

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestFrontierCache appends leaves through a cache trimmed to the frontier
// after every record and checks tree hashes against tlog with every stored
// hash kept.
func TestFrontierCache(t *testing.T) {
	var all []tlog.Hash
	full := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(all)) {
				return nil, fmt.Errorf("no hash %d", x)
			}
			out[i] = all[x]
		}
		return out, nil
	})
	c := &hashCache{m: map[int64]tlog.Hash{}}
	for n := int64(0); n < 600; n++ {
		data := []byte(fmt.Sprint("record ", n))
		got, err := c.append(n, tlog.RecordHash(data))
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		want, err := tlog.StoredHashes(n, data, full)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, want...)
		if len(got) != len(want)*tlog.HashSize {
			t.Fatalf("record %d: %d hash bytes, want %d hashes", n, len(got), len(want))
		}
		c.trim(n + 1)
		if len(c.m) != len(frontierIndexes(n+1)) {
			t.Fatalf("size %d: cache holds %d hashes, frontier has %d", n+1, len(c.m), len(frontierIndexes(n+1)))
		}
		h1, err := tlog.TreeHash(n+1, c)
		if err != nil {
			t.Fatal(err)
		}
		h2, _ := tlog.TreeHash(n+1, full)
		if h1 != h2 {
			t.Fatalf("size %d: tree hash differs", n+1)
		}
	}
}

func TestWithIndex(t *testing.T) {
	r := Record{Kind: "decision", Action: "allow", RequestID: "x"}
	b0, err := EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Index = 123456
	want, _ := EncodeRecord(r)
	if got := withIndex(b0, 123456); string(got) != string(want) {
		t.Fatalf("withIndex: %s, want %s", got, want)
	}
}
