package audit

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit/store"
)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	// Checkpoints are signed checkpoints saved outside the log (by a
	// witness, an auditor, an earlier `warden audit checkpoint`); the log
	// must contain the trees they sign. They catch a database rolled back
	// or rewritten as a whole.
	Checkpoints [][]byte
	// MaxProblems caps the problems reported (default 20).
	MaxProblems int
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	// Size is the head's record count.
	Size int64 `json:"size"`
	// Checked counts records whose body was hashed; pruned ones only have
	// their stored leaf hash.
	Checked int64 `json:"checked"`
	// Pruned lists [start, end) ranges of records whose bodies were pruned.
	Pruned [][2]int64 `json:"pruned,omitempty"`
	// Checkpoints counts checkpoints checked (stored and given).
	Checkpoints int `json:"checkpoints"`
	// FirstBad is the first record index found wrong, -1 when none.
	FirstBad int64 `json:"first_bad"`
	// Problems describes what is wrong, in order found.
	Problems []string `json:"problems,omitempty"`
	// Root is the recomputed tree hash of Size records.
	Root tlog.Hash `json:"root"`
}

// OK reports whether verification found nothing wrong.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

type verifyTarget struct {
	size   int64
	root   tlog.Hash
	source string
	given  bool
}

// Verify recomputes the Merkle tree from the stored records (the stored
// leaf hash for pruned ones), compares it with every stored hash, checks
// every stored checkpoint's signature and root and those in opts, and
// checks that no row is missing or extra. The error is for failures to
// read; what is wrong with the log is in the report.
func (r *Reader) Verify(ctx context.Context, opts VerifyOptions) (*VerifyReport, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 20
	}
	rep := &VerifyReport{FirstBad: -1}
	bad := func(idx int64, format string, args ...any) {
		if idx >= 0 && (rep.FirstBad < 0 || idx < rep.FirstBad) {
			rep.FirstBad = idx
		}
		if len(rep.Problems) < opts.MaxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	h, err := r.st.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	rep.Size = h.Size

	// Checkpoints: stored ones and given ones.
	stored, err := r.st.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var targets []verifyTarget
	addTarget := func(msg []byte, source string, given bool) {
		cp, err := r.parseNote(msg)
		if err != nil {
			bad(-1, "%s: %v", source, err)
			return
		}
		rep.Checkpoints++
		if cp.Size > h.Size {
			bad(h.Size, "%s commits to %d records but the log has %d: records were deleted or the database was rolled back", source, cp.Size, h.Size)
			return
		}
		targets = append(targets, verifyTarget{cp.Size, cp.Hash, source, given})
	}
	if r.verifier == nil {
		bad(-1, "no verifier key: checkpoint signatures not checked")
	}
	for _, c := range stored {
		src := fmt.Sprintf("stored checkpoint %d", c.Size)
		if cp, err := r.parseNote(c.Note); err == nil && cp.Size != c.Size {
			bad(-1, "%s: note is for size %d", src, cp.Size)
			continue
		}
		addTarget(c.Note, src, false)
	}
	for i, c := range opts.Checkpoints {
		addTarget(c, fmt.Sprintf("given checkpoint #%d", i+1), true)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].size < targets[j].size })
	ti := 0
	// lastGood is the largest size whose checkpoint matched, separately
	// for the log's own checkpoints and those given from outside (a log
	// that forked signs its new history too).
	var lastGood [2]int64
	cache := &hashCache{m: map[int64]tlog.Hash{}}
	checkTargets := func(size int64) error {
		for ti < len(targets) && targets[ti].size == size {
			root, err := tlog.TreeHash(size, cache)
			if err != nil {
				return err
			}
			g := 0
			if targets[ti].given {
				g = 1
			}
			if root != targets[ti].root {
				at := lastGood[g]
				if rep.FirstBad >= 0 && rep.FirstBad < size {
					at = -1 // already named by a record-level problem
				}
				bad(at, "%s: root hash differs from the recomputed tree of %d records: records in [%d, %d) were changed or the log forked", targets[ti].source, size, lastGood[g], size)
			} else {
				lastGood[g] = size
			}
			ti++
		}
		return nil
	}
	if err := checkTargets(0); err != nil {
		return nil, err
	}

	next := int64(0)
	var pruneStart int64 = -1
	endPrune := func(at int64) {
		if pruneStart >= 0 {
			rep.Pruned = append(rep.Pruned, [2]int64{pruneStart, at})
			pruneStart = -1
		}
	}
	stop := fmt.Errorf("stop")
	err = r.Scan(ctx, 0, h.Size, func(e store.Entry) error {
		if e.Index != next {
			bad(next, "record %d is missing (next stored record is %d): rows were deleted or reordered", next, e.Index)
			return stop
		}
		var leaf tlog.Hash
		if e.Body == nil {
			if pruneStart < 0 {
				pruneStart = e.Index
			}
			l, err := store.HashAt(e.Hashes, 0)
			if err != nil {
				bad(e.Index, "record %d: %v", e.Index, err)
				return stop
			}
			leaf = l
		} else {
			endPrune(e.Index)
			leaf = tlog.RecordHash(e.Body)
			rep.Checked++
			rec, err := DecodeRecord(e.Body)
			switch {
			case err != nil:
				bad(e.Index, "record %d: %v", e.Index, err)
			case rec.Index != e.Index:
				bad(e.Index, "record %d: row holds record %d: rows were moved", e.Index, rec.Index)
			case rec.RequestID != e.RequestID || rec.Kind != e.Kind || rec.Time.UnixNano() != e.Time:
				bad(e.Index, "record %d: request id, kind or time columns differ from the record", e.Index)
			}
		}
		hs, err := cache.append(e.Index, leaf)
		if err != nil {
			return err
		}
		if !bytes.Equal(hs, e.Hashes) {
			if !bytes.Equal(hs[:tlog.HashSize], e.Hashes[:min(len(e.Hashes), tlog.HashSize)]) {
				bad(e.Index, "record %d: body does not match its stored leaf hash: the record was changed, replaced or moved", e.Index)
			} else {
				bad(e.Index, "record %d: stored tree hashes differ from the recomputed ones", e.Index)
			}
		}
		next = e.Index + 1
		if next&1023 == 0 || ti < len(targets) && targets[ti].size == next {
			if err := checkTargets(next); err != nil {
				return err
			}
			cache.trim(next)
		}
		return nil
	})
	endPrune(next)
	if err != nil && err != stop {
		return nil, err
	}
	if err == nil {
		if next < h.Size {
			bad(next, "record %d is missing (the head says %d records): rows were deleted", next, h.Size)
		} else {
			if err := checkTargets(next); err != nil {
				return nil, err
			}
			root, err := tlog.TreeHash(next, cache)
			if err != nil {
				return nil, err
			}
			rep.Root = root
		}
	}
	extra, err := r.st.Entries(ctx, h.Size, math.MaxInt64)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if len(extra) > 0 {
		bad(extra[0].Index, "record %d is beyond the head's %d records: a row was inserted", extra[0].Index, h.Size)
	}
	return rep, nil
}
