// Package store defines the storage interface behind Warden's audit log and
// the row layout every backend shares, so the Merkle bookkeeping lives in
// package audit once and the backends (audit/sqlite, audit/postgres) only
// move bytes.
//
// A log of n records is n rows. Row i holds record i's canonical JSON body
// (nil once retention pruned it) and the tlog stored hashes that appending
// record i created: the leaf hash first, then the hashes of the subtrees the
// leaf completed (tlog.StoredHashes), concatenated. So stored hash index k
// lives in the row of the record that created it, at a fixed offset, and a
// pruned record keeps its hashes: what remains still verifies.
package store

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Head is the log's head row: how many records it has and the tree size of
// its newest checkpoint.
type Head struct {
	Size           int64
	CheckpointSize int64
}

// Entry is one row of the log.
type Entry struct {
	Index     int64
	RequestID string
	Kind      string
	// Time is the record's time in Unix nanoseconds (an index column; the
	// authoritative time is inside Body).
	Time int64
	// Body is the canonical JSON of the record, nil when pruned.
	Body []byte
	// Hashes is the concatenation of the stored hashes record Index created
	// (tlog.StoredHashes), 32 bytes each.
	Hashes []byte
}

// Checkpoint is a signed tree head as stored: the signed note's bytes.
type Checkpoint struct {
	Size int64
	// Time is when it was issued, Unix nanoseconds.
	Time int64
	Note []byte
}

// Batch is what one append transaction writes: entries with consecutive
// indexes starting at the head's size, and optionally a checkpoint for the
// tree size after them.
type Batch struct {
	Entries    []Entry
	Checkpoint *Checkpoint
}

// AppendFunc computes a batch inside an append transaction. head is the
// current head, read under the log's exclusive write lock; r reads stored
// hashes inside the same transaction.
type AppendFunc func(ctx context.Context, head Head, r tlog.HashReader) (Batch, error)

// Store is the storage of one audit log. All methods are safe for concurrent
// use. Implementations must give every append one total order: Append holds
// an exclusive lock across reading the head, fn, and writing the batch, so
// several processes may append to one database concurrently.
type Store interface {
	// Append runs fn in a transaction holding the write lock and commits
	// what it returns; the batch is durable when Append returns nil. When fn
	// returns an error, nothing is written and Append returns that error.
	Append(ctx context.Context, fn AppendFunc) error
	// Head returns the committed head.
	Head(ctx context.Context) (Head, error)
	// ReadHashes returns the stored hashes at the given stored hash indexes.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// Entries returns the rows with start <= index < end in index order.
	// Missing rows are simply absent (verification notices).
	Entries(ctx context.Context, start, end int64) ([]Entry, error)
	// LookupRequest returns the indexes of the records with a request id.
	LookupRequest(ctx context.Context, requestID string) ([]int64, error)
	// FirstIndexSince returns the smallest index whose time is >= t (Unix
	// nanoseconds), or the head size when there is none.
	FirstIndexSince(ctx context.Context, t int64) (int64, error)
	// AddCheckpoint stores a checkpoint (outside an append, for example a
	// timed one); a checkpoint for a size already stored is ignored.
	AddCheckpoint(ctx context.Context, c Checkpoint) error
	// Checkpoints returns the stored checkpoints, ascending by size.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// LatestCheckpoint returns the checkpoint with the largest size;
	// ErrNotFound when there is none.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// CheckpointAt returns the checkpoint for a tree size; ErrNotFound when
	// there is none.
	CheckpointAt(ctx context.Context, size int64) (Checkpoint, error)
	// Prune removes the bodies of records older than before (Unix
	// nanoseconds), keeping their hashes, and returns how many it pruned.
	Prune(ctx context.Context, before int64) (int64, error)
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// SpeculativeAppender is implemented by stores that can write a batch
// computed in advance for an expected head in one round trip, instead of
// reading the head under the lock first. The log uses it when it knows the
// head from its own last append.
type SpeculativeAppender interface {
	// AppendAt writes batch, computed for head at, atomically and durably,
	// or nothing and ErrHeadMoved when the head is no longer at (another
	// process appended).
	AppendAt(ctx context.Context, at Head, batch Batch) error
}

// ErrHeadMoved is returned by AppendAt when the head changed.
var ErrHeadMoved = errors.New("head moved")

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// HashLocation returns the record whose row holds stored hash index idx and
// the hash's position within that row's Hashes.
func HashLocation(idx int64) (record int64, offset int) {
	level, n := tlog.SplitStoredHashIndex(idx)
	record = (n+1)<<uint(level) - 1
	return record, int(idx - tlog.StoredHashIndex(0, record))
}

// HashAt extracts hash number offset from a row's Hashes.
func HashAt(hashes []byte, offset int) (tlog.Hash, error) {
	var h tlog.Hash
	if offset < 0 || (offset+1)*tlog.HashSize > len(hashes) {
		return h, fmt.Errorf("stored hash %d missing from row (%d bytes)", offset, len(hashes))
	}
	copy(h[:], hashes[offset*tlog.HashSize:])
	return h, nil
}

// CollectHashes answers a ReadHashes call from rows fetched by record index.
// rows maps record index to that row's Hashes.
func CollectHashes(indexes []int64, rows map[int64][]byte) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		rec, off := HashLocation(idx)
		hs, ok := rows[rec]
		if !ok {
			return nil, fmt.Errorf("read hash %d: record %d: %w", idx, rec, ErrNotFound)
		}
		h, err := HashAt(hs, off)
		if err != nil {
			return nil, fmt.Errorf("read hash %d: record %d: %w", idx, rec, err)
		}
		out[i] = h
	}
	return out, nil
}

// HashRecords returns the distinct record indexes holding the given stored
// hash indexes.
func HashRecords(indexes []int64) []int64 {
	seen := make(map[int64]bool, len(indexes))
	recs := make([]int64, 0, len(indexes))
	for _, idx := range indexes {
		rec, _ := HashLocation(idx)
		if !seen[rec] {
			seen[rec] = true
			recs = append(recs, rec)
		}
	}
	return recs
}

// Rows is what database/sql's and pgx's result sets have in common.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// CheckpointColumns is the column list ScanCheckpoints reads, in order.
const CheckpointColumns = "size, time_ns, note"

// ScanCheckpoints reads rows of CheckpointColumns.
func ScanCheckpoints(rows Rows) ([]Checkpoint, error) {
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		if err := rows.Scan(&c.Size, &c.Time, &c.Note); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FirstCheckpoint returns the first of cs, or ErrNotFound wrapped with what
// (e.g. "latest checkpoint") when there is none.
func FirstCheckpoint(cs []Checkpoint, err error, what string) (Checkpoint, error) {
	if err != nil {
		return Checkpoint{}, err
	}
	if len(cs) == 0 {
		return Checkpoint{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return cs[0], nil
}
