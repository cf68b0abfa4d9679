package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit/postgres"
	"github.com/warden-safety/warden/audit/sqlite"
	"github.com/warden-safety/warden/audit/store"
)

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit: log closed")

// Log is an open audit log: it appends records with group commit, issues
// signed checkpoints, prunes old record bodies, and serves proofs. Its
// methods are safe for concurrent use.
type Log struct {
	*Reader
	cfg    Config
	signer note.Signer

	queue   chan *pending
	closing chan struct{}
	done    chan struct{}
	once    sync.Once

	inflight atomic.Int64 // Record calls in progress (synchronous mode)

	mu       sync.Mutex
	lastErr  error // of the last commit; nil after a success
	failures int64 // acknowledged records that could not be written (async mode)

	records, batches, commitErrors atomic.Int64
}

type pending struct {
	body      []byte
	requestID string
	kind      string
	time      int64
	done      chan error // nil in async mode
}

// OpenStore opens the store a configuration names (the CLI reads logs
// through it without a signer key).
func OpenStore(ctx context.Context, cfg Config) (store.Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Driver {
	case "postgres":
		return postgres.Open(ctx, cfg.DSN, cfg.Schema)
	default:
		path := cfg.inDataDir(cfg.Path)
		if cfg.DataDir != "" {
			if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
				return nil, fmt.Errorf("audit: data dir: %w", err)
			}
		}
		return sqlite.Open(ctx, path)
	}
}

// Open opens the log cfg describes, running schema migrations, and starts
// its writer. Close it when done.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	signer, verifier, err := LoadSigner(cfg.inDataDir(cfg.KeyFile))
	if err != nil {
		return nil, fmt.Errorf("audit: %w (create one with `warden keygen`)", err)
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return New(ctx, st, signer, verifier, cfg)
}

// New starts a log on an open store. The log owns st and closes it.
func New(ctx context.Context, st store.Store, signer note.Signer, verifier note.Verifier, cfg Config) (*Log, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		st.Close()
		return nil, err
	}
	if signer.Name() != verifier.Name() || signer.KeyHash() != verifier.KeyHash() {
		st.Close()
		return nil, errors.New("audit: signer and verifier keys do not match")
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := selfCheck(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	l := &Log{
		Reader:  NewReader(st, verifier),
		cfg:     cfg,
		signer:  signer,
		queue:   make(chan *pending, cfg.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	if cfg.Async {
		cfg.Logger.Warn("audit log in ASYNC mode: decisions are answered before their records are durable; a crash can lose up to queue_size records",
			"queue_size", cfg.QueueSize)
	}
	go l.run()
	return l, nil
}

// selfCheck refuses to extend a tree that no longer matches its own latest
// checkpoint (the database was changed under the log): new records would
// be built on altered history. It costs O(log n) hash reads.
func selfCheck(ctx context.Context, st store.Store) error {
	c, err := st.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	r := NewReader(st, nil) // the signature is checked by verify; keys may have been rotated
	cp, err := r.parseNote(c.Note)
	if err != nil {
		return fmt.Errorf("audit: latest checkpoint (size %d): %w; run warden audit verify", c.Size, err)
	}
	h, err := st.Head(ctx)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if cp.Size > h.Size {
		return fmt.Errorf("audit: the latest checkpoint covers %d records but the log has %d: records were removed; run warden audit verify", cp.Size, h.Size)
	}
	root, err := tlog.TreeHash(cp.Size, r.hashReader(ctx))
	if err != nil {
		return fmt.Errorf("audit: tree hash at %d: %w; run warden audit verify", cp.Size, err)
	}
	if root != cp.Hash {
		return fmt.Errorf("audit: the stored tree does not match its latest checkpoint (size %d): the database was changed; run warden audit verify", cp.Size)
	}
	return nil
}

// Record appends r to the log. The log applies its privacy mode first
// (text is stripped or redacted, hashes are filled in), and sets Time to
// now when it is zero. In the default synchronous mode Record returns nil
// only once the record is committed to the database (and so will survive a
// crash); in async mode it returns once the record is queued, waiting while
// the queue is full.
func (l *Log) Record(ctx context.Context, r Record) error {
	if r.Time.IsZero() {
		r.Time = l.cfg.Now()
	}
	if err := l.cfg.Privacy.apply(&r, l.cfg.Redact); err != nil {
		return fmt.Errorf("audit: record %s: %w", r.RequestID, err)
	}
	r.Index = 0 // set by the writer, see withIndex
	body, err := EncodeRecord(r)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", r.RequestID, err)
	}
	if !bytes.HasPrefix(body, indexZero) {
		return fmt.Errorf("audit: record %s: canonical encoding does not start with the index", r.RequestID)
	}
	p := &pending{body: body, requestID: r.RequestID, kind: r.Kind, time: r.Time.UnixNano()}
	if !l.cfg.Async {
		p.done = make(chan error, 1)
		l.inflight.Add(1)
		defer l.inflight.Add(-1)
	}
	select {
	case <-l.closing:
		return ErrClosed
	default:
	}
	select {
	case l.queue <- p:
	case <-l.closing:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("audit: record %s: %w", r.RequestID, ctx.Err())
	}
	if p.done == nil {
		return nil
	}
	select {
	case err := <-p.done:
		return err
	case <-l.done: // closed concurrently; the writer may have missed it
		select {
		case err := <-p.done:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("audit: record %s: not acknowledged: %w", r.RequestID, ctx.Err())
	}
}

// Close stops accepting records, writes what is queued, issues a final
// checkpoint, and closes the store.
func (l *Log) Close() error {
	l.once.Do(func() { close(l.closing) })
	<-l.done
	return l.st.Close()
}

// Ready reports whether the log can take records: the database answers and
// the last write succeeded.
func (l *Log) Ready() error {
	l.mu.Lock()
	err := l.lastErr
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit: last write failed: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.st.Ping(ctx); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if l.cfg.Async && len(l.queue) == cap(l.queue) {
		return fmt.Errorf("audit: ASYNC mode: queue full (%d records waiting)", len(l.queue))
	}
	return nil
}

// Status is one line for /readyz and logs: the driver and the durability
// mode, loud in async mode.
func (l *Log) Status() string {
	if l.cfg.Async {
		l.mu.Lock()
		failed := l.failures
		l.mu.Unlock()
		return fmt.Sprintf("audit: %s, ASYNC mode: records are acknowledged before they are durable (queue %d/%d, %d failed writes)",
			l.cfg.Driver, len(l.queue), cap(l.queue), failed)
	}
	return fmt.Sprintf("audit: %s, synchronous: every record is durable before its decision is answered", l.cfg.Driver)
}

// Counters are the log's running totals since Open, for metrics.
type Counters struct {
	Records      int64 // records committed by this process
	Batches      int64 // transactions that committed them (group commits)
	CommitErrors int64 // failed commits
	Lost         int64 // async mode: acknowledged records given up at Close
	Queued       int   // records waiting for the writer now
}

// Counters returns the running totals.
func (l *Log) Counters() Counters {
	l.mu.Lock()
	lost := l.failures
	l.mu.Unlock()
	return Counters{Records: l.records.Load(), Batches: l.batches.Load(), CommitErrors: l.commitErrors.Load(), Lost: lost, Queued: len(l.queue)}
}

// Checkpoint issues a checkpoint now if records were added since the last
// one, and returns the latest signed checkpoint.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	if err := l.st.Append(ctx, l.checkpointOnly); err != nil {
		return nil, fmt.Errorf("audit: checkpoint: %w", err)
	}
	return l.Reader.Checkpoint(ctx)
}

// checkpointOnly is an append of no records that signs the current tree if
// it grew since the last checkpoint. It computes the tree hash under the
// append lock, so it is consistent with every other writer.
func (l *Log) checkpointOnly(ctx context.Context, head store.Head, r tlog.HashReader) (store.Batch, error) {
	if head.Size <= head.CheckpointSize {
		return store.Batch{}, nil
	}
	c, err := l.sign(head.Size, &hashCache{m: map[int64]tlog.Hash{}, fallback: r})
	if err != nil {
		return store.Batch{}, err
	}
	return store.Batch{Checkpoint: c}, nil
}

func (l *Log) sign(size int64, r tlog.HashReader) (*store.Checkpoint, error) {
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return nil, fmt.Errorf("tree hash: %w", err)
	}
	msg, err := SignCheckpoint(Checkpoint{Origin: l.signer.Name(), Size: size, Hash: root}, l.signer)
	if err != nil {
		return nil, err
	}
	return &store.Checkpoint{Size: size, Time: l.cfg.Now().UnixNano(), Note: msg}, nil
}

// run is the writer: it takes what is queued, up to MaxBatch records, and
// commits it in one transaction (group commit), issues timed checkpoints and
// prunes old bodies.
func (l *Log) run() {
	defer close(l.done)
	ctx := context.Background()
	cache := &hashCache{m: map[int64]tlog.Hash{}}
	// cache holds the frontier hashes of the tree at cacheHead, the head
	// after this log's last append, when cacheValid.
	var cacheHead store.Head
	cacheValid := false
	interval := time.Duration(l.cfg.CheckpointInterval)
	if interval <= 0 {
		interval = time.Hour
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	prune := time.NewTimer(0)
	defer prune.Stop()

	batch := make([]*pending, 0, l.cfg.MaxBatch)
	var target int64 // callers in Record when the last batch committed
	linger := time.Duration(l.cfg.Linger)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// build computes the batch for head from c (which it updates).
	build := func(head store.Head, c *hashCache, batch []*pending) (store.Batch, error) {
		b := store.Batch{Entries: make([]store.Entry, len(batch))}
		for i, p := range batch {
			n := head.Size + int64(i)
			body := withIndex(p.body, n)
			hs, err := c.append(n, tlog.RecordHash(body))
			if err != nil {
				return store.Batch{}, fmt.Errorf("hashes of record %d: %w", n, err)
			}
			b.Entries[i] = store.Entry{Index: n, RequestID: p.requestID, Kind: p.kind, Time: p.time, Body: body, Hashes: hs}
		}
		newSize := head.Size + int64(len(batch))
		if l.cfg.CheckpointEvery > 0 && newSize-head.CheckpointSize >= l.cfg.CheckpointEvery {
			cp, err := l.sign(newSize, c)
			if err != nil {
				return store.Batch{}, err
			}
			b.Checkpoint = cp
		}
		c.trim(newSize)
		c.fallback = nil
		return b, nil
	}
	after := func(head store.Head, b store.Batch) store.Head {
		head.Size += int64(len(b.Entries))
		if b.Checkpoint != nil {
			head.CheckpointSize = b.Checkpoint.Size
		}
		return head
	}
	spec, _ := l.st.(store.SpeculativeAppender)
	commit := func(batch []*pending) error {
		if spec != nil && cacheValid {
			// We know the head from our own last append: compute the batch
			// for it and write it in one round trip; the store refuses it
			// if another writer appended meanwhile.
			c := cache.clone()
			b, err := build(cacheHead, c, batch)
			if err == nil {
				err = spec.AppendAt(ctx, cacheHead, b)
			}
			if err == nil {
				cache, cacheHead = c, after(cacheHead, b)
				return nil
			}
			cacheValid = false
			if !errors.Is(err, store.ErrHeadMoved) {
				return err
			}
		}
		var newCache *hashCache
		var newHead store.Head
		err := l.st.Append(ctx, func(ctx context.Context, head store.Head, r tlog.HashReader) (store.Batch, error) {
			var c *hashCache
			if cacheValid && cacheHead.Size == head.Size {
				c = cache.clone()
				c.fallback = r
			} else { // first append, or another writer appended
				c = &hashCache{m: map[int64]tlog.Hash{}, fallback: r}
				// Load the whole frontier: later appends and tree hashes
				// build on all of it, not only on what this batch reads.
				if _, err := c.ReadHashes(frontierIndexes(head.Size)); err != nil {
					return store.Batch{}, fmt.Errorf("read tree frontier: %w", err)
				}
			}
			b, err := build(head, c, batch)
			if err != nil {
				return store.Batch{}, err
			}
			newCache, newHead = c, after(head, b)
			return b, nil
		})
		if err != nil {
			cacheValid = false
			return err
		}
		cache, cacheHead, cacheValid = newCache, newHead, true
		return nil
	}

	count := func(batch []*pending, err error) error {
		if err == nil {
			l.records.Add(int64(len(batch)))
			l.batches.Add(1)
		} else {
			l.commitErrors.Add(1)
		}
		return err
	}
	deliver := func(batch []*pending) {
		err := count(batch, commit(batch))
		target = l.inflight.Load()
		if l.cfg.Async {
			// These records were acknowledged: keep trying until the store
			// is back, or once more after Close.
			backoff := 50 * time.Millisecond
			for err != nil {
				l.setErr(err)
				l.cfg.Logger.Error("audit: write failed; retrying", "records", len(batch), "err", err)
				closed := false
				select {
				case <-time.After(backoff):
				case <-l.closing:
					closed = true
				}
				backoff = min(backoff*2, 5*time.Second)
				if err = count(batch, commit(batch)); err != nil && closed {
					l.mu.Lock()
					l.failures += int64(len(batch))
					l.mu.Unlock()
					l.cfg.Logger.Error("audit: records lost at close", "records", len(batch), "err", err)
					break
				}
			}
		}
		l.setErr(err)
		if err != nil {
			l.cfg.Logger.Error("audit: write failed", "records", len(batch), "err", err)
			err = fmt.Errorf("audit: %w", err)
		}
		for _, p := range batch {
			if p.done != nil {
				p.done <- err
			}
		}
	}

	for {
		select {
		case p := <-l.queue:
			batch = append(batch[:0], p)
			// Group commit: take what is queued. When more callers were
			// waiting at the last commit than are queued now, they are
			// likely about to send again: wait a little for them (at most
			// linger) so one fsync covers more records.
			want := min(target, int64(l.cfg.MaxBatch))
			var deadline <-chan time.Time
		fill:
			for len(batch) < l.cfg.MaxBatch {
				select {
				case p := <-l.queue:
					batch = append(batch, p)
					continue
				default:
				}
				if int64(len(batch)) >= want || linger <= 0 {
					break
				}
				if deadline == nil {
					timer.Reset(linger)
					deadline = timer.C
				}
				select {
				case p := <-l.queue:
					batch = append(batch, p)
				case <-deadline:
					deadline = nil
					break fill
				}
			}
			if deadline != nil && !timer.Stop() {
				<-timer.C
			}
			deliver(batch)
		case <-tick.C:
			if err := l.st.Append(ctx, l.checkpointOnly); err != nil {
				l.cfg.Logger.Error("audit: timed checkpoint failed", "err", err)
			}
			cacheValid = false // the head's checkpoint size may have moved
		case <-prune.C:
			l.prune(ctx)
			prune.Reset(time.Hour)
		case <-l.closing:
			for {
				batch = batch[:0]
				for len(batch) < l.cfg.MaxBatch {
					select {
					case p := <-l.queue:
						batch = append(batch, p)
						continue
					default:
					}
					break
				}
				if len(batch) == 0 {
					break
				}
				deliver(batch)
			}
			if err := l.st.Append(ctx, l.checkpointOnly); err != nil {
				l.cfg.Logger.Error("audit: final checkpoint failed", "err", err)
			}
			return
		}
	}
}

// indexZero is how the canonical encoding of a record with Index 0 starts.
var indexZero = []byte(`{"index":0,`)

// withIndex returns the canonical encoding of the record whose encoding
// with Index 0 is body, with Index n: the same bytes as EncodeRecord gives
// for the record with Index n, without encoding it again.
func withIndex(body []byte, n int64) []byte {
	out := make([]byte, 0, len(body)+20)
	out = append(out, `{"index":`...)
	out = strconv.AppendInt(out, n, 10)
	out = append(out, ',')
	return append(out, body[len(indexZero):]...)
}

func (l *Log) setErr(err error) {
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
}

// prune removes record bodies older than the retention period.
func (l *Log) prune(ctx context.Context) {
	if l.cfg.Retention < 0 {
		return
	}
	before := l.cfg.Now().Add(-time.Duration(l.cfg.Retention))
	n, err := l.st.Prune(ctx, before.UnixNano())
	if err != nil {
		l.cfg.Logger.Error("audit: prune failed", "err", err)
		return
	}
	if n > 0 {
		l.cfg.Logger.Info("audit: pruned record bodies past retention", "records", n, "before", before.UTC().Format(time.RFC3339))
	}
}

// Prune removes now the bodies of records older than before; their hashes
// stay, so the log still verifies.
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	return l.st.Prune(ctx, before.UnixNano())
}
