package policy_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// checkFor polls cond until it holds or timeout passes.
func checkFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logSink records log messages so tests can wait for a reload failure.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	s.msgs = append(s.msgs, b.String())
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

func (s *logSink) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

func (s *logSink) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.msgs, "\n")
}

func docVersion(v string) string {
	return "version: " + v + "\ndefaults:\n  input: {cbrn_weapons: block}\n"
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	// Write to a temporary file and rename, as editors and config
	// management do, so the watcher never reads a half-written file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func newLoader(t *testing.T, initial string) (*policy.Loader, *logSink, *atomic.Int32) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, initial)
	sink := &logSink{}
	var changes atomic.Int32
	l := &policy.Loader{
		Path:     path,
		Store:    policy.NewStore(nil),
		Logger:   slog.New(sink),
		Interval: 10 * time.Millisecond,
		OnChange: func(old, new *policy.Policy) { changes.Add(1) },
	}
	if err := l.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l, sink, &changes
}

func TestLoaderLoad(t *testing.T) {
	ctx := context.Background()
	l, _, changes := newLoader(t, docVersion("a"))
	if v := l.Store.Current().Version(); v != "a" || changes.Load() != 1 {
		t.Fatalf("version %q after %d changes", v, changes.Load())
	}
	// Same policy again: nothing swapped.
	if err := l.Load(ctx); err != nil || changes.Load() != 1 {
		t.Fatalf("reload of the same file: %v, %d changes", err, changes.Load())
	}
	// A bad file keeps the policy in force.
	writeFile(t, l.Path, "version: b\ndefaults:\n  input: {cbrn_weapons: maybe}\n")
	err := l.Load(ctx)
	var ve *policy.ValidationError
	if !errors.As(err, &ve) || ve.Issues[0].Line != 3 {
		t.Fatalf("bad file: %v", err)
	}
	if l.Store.Current().Version() != "a" {
		t.Fatal("bad file replaced the policy")
	}
	// A missing file too.
	l2 := &policy.Loader{Path: l.Path + ".missing", Store: l.Store}
	if err := l2.Load(ctx); err == nil || l.Store.Current().Version() != "a" {
		t.Fatalf("missing file: %v", err)
	}
	// A verifier that refuses keeps it, and sees both policies.
	var sawCand, sawCur string
	l.Verifiers = []policy.Verifier{policy.VerifierFunc(func(ctx context.Context, cand, cur *policy.Policy) error {
		sawCand, sawCur = cand.Version(), cur.Version()
		return errors.New("needs 2 of 3 trustee signatures")
	})}
	writeFile(t, l.Path, docVersion("c"))
	if err := l.Load(ctx); err == nil || !strings.Contains(err.Error(), "needs 2 of 3") {
		t.Fatalf("refused: %v", err)
	}
	if l.Store.Current().Version() != "a" || sawCand != "c" || sawCur != "a" {
		t.Fatalf("after refusal: in force %q, verifier saw %q over %q", l.Store.Current().Version(), sawCand, sawCur)
	}
	// An accepting verifier lets it through.
	l.Verifiers = []policy.Verifier{policy.VerifierFunc(func(context.Context, *policy.Policy, *policy.Policy) error { return nil })}
	if err := l.Load(ctx); err != nil || l.Store.Current().Version() != "c" || changes.Load() != 2 {
		t.Fatalf("accepted: %v, version %q, %d changes", err, l.Store.Current().Version(), changes.Load())
	}
}

func TestWatchFileChange(t *testing.T) {
	l, sink, changes := newLoader(t, docVersion("a"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Watch(ctx) }()

	writeFile(t, l.Path, docVersion("b"))
	checkFor(t, 10*time.Second, "version b", func() bool { return l.Store.Current().Version() == "b" })

	// A bad file is reported and the policy in force stays.
	writeFile(t, l.Path, "version: c\nrules: [{name: x, match: {tenant: '['}}]\n")
	checkFor(t, 10*time.Second, "reload failure logged", func() bool { return sink.count("policy reload failed") == 1 })
	if v := l.Store.Current().Version(); v != "b" {
		t.Fatalf("bad file: version %q in force", v)
	}
	// The failure is not repeated every poll while the file stays bad.
	n := changes.Load()
	writeFile(t, l.Path, docVersion("d"))
	checkFor(t, 10*time.Second, "version d", func() bool { return l.Store.Current().Version() == "d" })
	if sink.count("policy reload failed") != 1 || changes.Load() != n+1 {
		t.Errorf("log:\n%s", sink.all())
	}

	// A same-size rewrite is still noticed (content hash).
	writeFile(t, l.Path, docVersion("e"))
	checkFor(t, 10*time.Second, "version e", func() bool { return l.Store.Current().Version() == "e" })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	if strings.Contains(sink.all(), "cbrn_weapons") {
		t.Error("log carries policy contents")
	}
}

func TestWatchVerifierRefuses(t *testing.T) {
	l, sink, _ := newLoader(t, docVersion("a"))
	l.Verifiers = []policy.Verifier{policy.VerifierFunc(func(ctx context.Context, cand, cur *policy.Policy) error {
		if ok, reasons := policy.Stricter(cand, cur); !ok {
			return errors.New("unsigned weakening: " + strings.Join(reasons, "; "))
		}
		return nil
	})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx)

	writeFile(t, l.Path, "version: weaker\ndefaults:\n  input: {cbrn_weapons: flag}\n")
	checkFor(t, 10*time.Second, "refusal logged", func() bool { return sink.count("unsigned weakening") == 1 })
	if v := l.Store.Current().Version(); v != "a" {
		t.Fatalf("refused policy in force: %q", v)
	}
	writeFile(t, l.Path, "version: stricter\ndefaults:\n  input: {cbrn_weapons: block, hate: block}\n")
	checkFor(t, 10*time.Second, "stricter policy", func() bool { return l.Store.Current().Version() == "stricter" })
}

func TestWatchReloadChannel(t *testing.T) {
	l, _, _ := newLoader(t, docVersion("a"))
	l.Interval = time.Hour // only the channel can trigger
	reload := make(chan struct{})
	l.Reload = reload
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Watch(ctx)
	writeFile(t, l.Path, docVersion("b"))
	reload <- struct{}{}
	checkFor(t, 10*time.Second, "version b", func() bool { return l.Store.Current().Version() == "b" })
}

func TestWatchSIGHUP(t *testing.T) {
	// Keep SIGHUP from terminating the test binary should it arrive before
	// Watch has installed its handler.
	guard := make(chan os.Signal, 8)
	signal.Notify(guard, syscall.SIGHUP)
	defer signal.Stop(guard)

	l, _, _ := newLoader(t, docVersion("a"))
	l.Interval = time.Hour // only the signal can trigger
	l.SIGHUP = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Watch(ctx); close(done) }()
	// Stop the watcher before the guard handler goes (deferred first).
	defer func() { cancel(); <-done }()
	writeFile(t, l.Path, docVersion("b"))
	checkFor(t, 10*time.Second, "version b after SIGHUP", func() bool {
		if l.Store.Current().Version() == "b" {
			return true
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		return false
	})
}

func TestInFlightKeepsPolicy(t *testing.T) {
	l, _, _ := newLoader(t, docVersion("a"))
	req := policy.Request{Stage: policy.Input}
	v := verdict(map[hazard.Category]float64{hazard.CBRNWeapons: 0.9})

	// A request takes the policy at its start...
	inFlight := l.Store.Current()
	writeFile(t, l.Path, "version: b\ndefaults:\n  input: {cbrn_weapons: flag}\n")
	if err := l.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// ...and finishes on it after the swap.
	if d := inFlight.Decide(req, v); d.Action != policy.Block || inFlight.Version() != "a" {
		t.Fatalf("in-flight decision %+v", d)
	}
	if d := l.Store.Current().Decide(req, v); d.Action != policy.Flag {
		t.Fatalf("new requests: %+v", d)
	}

	// Under concurrent swaps every reader sees one whole policy: the
	// version it read agrees with the decision it made.
	pa, pb := mustParse(t, docVersion("a")), mustParse(t, "version: b\ndefaults:\n  input: {cbrn_weapons: flag}\n")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad atomic.Int32
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := l.Store.Current()
				d := p.Decide(req, v)
				if (p.Version() == "a") != (d.Action == policy.Block) {
					bad.Add(1)
				}
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		if i%2 == 0 {
			l.Store.Swap(pa)
		} else {
			l.Store.Swap(pb)
		}
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d torn reads", bad.Load())
	}
}
