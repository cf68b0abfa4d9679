package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Store holds the policy in force. Readers take Current at the start of a
// request and keep that *Policy to the end, so a Swap never changes the
// policy under a request in flight.
type Store struct {
	p atomic.Pointer[Policy]
}

// NewStore returns a store holding initial (Default() when nil).
func NewStore(initial *Policy) *Store {
	if initial == nil {
		initial = Default()
	}
	s := &Store{}
	s.p.Store(initial)
	return s
}

// Current returns the policy in force.
func (s *Store) Current() *Policy { return s.p.Load() }

// Swap installs p and returns the policy it replaces. A nil p is ignored
// (the current policy stays and is returned).
func (s *Store) Swap(p *Policy) (old *Policy) {
	if p == nil {
		return s.p.Load()
	}
	return s.p.Swap(p)
}

// Verifier approves or refuses a candidate policy before it replaces the
// current one. It is the seam for the safety board: the board's verifier
// accepts a candidate whose Digest is named by a policy-bundle statement
// that k of n trustees signed (or lets a change through unsigned when
// Stricter(candidate, current) holds).
// VerifyPolicy must not modify either policy; it returns nil to accept.
type Verifier interface {
	VerifyPolicy(ctx context.Context, candidate, current *Policy) error
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(ctx context.Context, candidate, current *Policy) error

// VerifyPolicy calls f.
func (f VerifierFunc) VerifyPolicy(ctx context.Context, candidate, current *Policy) error {
	return f(ctx, candidate, current)
}

// Loader is the one way a policy file enters a Store: it reads the file,
// parses and validates it, asks every Verifier, and only then swaps it in.
// On any error the policy in force stays.
type Loader struct {
	// Path of the policy file.
	Path string
	// Verifiers must all accept a candidate, in order.
	Verifiers []Verifier
	// Logger receives reload events (digests, versions, errors); never
	// policy contents. nil discards.
	Logger *slog.Logger
	// Store receives accepted policies.
	Store *Store
	// OnChange, when set, is called after a new policy is swapped in
	// (while loads are serialized: it must not call Load).
	OnChange func(old, new *Policy)

	// Interval between polls of the file in Watch (default 1s).
	Interval time.Duration
	// SIGHUP makes Watch reload on SIGHUP (it installs a signal.Notify
	// handler for the duration of Watch).
	SIGHUP bool
	// Reload, when set, makes Watch reload whenever a value arrives on it
	// (an admin endpoint, a test).
	Reload <-chan struct{}

	mu       sync.Mutex // serializes loads
	lastSeen [sha256.Size]byte
	haveSeen bool
}

func (l *Loader) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// Load reads, parses and verifies the file and swaps it into the store.
// When the file holds the policy already in force (same digest) it does
// nothing and returns nil. On any read, validation or verification error the
// policy in force is unchanged.
func (l *Loader) Load(ctx context.Context) error {
	data, err := readPolicyFile(l.Path)
	if err != nil {
		return err
	}
	return l.load(ctx, data)
}

func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", path, err)
	}
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("policy: %s is larger than %d bytes", path, MaxDocumentSize)
	}
	return data, nil
}

func (l *Loader) load(ctx context.Context, data []byte) error {
	if l.Store == nil {
		return errors.New("policy: loader has no store")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastSeen, l.haveSeen = sha256.Sum256(data), true
	cand, err := Parse(l.Path, data)
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	cur := l.Store.Current()
	if cur != nil && cur.Digest() == cand.Digest() {
		l.logger().Debug("policy unchanged", "path", l.Path, "digest", cand.Digest())
		return nil
	}
	for _, v := range l.Verifiers {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.VerifyPolicy(ctx, cand, cur); err != nil {
			return fmt.Errorf("policy: %s refused: %w", l.Path, err)
		}
	}
	old := l.Store.Swap(cand)
	l.logger().Info("policy loaded", "path", l.Path, "version", cand.Version(), "digest", cand.Digest(), "previous_digest", digestOf(old))
	if l.OnChange != nil {
		l.OnChange(old, cand)
	}
	return nil
}

func digestOf(p *Policy) string {
	if p == nil {
		return ""
	}
	return p.Digest()
}

// Watch reloads the policy whenever the file changes (it reads and hashes
// the file every Interval), on SIGHUP when
// l.SIGHUP is set, and whenever a value arrives on l.Reload, until ctx is
// done; then it returns nil (an error only when the loader has no Store).
// Reload failures are logged (the policy in force stays) and do not stop
// the watch; a file that failed is not retried until it changes again,
// except on an explicit reload (signal or channel).
func (l *Loader) Watch(ctx context.Context) error {
	if l.Store == nil {
		return errors.New("policy: loader has no store")
	}
	interval := l.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var hup chan os.Signal
	if l.SIGHUP {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	unreadable := false
	for {
		forced := false
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			forced = true
		case <-l.Reload:
			forced = true
		case <-t.C:
		}
		if forced {
			l.report(l.Load(ctx), "reload requested")
			continue
		}
		// A policy file is small (at most MaxDocumentSize): reading and
		// hashing it every tick notices every change, including a rewrite
		// that keeps the size and the modification time.
		data, err := readPolicyFile(l.Path)
		if err != nil {
			if !unreadable {
				l.logger().Warn("policy file unreadable; keeping the policy in force", "path", l.Path, "err", err)
			}
			unreadable = true
			continue
		}
		unreadable = false
		sum := sha256.Sum256(data)
		l.mu.Lock()
		seen := l.haveSeen && sum == l.lastSeen
		l.mu.Unlock()
		if seen || l.isCurrentSource(data) {
			continue
		}
		l.report(l.load(ctx, data), "file changed")
	}
}

func (l *Loader) isCurrentSource(data []byte) bool {
	cur := l.Store.Current()
	return cur != nil && bytes.Equal(cur.source, data)
}

func (l *Loader) report(err error, why string) {
	if err != nil {
		l.logger().Error("policy reload failed; keeping the policy in force", "path", l.Path, "trigger", why, "digest", digestOf(l.Store.Current()), "err", err)
	}
}

// Load reads and parses the policy file at path. It does not verify it:
// policies that go into force pass through a Loader and its Verifiers.
func Load(path string) (*Policy, error) {
	data, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}
