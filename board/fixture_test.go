package board_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/board"
)

// The upstream the fixture's releases are served by, as a gateway reports
// it: its configured name and base URL (the release signs ".../v1").
const testUpstream, testUpstreamURL = "primary", "https://upstream.example"

// memAudit collects governance records.
type memAudit struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (m *memAudit) Record(ctx context.Context, r audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

// find returns the records whose Action is action and whose Detail has
// statement_type typ.
func (m *memAudit) find(action string, typ board.Kind) []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []audit.Record
	for _, r := range m.recs {
		if r.Kind == "governance" && r.Action == action && r.Detail["statement_type"] == string(typ) {
			out = append(out, r)
		}
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t       testing.TB
	keys    map[string]*board.PrivateKey
	names   []string
	charter *board.Charter
	genesis *board.Envelope
	b       *board.Board
	audit   *memAudit
	clock   *clock
	dir     string
}

// deterministic keys, so failures are reproducible.
func testKey(t testing.TB, name string) *board.PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("warden board test key " + name))
	k, err := board.GenerateKey(name, strings.NewReader(string(seed[:])))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newFixture opens a board for deployment "prod" with the given trustees
// and k for every act but halt (1).
func newFixture(t testing.TB, k int, names ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, keys: map[string]*board.PrivateKey{}, names: names, audit: &memAudit{},
		clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, dir: t.TempDir()}
	c := &board.Charter{Deployment: "prod", Thresholds: board.DefaultThresholds(k), Expires: f.clock.Now().Add(365 * 24 * time.Hour),
		Commitments: []board.Commitment{{Name: "safety-compute", Description: "at least 20% of model tokens go to safety evaluation and guard models", Kinds: []string{"guard", "eval"}, MinShare: 0.2}}}
	for _, n := range names {
		f.keys[n] = testKey(t, n)
		c.Trustees = append(c.Trustees, f.keys[n].Public)
	}
	f.charter = c
	env, err := board.NewCharterStatement(c, f.clock.Now()).Envelope()
	if err != nil {
		t.Fatal(err)
	}
	f.genesis = f.sign(env, names...)
	f.b = f.open(f.dir)
	return f
}

func (f *fixture) open(dir string) *board.Board {
	f.t.Helper()
	b, err := board.Open(context.Background(), board.Config{Dir: dir, Genesis: f.genesis, Audit: f.audit, Now: f.clock.Now})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { b.Close() })
	return b
}

func (f *fixture) sign(env *board.Envelope, names ...string) *board.Envelope {
	f.t.Helper()
	for _, n := range names {
		k := f.keys[n]
		if k == nil {
			f.t.Fatalf("no key %q", n)
		}
		if err := env.AddSignature(k); err != nil {
			f.t.Fatal(err)
		}
	}
	return env
}

// propose prepares s against the board's current heads and returns the
// unsigned envelope.
func (f *fixture) propose(s *board.Statement) *board.Envelope {
	f.t.Helper()
	f.b.Status().Prepare(s, f.clock.Now())
	env, err := s.Envelope()
	if err != nil {
		f.t.Fatal(err)
	}
	return env
}

func (f *fixture) submit(env *board.Envelope) (*board.Result, error) {
	return f.b.Submit(context.Background(), env)
}

func (f *fixture) mustAccept(env *board.Envelope) *board.Result {
	f.t.Helper()
	res, err := f.submit(env)
	if err != nil {
		f.t.Fatalf("submit: %v", err)
	}
	if res.Status != "accepted" {
		f.t.Fatalf("submit: status %s (%s), want accepted", res.Status, res.Message)
	}
	return res
}

func releaseStmt(model string, now time.Time, ttl time.Duration) *board.Statement {
	r := &board.Release{Model: model, Route: "/v1/chat/completions", Upstream: "https://upstream.example/v1",
		ScorecardDigest: board.DigestBytes([]byte("scorecard of " + model)), Expires: now.Add(ttl)}
	for _, risk := range board.TrackedRisks() {
		r.Risks = append(r.Risks, board.RiskAssessment{Risk: risk, Level: "low", Rationale: "red-team eval below thresholds", Expires: now.Add(ttl)})
	}
	return &board.Statement{Type: board.KindRelease, Release: r}
}

func haltStmt(scope, reason string) *board.Statement {
	return &board.Statement{Type: board.KindHalt, Halt: &board.Control{Scope: scope, Reason: reason}}
}

func resumeStmt(scope, reason string) *board.Statement {
	return &board.Statement{Type: board.KindResume, Resume: &board.Control{Scope: scope, Reason: reason}}
}

func policyStmt(digest string) *board.Statement {
	return &board.Statement{Type: board.KindPolicy, Policy: &board.PolicyBundle{Digest: digest, PolicyVersion: "test"}}
}

// wantRefused asserts err is a *board.Error with code whose message
// contains substr.
func wantRefused(t *testing.T, err error, code, substr string) {
	t.Helper()
	var be *board.Error
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a refusal (%s)", err, code)
	}
	if be.Code != code || !strings.Contains(be.Msg, substr) {
		t.Fatalf("got refusal %s %q, want %s containing %q", be.Code, be.Msg, code, substr)
	}
}

func sha(s string) string { return board.DigestBytes([]byte(s)) }
