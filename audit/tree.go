package audit

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// frontierIndexes returns the stored hash indexes of the roots of the
// complete subtrees that make up a tree of n records, left to right. They
// are all the hashes needed to append record n or to compute the tree hash.
func frontierIndexes(n int64) []int64 {
	var out []int64
	var lo int64
	for lo < n {
		level := 0
		k := int64(1)
		for k*2 <= n-lo {
			k *= 2
			level++
		}
		out = append(out, tlog.StoredHashIndex(level, lo>>uint(level)))
		lo += k
	}
	return out
}

// hashCache is a map of stored hashes that falls back to a reader for the
// ones it lacks. It is not safe for concurrent use.
type hashCache struct {
	m        map[int64]tlog.Hash
	fallback tlog.HashReader // may be nil
}

func (c *hashCache) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var miss []int
	for i, idx := range indexes {
		h, ok := c.m[idx]
		if !ok {
			miss = append(miss, i)
			continue
		}
		out[i] = h
	}
	if len(miss) > 0 {
		if c.fallback == nil {
			return nil, fmt.Errorf("stored hash %d not available", indexes[miss[0]])
		}
		want := make([]int64, len(miss))
		for j, i := range miss {
			want[j] = indexes[i]
		}
		got, err := c.fallback.ReadHashes(want)
		if err != nil {
			return nil, err
		}
		for j, i := range miss {
			out[i] = got[j]
			c.m[indexes[i]] = got[j]
		}
	}
	return out, nil
}

// append computes the stored hashes of record n with leaf hash leaf, adds
// them to the cache and returns them concatenated.
func (c *hashCache) append(n int64, leaf tlog.Hash) ([]byte, error) {
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, c)
	if err != nil {
		return nil, err
	}
	base := tlog.StoredHashIndex(0, n)
	out := make([]byte, 0, len(hs)*tlog.HashSize)
	for i, h := range hs {
		c.m[base+int64(i)] = h
		out = append(out, h[:]...)
	}
	return out, nil
}

// trim drops every hash but the frontier of a tree of n records.
func (c *hashCache) trim(n int64) {
	keep := frontierIndexes(n)
	m := make(map[int64]tlog.Hash, len(keep)+128)
	for _, idx := range keep {
		if h, ok := c.m[idx]; ok {
			m[idx] = h
		}
	}
	c.m = m
}

func (c *hashCache) clone() *hashCache {
	m := make(map[int64]tlog.Hash, len(c.m)+128)
	for k, v := range c.m {
		m[k] = v
	}
	return &hashCache{m: m, fallback: c.fallback}
}
