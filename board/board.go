package board

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warden-safety/warden/audit"
)

// Auditor receives governance records; *audit.Log implements it.
type Auditor interface {
	Record(ctx context.Context, r audit.Record) error
}

// Config configures Open.
type Config struct {
	// Store keeps the statements. When nil, a FileStore in Dir is used.
	Store Store
	// Dir is the board's directory for the file store (e.g.
	// DATA/board); ignored when Store is set.
	Dir string
	// Genesis is the first charter (signed by every trustee it lists); it
	// is installed when the store holds no statement yet, and ignored
	// otherwise.
	Genesis *Envelope
	// Deployment, when set, must equal the charter's deployment ID.
	Deployment string
	// Audit receives a record for every statement accepted, pending or
	// refused and every change of what is enforced. Optional.
	Audit Auditor
	// Logger for operational messages (never statement contents beyond
	// kinds and digests). Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Replica names this process's token totals in the store (a random ID
	// per Open when empty, so every run keeps its own totals).
	Replica string
	// SyncInterval is how often the board re-reads the store even without
	// a notification and audits expiries (default 30s).
	SyncInterval time.Duration
	// OnChange, when set, is called (without locks held) after a statement
	// is enforced, whether this replica or another accepted it. Wire a
	// policy statement to the policy Loader's Reload channel so an
	// approved policy file is picked up at once.
	OnChange func(kind Kind, digest string)
}

// Board enforces what the trustees signed. It is safe for concurrent use.
type Board struct {
	store    Store
	owns     bool // Close closes the store
	audit    Auditor
	log      *slog.Logger
	now      func() time.Time
	meter    *Meter
	onChange func(Kind, string)
	closed   chan struct{} // a closed channel, returned by HaltSignal when halted

	// submit serializes Submit and sync (store I/O included); mu guards
	// st, lastSeq and subs and is never held during I/O.
	submit  sync.Mutex
	mu      sync.RWMutex
	st      *state
	lastSeq int64
	subs    map[[2]string]chan struct{}
	noted   map[string]bool // release digests whose expiry was audited

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// Open loads the charter and every accepted statement from the store,
// verifying each again, and starts following the store for statements
// other replicas accept. It fails if no charter is installed.
func Open(ctx context.Context, cfg Config) (*Board, error) {
	b := &Board{store: cfg.Store, audit: cfg.Audit, log: cfg.Logger, now: cfg.Now,
		closed: make(chan struct{}), st: newState(), subs: map[[2]string]chan struct{}{}, noted: map[string]bool{}}
	close(b.closed)
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.store == nil {
		if cfg.Dir == "" {
			return nil, errors.New("open board: neither Store nor Dir is set")
		}
		fs, err := NewFileStore(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("open board: %w", err)
		}
		b.store, b.owns = fs, true
	}
	fail := func(err error) (*Board, error) {
		if b.owns {
			b.store.Close()
		}
		return nil, err
	}
	if err := b.sync(ctx); err != nil {
		return fail(fmt.Errorf("open board: %w", err))
	}
	if b.st.charter == nil {
		if cfg.Genesis == nil {
			return fail(errors.New("open board: no charter installed; create one with `warden board init` and install it with `warden board submit`"))
		}
		res, err := b.install(ctx, cfg.Genesis)
		if err != nil {
			return fail(fmt.Errorf("open board: install charter: %w", err))
		}
		if res.Status != "accepted" {
			_ = b.store.DeletePending(ctx, res.Digest)
			return fail(fmt.Errorf("open board: the first charter must be signed by every trustee it lists: %s", res.Message))
		}
	}
	if cfg.Deployment != "" && cfg.Deployment != b.st.charter.Deployment {
		return fail(fmt.Errorf("open board: the charter is for deployment %q, not %q", b.st.charter.Deployment, cfg.Deployment))
	}
	replica := cfg.Replica
	if replica == "" {
		var rb [8]byte
		rand.Read(rb[:])
		replica = hex.EncodeToString(rb[:])
	}
	b.meter = newMeter(b, replica)
	if err := b.meter.flush(ctx); err != nil {
		return fail(fmt.Errorf("open board: meter: %w", err))
	}
	b.onChange = cfg.OnChange // not for the statements loaded by Open
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel, b.done = cancel, make(chan struct{})
	interval := cfg.SyncInterval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	go b.follow(wctx, interval)
	return b, nil
}

// Close saves the token totals, stops following the store (and closes it
// if Open created it).
func (b *Board) Close() error {
	var err error
	b.closeOnce.Do(func() {
		b.cancel()
		<-b.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if ferr := b.meter.flush(ctx); ferr != nil {
			b.log.Warn("board: save token totals", "err", ferr)
		}
		if b.owns {
			err = b.store.Close()
		}
	})
	return err
}

func (b *Board) follow(ctx context.Context, interval time.Duration) {
	defer close(b.done)
	ch := b.store.Watch(ctx)
	// A slow periodic sync covers lost notifications and expiries.
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-t.C:
			b.noteExpiries(ctx)
			if err := b.meter.flush(ctx); err != nil && ctx.Err() == nil {
				b.log.Warn("board: save token totals", "err", err)
			}
		}
		if err := b.sync(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("board sync failed", "err", err)
		}
	}
}

// sync applies the entries other writers appended since the last sync.
func (b *Board) sync(ctx context.Context) error {
	b.submit.Lock()
	defer b.submit.Unlock()
	return b.syncLocked(ctx)
}

func (b *Board) syncLocked(ctx context.Context) error {
	b.mu.RLock()
	after := b.lastSeq
	b.mu.RUnlock()
	entries, err := b.store.Load(ctx, after)
	if err != nil {
		return err
	}
	var recs []audit.Record
	var changed []*verified
	defer func() {
		for _, v := range changed {
			b.changed(v)
		}
	}()
	for _, e := range entries {
		b.mu.Lock()
		v, err := b.st.verify(e.Envelope, e.AcceptedAt)
		if err == nil && !v.enough() {
			err = refuse("unauthorized", "%s statement refused: stored without enough signatures (%d more needed)", v.stmt.Type, v.missing+v.missingNewCount)
		}
		b.lastSeq = e.Seq
		if err != nil {
			b.mu.Unlock()
			// A stored statement that does not verify (tampered store,
			// changed charter) is skipped, never enforced.
			b.log.Error("board: stored statement refused", "seq", e.Seq, "digest", e.Digest, "err", err)
			recs = append(recs, b.statementRecord(nil, e.Envelope, "refused", err.Error()))
			continue
		}
		change := b.st.apply(v, e.Seq, e.AcceptedAt)
		b.notifyHaltsLocked()
		b.mu.Unlock()
		changed = append(changed, v)
		recs = append(recs, b.statementRecord(v, nil, "applied", "accepted by a replica at "+e.AcceptedAt.UTC().Format(time.RFC3339)),
			b.enforceRecord(v.stmt, v.digest, change))
	}
	b.record(ctx, recs...)
	return nil
}

// install accepts the first charter.
func (b *Board) install(ctx context.Context, env *Envelope) (*Result, error) {
	b.submit.Lock()
	defer b.submit.Unlock()
	return b.submitLocked(ctx, env)
}

// Result is the outcome of a submission that was not refused.
type Result struct {
	// Status is "accepted" (now enforced) or "pending" (signatures still
	// needed; the board keeps the statement and merges later signatures).
	Status  string   `json:"status"`
	Type    Kind     `json:"type"`
	Subject string   `json:"subject"`
	Version uint64   `json:"version"`
	Digest  string   `json:"digest"`
	Signers []string `json:"signers"`
	// Needed is the number of further trustee signatures required.
	Needed int `json:"needed"`
	// Rejected explains signatures that did not count.
	Rejected []string `json:"rejected,omitempty"`
	Message  string   `json:"message"`
}

// Submit verifies a statement and, if enough trustees signed it, stores
// and enforces it. With too few signatures it is kept as pending (its
// signatures merged with earlier submissions of the same statement). A
// refusal is an *Error. Every outcome is audited.
func (b *Board) Submit(ctx context.Context, env *Envelope) (*Result, error) {
	b.submit.Lock()
	defer b.submit.Unlock()
	if err := b.syncLocked(ctx); err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	b.mu.RLock()
	noCharter := b.st.charter == nil
	b.mu.RUnlock()
	if noCharter {
		return nil, refuse("unauthorized", "submit: no charter installed")
	}
	return b.submitLocked(ctx, env)
}

func (b *Board) submitLocked(ctx context.Context, env *Envelope) (*Result, error) {
	now := b.now()
	for attempt := 0; ; attempt++ {
		b.mu.RLock()
		v, err := b.st.verify(env, now)
		b.mu.RUnlock()
		if err != nil {
			b.record(ctx, b.statementRecord(nil, env, "refused", err.Error()))
			return nil, err
		}
		if !v.enough() {
			// Merge with what others already submitted.
			if pend, _ := b.store.Pending(ctx); pend != nil {
				for _, p := range pend {
					if d, _ := p.Digest(); d == v.digest {
						merged := *env
						merged.Signatures = append([]Signature(nil), env.Signatures...)
						merged.mergeSignatures(p)
						b.mu.RLock()
						v2, err := b.st.verify(&merged, now)
						b.mu.RUnlock()
						if err == nil {
							v, env = v2, &merged
						}
					}
				}
			}
		}
		res := &Result{Type: v.stmt.Type, Subject: v.stmt.Subject(), Version: v.stmt.Version, Digest: v.digest,
			Signers: append(append([]string(nil), v.signers...), v.haveNew...), Needed: v.missing + v.missingNewCount, Rejected: v.rejected}
		res.Signers = dedupe(res.Signers)
		env = v.pruned()
		if !v.enough() {
			if err := b.store.PutPending(ctx, v.digest, env); err != nil {
				return nil, fmt.Errorf("submit: %w", err)
			}
			res.Status = "pending"
			res.Message = pendingMessage(v)
			b.record(ctx, b.statementRecord(v, nil, "pending", res.Message))
			return res, nil
		}
		entry := Entry{Subject: v.stmt.Subject(), Version: v.stmt.Version, Digest: v.digest, AcceptedAt: now.UTC(), Envelope: env}
		seq, err := b.store.Append(ctx, entry)
		if errors.Is(err, ErrConflict) && attempt == 0 {
			// Another replica won the race: catch up and verify again
			// (this will most likely refuse the statement as stale).
			if err := b.syncLocked(ctx); err != nil {
				return nil, fmt.Errorf("submit: %w", err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("submit: %w", err)
		}
		if err := b.store.DeletePending(ctx, v.digest); err != nil {
			b.log.Warn("board: delete pending", "digest", v.digest, "err", err)
		}
		b.mu.Lock()
		if seq == b.lastSeq+1 {
			change := b.st.apply(v, seq, entry.AcceptedAt)
			b.lastSeq = seq
			b.notifyHaltsLocked()
			b.mu.Unlock()
			res.Status, res.Message = "accepted", change
			b.record(ctx, b.statementRecord(v, nil, "accepted", change), b.enforceRecord(v.stmt, v.digest, change))
			b.changed(v)
			return res, nil
		}
		b.mu.Unlock()
		// Another writer appended before us: apply everything in store
		// order, ours included (never skip a sequence number).
		if err := b.syncLocked(ctx); err != nil {
			return nil, fmt.Errorf("submit: stored as %d but not applied yet: %w", seq, err)
		}
		b.mu.RLock()
		h := b.st.heads[v.stmt.Subject()]
		var change string
		for i := len(b.st.history) - 1; i >= 0; i-- {
			if b.st.history[i].Digest == v.digest {
				change = b.st.history[i].Summary
				break
			}
		}
		b.mu.RUnlock()
		if h.Digest != v.digest {
			return nil, fmt.Errorf("submit: statement stored as %d was not applied on reload", seq)
		}
		res.Status, res.Message = "accepted", change
		return res, nil
	}
}

func pendingMessage(v *verified) string {
	msg := fmt.Sprintf("%s statement pending: %d of %d signatures (%s); %d more needed",
		v.stmt.Type, len(v.signers), v.need, orNone(v.signers), v.missing)
	if v.stmt.Type == KindCharter && v.stmt.Version > 1 {
		msg += fmt.Sprintf("; the new charter's own trustees: %d of %d (%s), %d more needed",
			len(v.haveNew), v.needNew, orNone(v.haveNew), v.missingNewCount)
	}
	return msg
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func (b *Board) changed(v *verified) {
	if b.onChange != nil {
		b.onChange(v.stmt.Type, v.digest)
	}
}

// notifyHaltsLocked closes the HaltSignal channels of every (model, route)
// that is now halted. b.mu must be held for writing.
func (b *Board) notifyHaltsLocked() {
	for k, ch := range b.subs {
		if b.st.halted(k[0], k[1]) {
			close(ch)
			delete(b.subs, k)
		}
	}
}

// Admit implements the gateway's Governor: it returns nil if the board
// allows a new request for model on route, sent to the upstream named
// upstream whose base URL is upstreamURL, else an *Error whose HTTPStatus
// is 403 and whose message names what is missing (no release, a release
// for another route or upstream, an expired release or risk assessment, a
// halt). A release's signed upstream matches the upstream's name or its
// base URL (see UpstreamMatches), so an operator cannot point a released
// model name at a model the board never reviewed.
func (b *Board) Admit(ctx context.Context, model, route, upstream, upstreamURL string) error {
	now := b.now()
	b.mu.RLock()
	err := b.st.admit(model, route, upstream, upstreamURL, now)
	var expired *releaseState
	if err != nil && err.Code == "not-released" {
		if r := b.st.releases[model]; r != nil && len(r.expiredParts(now)) > 0 && !b.noted[r.Digest] {
			expired = r
		}
	}
	b.mu.RUnlock()
	if expired != nil {
		b.mu.Lock()
		first := !b.noted[expired.Digest]
		b.noted[expired.Digest] = true
		b.mu.Unlock()
		if first {
			b.record(ctx, audit.Record{Kind: "governance", RequestID: "board-" + shortID(strings.TrimPrefix(expired.Digest, "sha256:")),
				Time: now.UTC(), Model: model, Action: "enforce",
				Detail: map[string]any{"change": "release expired", "statement_type": string(KindRelease), "digest": expired.Digest,
					"result": "enforced", "reason": err.Error()}})
		}
	}
	if err != nil {
		return err
	}
	return nil
}

// noteExpiries audits, once each, releases and the charter that expired
// since the last look (Admit also notices a release's expiry at once).
func (b *Board) noteExpiries(ctx context.Context) {
	now := b.now()
	var recs []audit.Record
	b.mu.Lock()
	for model, r := range b.st.releases {
		if exp := r.expiredParts(now); len(exp) > 0 && !b.noted[r.Digest] {
			b.noted[r.Digest] = true
			recs = append(recs, audit.Record{Kind: "governance", RequestID: "board-" + shortID(strings.TrimPrefix(r.Digest, "sha256:")),
				Time: now.UTC(), Model: model, Action: "enforce",
				Detail: map[string]any{"change": "release expired", "statement_type": string(KindRelease), "digest": r.Digest,
					"result": "enforced", "reason": "no longer valid: " + strings.Join(exp, "; ")}})
		}
	}
	if c := b.st.charter; !now.Before(c.Expires) && !b.noted[b.st.charterDigest] {
		b.noted[b.st.charterDigest] = true
		recs = append(recs, audit.Record{Kind: "governance", RequestID: "board-" + shortID(strings.TrimPrefix(b.st.charterDigest, "sha256:")),
			Time: now.UTC(), Action: "enforce",
			Detail: map[string]any{"change": "charter expired: only halts and a charter rotation are accepted", "statement_type": string(KindCharter),
				"digest": b.st.charterDigest, "result": "enforced"}})
	}
	b.mu.Unlock()
	b.record(ctx, recs...)
}

// HaltSignal implements the gateway's Governor: the returned channel is
// closed as soon as a halt covering model or route (or everything) is
// enforced, so in-flight streams can end cleanly. It is already closed if
// such a halt is in force.
func (b *Board) HaltSignal(model, route string) <-chan struct{} {
	k := [2]string{model, route}
	b.mu.RLock()
	halted := b.st.halted(model, route)
	ch, ok := b.subs[k]
	b.mu.RUnlock()
	switch {
	case halted:
		return b.closed
	case ok:
		return ch
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st.halted(model, route) {
		return b.closed
	}
	ch, ok = b.subs[k]
	if !ok {
		ch = make(chan struct{})
		b.subs[k] = ch
	}
	return ch
}

// Charter returns a copy of the charter in force and its version.
func (b *Board) Charter() (Charter, uint64) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	c := *b.st.charter
	c.Trustees = append([]PublicKey(nil), c.Trustees...)
	return c, b.st.charterVer
}

// History returns the accepted statements in order.
func (b *Board) History() []HistoryEntry {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return append([]HistoryEntry(nil), b.st.history...)
}

// Meter returns the board's token meter (the gateway's Meter).
func (b *Board) Meter() *Meter { return b.meter }

// AddTokens implements the gateway's Meter by forwarding to Meter().
func (b *Board) AddTokens(model, kind string, prompt, completion int64) {
	b.meter.AddTokens(model, kind, prompt, completion)
}

func (b *Board) record(ctx context.Context, recs ...audit.Record) {
	if b.audit == nil {
		return
	}
	for _, r := range recs {
		if err := b.audit.Record(ctx, r); err != nil {
			b.log.Error("board: audit record failed", "action", r.Action, "err", err)
		}
	}
}

// statementRecord describes a submission; v is nil when it was refused
// before verification completed (env is then used for the digest).
func (b *Board) statementRecord(v *verified, env *Envelope, result, reason string) audit.Record {
	d := map[string]any{"result": result, "reason": reason}
	digest := ""
	if v != nil {
		digest = v.digest
		d["statement_type"] = string(v.stmt.Type)
		d["subject"] = v.stmt.Subject()
		d["version"] = v.stmt.Version
		d["signers"] = append(append([]string(nil), v.signers...), v.haveNew...)
		if len(v.rejected) > 0 {
			d["rejected_signatures"] = v.rejected
		}
	} else if env != nil {
		digest, _ = env.Digest()
		if st, err := env.Statement(); err == nil {
			d["statement_type"] = string(st.Type)
			d["subject"] = st.Subject()
			d["version"] = st.Version
		}
		b.mu.RLock()
		c := b.st.charter
		b.mu.RUnlock()
		if c != nil {
			d["signers"] = c.CheckSignatures(env).Signers
		}
	}
	d["digest"] = digest
	return audit.Record{Kind: "governance", RequestID: "board-" + shortID(strings.TrimPrefix(digest, "sha256:")),
		Time: b.now().UTC(), Action: result, Detail: d}
}

func (b *Board) enforceRecord(st *Statement, digest, change string) audit.Record {
	r := audit.Record{Kind: "governance", RequestID: "board-" + shortID(strings.TrimPrefix(digest, "sha256:")),
		Time: b.now().UTC(), Action: "enforce",
		Detail: map[string]any{"change": change, "statement_type": string(st.Type), "subject": st.Subject(), "digest": digest, "result": "enforced"}}
	switch {
	case st.Release != nil:
		r.Model = st.Release.Model
	case st.Halt != nil && strings.HasPrefix(st.Halt.Scope, "model:"):
		r.Model = strings.TrimPrefix(st.Halt.Scope, "model:")
	case st.Policy != nil:
		r.PolicyDigest = st.Policy.Digest
	}
	return r
}
