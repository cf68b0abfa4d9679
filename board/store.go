package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entry is one accepted statement as a Store keeps it.
type Entry struct {
	// Seq orders entries in a store; it starts at 1 and has no gaps in a
	// FileStore (PostgreSQL sequences may have gaps).
	Seq        int64     `json:"seq"`
	Subject    string    `json:"subject"`
	Version    uint64    `json:"version"`
	Digest     string    `json:"digest"`
	AcceptedAt time.Time `json:"accepted_at"`
	Envelope   *Envelope `json:"envelope"`
}

// ErrConflict is returned by Store.Append when another writer already
// stored a statement with the same subject and version (or the same
// sequence number); the caller syncs and verifies again.
var ErrConflict = errors.New("board store: conflicting statement already stored")

// Store keeps the accepted statements and the pending ones (signatures
// still being collected). Implementations: FileStore, PGStore.
type Store interface {
	// Load returns the accepted entries with Seq > after, in Seq order.
	Load(ctx context.Context, after int64) ([]Entry, error)
	// Append stores an accepted entry and returns its Seq; ErrConflict if
	// its subject and version are taken.
	Append(ctx context.Context, e Entry) (int64, error)
	// Pending returns the pending envelopes.
	Pending(ctx context.Context) ([]*Envelope, error)
	// PutPending stores (or replaces) the pending envelope with digest.
	PutPending(ctx context.Context, digest string, e *Envelope) error
	// DeletePending removes a pending envelope; a missing one is no error.
	DeletePending(ctx context.Context, digest string) error
	// Watch returns a channel that receives a value when entries may have
	// been appended by someone else; it is closed when ctx ends.
	Watch(ctx context.Context) <-chan struct{}
	Close() error
}

// FileStore keeps statements as files under a directory:
// accepted/0000000001.json … (one Entry each) and pending/<hex>.json.
// Several processes may share it: appends are exclusive creates, and Watch
// polls the directory.
type FileStore struct {
	dir      string
	interval time.Duration
}

// NewFileStore creates (if needed) and returns a store in dir.
func NewFileStore(dir string) (*FileStore, error) {
	for _, d := range []string{filepath.Join(dir, "accepted"), filepath.Join(dir, "pending")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("file store: %w", err)
		}
	}
	return &FileStore{dir: dir, interval: 200 * time.Millisecond}, nil
}

func (s *FileStore) seqs() ([]int64, error) {
	des, err := os.ReadDir(filepath.Join(s.dir, "accepted"))
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	var out []int64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(name, 10, 64)
		if err != nil || n < 1 {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (s *FileStore) path(seq int64) string {
	return filepath.Join(s.dir, "accepted", fmt.Sprintf("%010d.json", seq))
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context, after int64) ([]Entry, error) {
	seqs, err := s.seqs()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, n := range seqs {
		if n <= after {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(s.path(n))
		if err != nil {
			return nil, fmt.Errorf("file store: %w", err)
		}
		var e Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("file store: %s: %w", s.path(n), err)
		}
		if e.Envelope == nil {
			return nil, fmt.Errorf("file store: %s: no envelope", s.path(n))
		}
		e.Seq = n
		out = append(out, e)
	}
	return out, nil
}

// Append implements Store.
func (s *FileStore) Append(ctx context.Context, e Entry) (int64, error) {
	all, err := s.Load(ctx, 0)
	if err != nil {
		return 0, err
	}
	var last int64
	for _, x := range all {
		if x.Subject == e.Subject && x.Version == e.Version {
			return 0, ErrConflict
		}
		last = x.Seq
	}
	e.Seq = last + 1
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("file store: %w", err)
	}
	if err := writeExclusive(s.path(e.Seq), b); err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, ErrConflict
		}
		return 0, fmt.Errorf("file store: %w", err)
	}
	return e.Seq, nil
}

// writeExclusive writes b to a temporary file, syncs it, and links it to
// path, failing with os.ErrExist if path exists: readers never see a
// partial file and two writers never both win.
func writeExclusive(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

func (s *FileStore) pendingPath(digest string) string {
	return filepath.Join(s.dir, "pending", strings.TrimPrefix(digest, "sha256:")+".json")
}

// Pending implements Store.
func (s *FileStore) Pending(ctx context.Context) ([]*Envelope, error) {
	des, err := os.ReadDir(filepath.Join(s.dir, "pending"))
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	var out []*Envelope
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), ".json") || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "pending", de.Name()))
		if err != nil {
			return nil, fmt.Errorf("file store: %w", err)
		}
		e, err := ParseEnvelope(b)
		if err != nil {
			return nil, fmt.Errorf("file store: pending %s: %w", de.Name(), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// PutPending implements Store.
func (s *FileStore) PutPending(ctx context.Context, digest string, e *Envelope) error {
	if !ValidDigest(digest) {
		return fmt.Errorf("file store: bad digest %q", digest)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "pending"), ".tmp-*")
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(e.Marshal()); err != nil {
		tmp.Close()
		return fmt.Errorf("file store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.pendingPath(digest)); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// DeletePending implements Store.
func (s *FileStore) DeletePending(ctx context.Context, digest string) error {
	if !ValidDigest(digest) {
		return fmt.Errorf("file store: bad digest %q", digest)
	}
	if err := os.Remove(s.pendingPath(digest)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// Watch implements Store by polling the accepted directory.
func (s *FileStore) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	go func() {
		defer close(ch)
		t := time.NewTicker(s.interval)
		defer t.Stop()
		// Signal once at the start: whatever was appended between the
		// caller's last load and now is picked up by that sync.
		last := -1
		for {
			// Count entries only (not temporary files of a writer).
			seqs, err := s.seqs()
			if err == nil && len(seqs) != last {
				select {
				case ch <- struct{}{}:
				default:
				}
				last = len(seqs)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ch
}

// Close implements Store.
func (s *FileStore) Close() error { return nil }

var _ MeterStore = (*FileStore)(nil)

var replicaRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// SaveMeter implements MeterStore: meter/<replica>.json.
func (s *FileStore) SaveMeter(ctx context.Context, replica string, counts []TokenCount) error {
	if !replicaRE.MatchString(replica) {
		return fmt.Errorf("file store: replica name %q", replica)
	}
	dir := filepath.Join(s.dir, "meter")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("file store: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, replica+".json")); err != nil {
		return fmt.Errorf("file store: %w", err)
	}
	return nil
}

// LoadMeter implements MeterStore.
func (s *FileStore) LoadMeter(ctx context.Context, exclude string) ([]TokenCount, error) {
	dir := filepath.Join(s.dir, "meter")
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	var lists [][]TokenCount
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") || name == exclude {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			return nil, fmt.Errorf("file store: %w", err)
		}
		var l []TokenCount
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("file store: meter %s: %w", de.Name(), err)
		}
		lists = append(lists, l)
	}
	return sumCounts(lists...), nil
}
