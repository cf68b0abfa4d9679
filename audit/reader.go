package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit/store"
)

// Reader reads a log: records, checkpoints, proofs, verification. It needs
// no signer key, so the CLI and outside tools can use it on a copy.
type Reader struct {
	st       store.Store
	verifier note.Verifier
}

// NewReader returns a reader of st whose checkpoints are signed by the key
// of verifier (nil: checkpoints are served but not checked).
func NewReader(st store.Store, verifier note.Verifier) *Reader {
	return &Reader{st: st, verifier: verifier}
}

// Store returns the underlying store.
func (r *Reader) Store() store.Store { return r.st }

func (r *Reader) hashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return r.st.ReadHashes(ctx, idx) })
}

// Checkpoint returns the latest signed checkpoint note.
func (r *Reader) Checkpoint(ctx context.Context) ([]byte, error) {
	c, err := r.st.LatestCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return c.Note, nil
}

// Entry is one record as read back: its index, its canonical bytes (nil
// when pruned) and its leaf hash.
type Entry struct {
	Index    int64           `json:"index"`
	Record   json.RawMessage `json:"record,omitempty"`
	LeafHash tlog.Hash       `json:"leaf_hash"`
	Pruned   bool            `json:"pruned,omitempty"`
}

// Entry returns record index.
func (r *Reader) Entry(ctx context.Context, index int64) (Entry, error) {
	es, err := r.st.Entries(ctx, index, index+1)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: %w", err)
	}
	if len(es) == 0 {
		return Entry{}, fmt.Errorf("audit: record %d: %w", index, store.ErrNotFound)
	}
	return toEntry(es[0])
}

func toEntry(e store.Entry) (Entry, error) {
	leaf, err := store.HashAt(e.Hashes, 0)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: record %d: %w", e.Index, err)
	}
	return Entry{Index: e.Index, Record: e.Body, LeafHash: leaf, Pruned: e.Body == nil}, nil
}

// FindRequest returns the indexes of the records of a request id.
func (r *Reader) FindRequest(ctx context.Context, requestID string) ([]int64, error) {
	idx, err := r.st.LookupRequest(ctx, requestID)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("audit: request %q: %w", requestID, store.ErrNotFound)
	}
	return idx, nil
}

// Proof file formats.
const (
	InclusionProofFormat   = "warden-audit-inclusion-proof/v1"
	ConsistencyProofFormat = "warden-audit-consistency-proof/v1"
)

// InclusionProof proves that a record is leaf Index of the tree of TreeSize
// records. With its checkpoint it is self-contained: anyone holding the
// log's public key can check it offline (VerifyInclusionProof).
type InclusionProof struct {
	Format   string `json:"format"`
	Index    int64  `json:"index"`
	TreeSize int64  `json:"tree_size"`
	// Record is the record's canonical JSON exactly as hashed (empty when
	// its body was pruned; LeafHash still proves the leaf).
	Record   string      `json:"record,omitempty"`
	LeafHash tlog.Hash   `json:"leaf_hash"`
	RootHash tlog.Hash   `json:"root_hash"`
	Proof    []tlog.Hash `json:"proof"`
	// Checkpoint is the signed checkpoint note for TreeSize, when the log
	// issued one for that size.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// ConsistencyProof proves that the tree of OldSize records is a prefix of
// the tree of NewSize records.
type ConsistencyProof struct {
	Format        string      `json:"format"`
	OldSize       int64       `json:"old_size"`
	NewSize       int64       `json:"new_size"`
	OldRoot       tlog.Hash   `json:"old_root"`
	NewRoot       tlog.Hash   `json:"new_root"`
	Proof         []tlog.Hash `json:"proof"`
	OldCheckpoint string      `json:"old_checkpoint,omitempty"`
	NewCheckpoint string      `json:"new_checkpoint,omitempty"`
}

// latestSize returns the size of the latest checkpoint.
func (r *Reader) latestSize(ctx context.Context) (int64, error) {
	c, err := r.st.LatestCheckpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("audit: no checkpoint yet: %w", err)
	}
	return c.Size, nil
}

// treeAt returns the root hash of the tree of size records and the
// checkpoint note for that size ("" if none), checking they agree.
func (r *Reader) treeAt(ctx context.Context, size int64) (tlog.Hash, string, error) {
	root, err := tlog.TreeHash(size, r.hashReader(ctx))
	if err != nil {
		return tlog.Hash{}, "", fmt.Errorf("audit: tree hash at %d: %w", size, err)
	}
	c, err := r.st.CheckpointAt(ctx, size)
	if errors.Is(err, store.ErrNotFound) {
		return root, "", nil
	}
	if err != nil {
		return tlog.Hash{}, "", fmt.Errorf("audit: %w", err)
	}
	cp, err := r.parseNote(c.Note)
	if err != nil {
		return tlog.Hash{}, "", fmt.Errorf("audit: stored checkpoint %d: %w", size, err)
	}
	if cp.Hash != root {
		return tlog.Hash{}, "", fmt.Errorf("audit: stored tree hashes disagree with the checkpoint at size %d: the log is corrupt (run warden audit verify)", size)
	}
	return root, string(c.Note), nil
}

// parseNote opens a checkpoint note, checking its signature when the
// reader has a verifier.
func (r *Reader) parseNote(msg []byte) (Checkpoint, error) {
	if r.verifier != nil {
		return OpenCheckpoint(msg, r.verifier)
	}
	i := bytes.Index(msg, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, errors.New("malformed signed note")
	}
	return ParseCheckpoint(msg[:i+1])
}

func (r *Reader) checkSize(ctx context.Context, size int64) error {
	h, err := r.st.Head(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if size > h.Size {
		return clientError{fmt.Errorf("audit: tree size %d is beyond the log's %d records", size, h.Size)}
	}
	return nil
}

// ProveInclusion proves record index is in the tree of size records; size
// 0 means the latest checkpoint.
func (r *Reader) ProveInclusion(ctx context.Context, index, size int64) (*InclusionProof, error) {
	if size == 0 {
		s, err := r.latestSize(ctx)
		if err != nil {
			return nil, err
		}
		size = s
		if index >= size {
			return nil, clientError{fmt.Errorf("audit: record %d is not yet covered by a checkpoint (the latest covers %d records); retry after the next checkpoint", index, size)}
		}
	}
	if index < 0 || index >= size {
		return nil, clientError{fmt.Errorf("audit: index %d is not in a tree of %d records", index, size)}
	}
	if err := r.checkSize(ctx, size); err != nil {
		return nil, err
	}
	e, err := r.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	proof, err := tlog.ProveRecord(size, index, r.hashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("audit: prove record %d: %w", index, err)
	}
	root, note, err := r.treeAt(ctx, size)
	if err != nil {
		return nil, err
	}
	if err := tlog.CheckRecord(proof, size, root, index, e.LeafHash); err != nil {
		return nil, fmt.Errorf("audit: record %d: stored hashes are inconsistent: %w", index, err)
	}
	return &InclusionProof{Format: InclusionProofFormat, Index: index, TreeSize: size, Record: string(e.Record),
		LeafHash: e.LeafHash, RootHash: root, Proof: proof, Checkpoint: note}, nil
}

// ProveConsistency proves the tree of oldSize records is a prefix of the
// tree of newSize records; newSize 0 means the latest checkpoint.
func (r *Reader) ProveConsistency(ctx context.Context, oldSize, newSize int64) (*ConsistencyProof, error) {
	if newSize == 0 {
		s, err := r.latestSize(ctx)
		if err != nil {
			return nil, err
		}
		newSize = s
	}
	if oldSize < 1 || oldSize > newSize {
		return nil, clientError{fmt.Errorf("audit: old size %d must be between 1 and new size %d", oldSize, newSize)}
	}
	if err := r.checkSize(ctx, newSize); err != nil {
		return nil, err
	}
	proof, err := tlog.ProveTree(newSize, oldSize, r.hashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("audit: prove consistency %d..%d: %w", oldSize, newSize, err)
	}
	oldRoot, oldNote, err := r.treeAt(ctx, oldSize)
	if err != nil {
		return nil, err
	}
	newRoot, newNote, err := r.treeAt(ctx, newSize)
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{Format: ConsistencyProofFormat, OldSize: oldSize, NewSize: newSize, OldRoot: oldRoot, NewRoot: newRoot,
		Proof: proof, OldCheckpoint: oldNote, NewCheckpoint: newNote}, nil
}

// ParseInclusionProof parses a proof file strictly.
func ParseInclusionProof(b []byte) (*InclusionProof, error) {
	var p InclusionProof
	if err := strictJSON(b, &p); err != nil {
		return nil, fmt.Errorf("parse inclusion proof: %w", err)
	}
	if p.Format != InclusionProofFormat {
		return nil, fmt.Errorf("parse inclusion proof: format %q, want %q", p.Format, InclusionProofFormat)
	}
	if p.Index < 0 || p.TreeSize <= p.Index {
		return nil, fmt.Errorf("parse inclusion proof: index %d not in a tree of %d records", p.Index, p.TreeSize)
	}
	if len(p.Proof) > 64 {
		return nil, errors.New("parse inclusion proof: proof longer than 64 hashes")
	}
	return &p, nil
}

// ParseConsistencyProof parses a consistency proof strictly.
func ParseConsistencyProof(b []byte) (*ConsistencyProof, error) {
	var p ConsistencyProof
	if err := strictJSON(b, &p); err != nil {
		return nil, fmt.Errorf("parse consistency proof: %w", err)
	}
	if p.Format != ConsistencyProofFormat {
		return nil, fmt.Errorf("parse consistency proof: format %q, want %q", p.Format, ConsistencyProofFormat)
	}
	if p.OldSize < 0 || p.NewSize < p.OldSize {
		return nil, fmt.Errorf("parse consistency proof: sizes %d..%d out of order", p.OldSize, p.NewSize)
	}
	if len(p.Proof) > 128 {
		return nil, errors.New("parse consistency proof: proof longer than 128 hashes")
	}
	return &p, nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// VerifyInclusionProof checks a proof offline: the checkpoint's signature
// by v, the record's leaf hash, and the Merkle path to the signed root. It
// returns the verified checkpoint.
func VerifyInclusionProof(p *InclusionProof, v note.Verifier) (Checkpoint, error) {
	if p.Checkpoint == "" {
		return Checkpoint{}, errors.New("verify proof: no signed checkpoint in the proof (ask for a proof against a checkpointed tree size)")
	}
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verify proof: %w", err)
	}
	if cp.Size != p.TreeSize {
		return Checkpoint{}, fmt.Errorf("verify proof: checkpoint is for %d records, proof for %d", cp.Size, p.TreeSize)
	}
	if cp.Hash != p.RootHash {
		return Checkpoint{}, errors.New("verify proof: root hash differs from the signed checkpoint")
	}
	leaf := p.LeafHash
	if p.Record != "" {
		leaf = tlog.RecordHash([]byte(p.Record))
		if leaf != p.LeafHash {
			return Checkpoint{}, errors.New("verify proof: record does not match its leaf hash")
		}
	}
	if err := tlog.CheckRecord(p.Proof, p.TreeSize, cp.Hash, p.Index, leaf); err != nil {
		return Checkpoint{}, fmt.Errorf("verify proof: record %d is not in the signed tree: %w", p.Index, err)
	}
	return cp, nil
}

// VerifyConsistencyProof checks a consistency proof, and the signatures of
// any checkpoints it carries.
func VerifyConsistencyProof(p *ConsistencyProof, v note.Verifier) error {
	for _, c := range []struct {
		note string
		size int64
		root tlog.Hash
	}{{p.OldCheckpoint, p.OldSize, p.OldRoot}, {p.NewCheckpoint, p.NewSize, p.NewRoot}} {
		if c.note == "" {
			continue
		}
		cp, err := OpenCheckpoint([]byte(c.note), v)
		if err != nil {
			return fmt.Errorf("verify consistency: %w", err)
		}
		if cp.Size != c.size || cp.Hash != c.root {
			return fmt.Errorf("verify consistency: checkpoint for size %d does not match the proof", cp.Size)
		}
	}
	if err := tlog.CheckTree(p.Proof, p.NewSize, p.NewRoot, p.OldSize, p.OldRoot); err != nil {
		return fmt.Errorf("verify consistency: %w", err)
	}
	return nil
}

// Stats summarizes a log.
type Stats struct {
	Records            int64            `json:"records"`
	Checkpoints        int              `json:"checkpoints"`
	LatestCheckpoint   int64            `json:"latest_checkpoint_size"`
	LatestCheckpointAt time.Time        `json:"latest_checkpoint_time,omitzero"`
	FirstRecordAt      time.Time        `json:"first_record_time,omitzero"`
	LastRecordAt       time.Time        `json:"last_record_time,omitzero"`
	Pruned             int64            `json:"pruned_records"`
	Kinds              map[string]int64 `json:"kinds,omitempty"`
}

// Stats counts records and checkpoints. It reads every row, like verify.
func (r *Reader) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	h, err := r.st.Head(ctx)
	if err != nil {
		return s, fmt.Errorf("audit: %w", err)
	}
	s.Records = h.Size
	cs, err := r.st.Checkpoints(ctx)
	if err != nil {
		return s, fmt.Errorf("audit: %w", err)
	}
	s.Checkpoints = len(cs)
	if len(cs) > 0 {
		last := cs[len(cs)-1]
		s.LatestCheckpoint = last.Size
		s.LatestCheckpointAt = time.Unix(0, last.Time).UTC()
	}
	s.Kinds = map[string]int64{}
	err = r.Scan(ctx, 0, h.Size, func(e store.Entry) error {
		t := time.Unix(0, e.Time).UTC()
		if s.FirstRecordAt.IsZero() || t.Before(s.FirstRecordAt) {
			s.FirstRecordAt = t
		}
		if t.After(s.LastRecordAt) {
			s.LastRecordAt = t
		}
		if e.Body == nil {
			s.Pruned++
		}
		s.Kinds[e.Kind]++
		return nil
	})
	return s, err
}

// Scan calls fn for the rows start <= index < end in order, reading in
// chunks.
func (r *Reader) Scan(ctx context.Context, start, end int64, fn func(store.Entry) error) error {
	const chunk = 4096
	for lo := start; lo < end; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		es, err := r.st.Entries(ctx, lo, min(lo+chunk, end))
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Export writes the records start <= index < end as JSON lines
// {"index":N,"leaf_hash":"...","record":{...}} (pruned records carry
// "pruned":true and no record).
func (r *Reader) Export(ctx context.Context, w io.Writer, start, end int64) (int64, error) {
	var n int64
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err := r.Scan(ctx, start, end, func(e store.Entry) error {
		out, err := toEntry(e)
		if err != nil {
			return err
		}
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		n++
		return nil
	})
	return n, err
}
