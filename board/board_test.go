package board_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/warden-safety/warden/board"
)

func TestOpenNeedsCharter(t *testing.T) {
	_, err := board.Open(context.Background(), board.Config{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no charter installed") {
		t.Fatalf("got %v, want a clear error about the missing charter", err)
	}
}

func TestGenesisNeedsEveryTrustee(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	env, _ := board.NewCharterStatement(f.charter, f.clock.Now()).Envelope()
	f.sign(env, "alice", "bob")
	_, err := board.Open(context.Background(), board.Config{Dir: t.TempDir(), Genesis: env, Now: f.clock.Now})
	if err == nil {
		t.Fatal("a first charter signed by 2 of its 3 trustees was installed")
	}
	_, err = board.Open(context.Background(), board.Config{Dir: t.TempDir(), Genesis: f.genesis, Deployment: "staging", Now: f.clock.Now})
	if err == nil || !strings.Contains(err.Error(), `not "staging"`) {
		t.Fatalf("got %v, want a deployment mismatch", err)
	}
}

func TestReleaseAdmitRoutes(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	ctx := context.Background()
	err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL)
	wantRefused(t, err, "not-released", `model "gpt-x" has no release`)
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "alice", "carol"))
	if err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.b.Admit(ctx, "gpt-x", "/v1/embeddings", testUpstream, testUpstreamURL), "not-released", "for route /v1/chat/completions only")
	wantRefused(t, f.b.Admit(ctx, "other", "/v1/chat/completions", testUpstream, testUpstreamURL), "not-released", "no release")
}

func TestReleaseRiskCeiling(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	s := releaseStmt("gpt-x", f.clock.Now(), time.Hour)
	s.Release.Risks[0].Level = "critical"
	_, err := f.submit(f.sign(f.propose(s), "alice", "bob", "carol"))
	wantRefused(t, err, "unauthorized", "cbrn risk is critical, above the charter's maximum high")
	s = releaseStmt("gpt-x", f.clock.Now(), time.Hour)
	f.b.Status().Prepare(s, f.clock.Now())
	s.Release.Risks = s.Release.Risks[:3]
	if _, err := s.Envelope(); err == nil || !strings.Contains(err.Error(), "no assessment for risk autonomy") {
		t.Fatalf("got %v, want missing autonomy assessment", err)
	}
}

func TestHaltAndResume(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	ctx := context.Background()
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "alice", "bob"))
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-y", f.clock.Now(), 24*time.Hour)), "alice", "bob"))
	sigX := f.b.HaltSignal("gpt-x", "/v1/chat/completions")
	sigY := f.b.HaltSignal("gpt-y", "/v1/chat/completions")
	select {
	case <-sigX:
		t.Fatal("halt signal closed before any halt")
	default:
	}
	// Any single trustee can halt.
	f.mustAccept(f.sign(f.propose(haltStmt("model:gpt-x", "jailbreak found")), "carol"))
	select {
	case <-sigX:
	case <-time.After(time.Second):
		t.Fatal("halt did not close the in-flight stream's signal")
	}
	select {
	case <-sigY:
		t.Fatal("halting gpt-x closed gpt-y's signal")
	default:
	}
	wantRefused(t, f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "jailbreak found")
	// A new release does not lift a halt: only a resume does.
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 48*time.Hour)), "alice", "bob"))
	wantRefused(t, f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "jailbreak found")
	if err := f.b.Admit(ctx, "gpt-y", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatal(err)
	}
	// Signals asked for while halted are already closed.
	select {
	case <-f.b.HaltSignal("gpt-x", "/v1/chat/completions"):
	default:
		t.Fatal("HaltSignal of a halted model is open")
	}
	// Resume with one signature: pending, still halted.
	res, err := f.submit(f.sign(f.propose(resumeStmt("model:gpt-x", "fixed")), "alice"))
	if err != nil || res.Status != "pending" || res.Needed != 1 {
		t.Fatalf("resume with one signature: %+v, %v", res, err)
	}
	wantRefused(t, f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "")
	// bob adds his signature to the same file: resumed.
	res, err = f.submit(f.sign(f.propose(resumeStmt("model:gpt-x", "fixed")), "alice", "bob"))
	if err != nil || res.Status != "accepted" {
		t.Fatalf("resume with two signatures: %+v, %v", res, err)
	}
	if err := f.b.Admit(ctx, "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.b.HaltSignal("gpt-x", "/v1/chat/completions"):
		t.Fatal("HaltSignal closed after resume")
	default:
	}
	// Resume of a scope that is not halted is refused.
	_, err = f.submit(f.sign(f.propose(resumeStmt("model:gpt-y", "nothing")), "alice", "bob"))
	wantRefused(t, err, "invalid", "not halted")
	// Halting everything and a route.
	f.mustAccept(f.sign(f.propose(haltStmt("route:/v1/chat/completions", "route incident")), "bob"))
	wantRefused(t, f.b.Admit(ctx, "gpt-y", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "route /v1/chat/completions")
	f.mustAccept(f.sign(f.propose(haltStmt("*", "stop everything")), "bob"))
	wantRefused(t, f.b.Admit(ctx, "gpt-y", "/v1/other", testUpstream, testUpstreamURL), "halted", "all traffic")
	if n := len(f.b.Status().Halts); n != 2 {
		t.Fatalf("%d halts in force, want 2", n)
	}
}

func TestRestartReplaysChain(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "alice", "bob"))
	f.mustAccept(f.sign(f.propose(haltStmt("model:gpt-x", "incident")), "carol"))
	res, err := f.submit(f.sign(f.propose(resumeStmt("model:gpt-x", "fixed")), "alice"))
	if err != nil || res.Status != "pending" {
		t.Fatal(res, err)
	}
	f.b.Close()
	b2 := f.open(f.dir)
	wantRefused(t, b2.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "halted", "incident")
	if h := b2.History(); len(h) != 3 || h[2].Type != board.KindHalt || h[2].Signers[0] != "carol" {
		t.Fatalf("history after restart: %+v", h)
	}
	st, err := b2.FullStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 1 || st.Pending[0].Needed != 1 || st.Pending[0].Type != board.KindResume {
		t.Fatalf("pending after restart: %+v", st.Pending)
	}
}

func TestTamperedStoreIsNotEnforced(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), 24*time.Hour)), "alice", "bob"))
	f.b.Close()
	// Someone with disk access strips a signature from the stored release.
	path := filepath.Join(f.dir, "accepted", "0000000002.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `"signatures": [`)
	j := strings.Index(string(b[i:]), "},")
	if i < 0 || j < 0 {
		t.Fatalf("unexpected entry file: %s", b)
	}
	cut := string(b[:i]) + `"signatures": [` + string(b[i+j+2:])
	if err := os.WriteFile(path, []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	b2 := f.open(f.dir)
	wantRefused(t, b2.Admit(context.Background(), "gpt-x", "/v1/chat/completions", testUpstream, testUpstreamURL), "not-released", "no release")
}

func TestAuditDetail(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.mustAccept(f.sign(f.propose(haltStmt("*", "drill")), "alice"))
	recs := f.audit.find("accepted", board.KindHalt)
	if len(recs) != 1 {
		t.Fatalf("got %d accepted halt records", len(recs))
	}
	d := recs[0].Detail
	if d["result"] != "accepted" || !board.ValidDigest(d["digest"].(string)) || strings.Join(d["signers"].([]string), ",") != "alice" {
		t.Fatalf("detail %v", d)
	}
	if len(f.audit.find("enforce", board.KindHalt)) != 1 {
		t.Fatal("change of enforcement not audited")
	}
	if len(f.audit.find("accepted", board.KindCharter)) != 1 {
		t.Fatal("genesis charter not audited")
	}
}

func TestCharterExpiry(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.clock.Add(366 * 24 * time.Hour)
	_, err := f.submit(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob"))
	wantRefused(t, err, "expired", "the charter expired")
	// Halts still work, and the trustees can renew the charter.
	f.mustAccept(f.sign(f.propose(haltStmt("*", "charter lapsed")), "alice"))
	nc := *f.charter
	nc.Expires = f.clock.Now().Add(365 * 24 * time.Hour)
	f.mustAccept(f.sign(f.propose(&board.Statement{Type: board.KindCharter, Charter: &nc}), "alice", "bob"))
	if _, v := f.b.Charter(); v != 2 {
		t.Fatalf("charter version %d, want 2", v)
	}
}

func TestPolicyStricterLocally(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	ctx := context.Background()
	err := f.b.VerifyPolicyDigest(ctx, sha("weaker"), "2", false, []string{"rule x: block -> allow"})
	wantRefused(t, err, "policy-unapproved", "signed by 2 of 3 trustees")
	if !strings.Contains(err.Error(), "block -> allow") {
		t.Fatalf("error %q does not say why", err)
	}
	if err := f.b.VerifyPolicyDigest(ctx, sha("stricter"), "2", true, nil); err != nil {
		t.Fatal(err)
	}
	f.mustAccept(f.sign(f.propose(policyStmt(sha("weaker"))), "alice", "bob"))
	if err := f.b.VerifyPolicyDigest(ctx, sha("weaker"), "", false, nil); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, f.b.VerifyPolicyDigest(ctx, sha("weaker"), "other", false, nil), "policy-unapproved", "claims version")
}

func TestMeterCommitments(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	m := f.b.Meter()
	f.b.AddTokens("gpt-x", "served", 600, 300)
	m.AddTokens("guard-1", "guard", 100, 0)
	m.AddTokens("gpt-x", "bogus", 1, 1)
	m.AddTokens("gpt-x", "served", -5, 0)
	cr := m.Commitments()
	if len(cr) != 1 || cr[0].TotalTokens != 1000 || cr[0].KindTokens != 100 || cr[0].Measured != 0.1 || cr[0].Met {
		t.Fatalf("commitments %+v", cr)
	}
	m.AddTokens("gpt-x", "eval", 150, 0)
	if cr := m.Commitments(); !cr[0].Met {
		t.Fatalf("250 of 1150 tokens should meet 20%%: %+v", cr)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(f.b.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.Metric {
			key := mf.GetName()
			for _, l := range mt.Label {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if mt.Counter != nil {
				got[key] = mt.Counter.GetValue()
			} else if mt.Gauge != nil {
				got[key] = mt.Gauge.GetValue()
			}
		}
	}
	for k, want := range map[string]float64{
		"warden_board_commitment_promised_ratio,commitment=safety-compute":   0.2,
		"warden_board_commitment_met,commitment=safety-compute":              1,
		"warden_board_tokens_total,direction=prompt,kind=served,model=gpt-x": 600,
		"warden_board_meter_invalid_total":                                   2,
		"warden_board_charter_version,deployment=prod":                       1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if v := got["warden_board_commitment_measured_ratio,commitment=safety-compute"]; v < 0.217 || v > 0.218 {
		t.Errorf("measured ratio %v, want 250/1150", v)
	}
}

func TestHTTPAPI(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	srv := httptest.NewServer(f.b.Handler())
	defer srv.Close()
	ctx := context.Background()
	c := &board.Client{BaseURL: srv.URL}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := releaseStmt("gpt-x", f.clock.Now(), time.Hour)
	st.Prepare(s, f.clock.Now())
	env, _ := s.Envelope()
	res, err := c.Submit(ctx, f.sign(env, "alice"))
	if err != nil || res.Status != "pending" || res.Needed != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	st, err = c.Status(ctx)
	if err != nil || len(st.Pending) != 1 || st.Pending[0].Needed != 1 {
		t.Fatalf("status pending %+v %v", st.Pending, err)
	}
	res, err = c.Submit(ctx, f.sign(env, "bob"))
	if err != nil || res.Status != "accepted" {
		t.Fatalf("%+v %v", res, err)
	}
	_, err = c.Submit(ctx, env)
	wantRefused(t, err, "stale", "already applied")
	h, err := c.History(ctx)
	if err != nil || len(h) != 2 || h[1].Type != board.KindRelease {
		t.Fatalf("history %+v %v", h, err)
	}
	// Malformed bodies get 400 with a clear error.
	resp, err := http.Post(srv.URL+"/board/statements", "application/json", strings.NewReader(`{"payloadType":"text/plain","payload":"eA==","signatures":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad payloadType: HTTP %d", resp.StatusCode)
	}
	f.b.AddTokens("gpt-x", "served", 10, 10)
	cr, err := c.Commitments(ctx)
	if err != nil || len(cr.Commitments) != 1 || cr.Commitments[0].TotalTokens != 20 {
		t.Fatalf("commitments %+v %v", cr, err)
	}
}

// Two boards on one data directory (a server and `warden board submit
// --dir` run by hand): the second follows the first's statements.
func TestFileStoreSharedDirectory(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	changes := make(chan board.Kind, 8)
	other, err := board.Open(context.Background(), board.Config{Dir: f.dir, Now: f.clock.Now,
		OnChange: func(k board.Kind, digest string) { changes <- k }})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sig := other.HaltSignal("gpt-x", "/v1/chat/completions")
	f.mustAccept(f.sign(f.propose(haltStmt("*", "drill")), "alice"))
	select {
	case <-sig:
	case <-time.After(2 * time.Second):
		t.Fatal("the second board did not pick up the halt from the shared directory")
	}
	if k := <-changes; k != board.KindHalt {
		t.Fatalf("OnChange got %s, want halt", k)
	}
	// Both race for the next statement on the same chain: one wins.
	r1 := f.sign(f.propose(resumeStmt("*", "one")), "alice", "bob")
	r2 := f.sign(f.propose(resumeStmt("*", "two")), "alice", "carol")
	_, e1 := f.b.Submit(context.Background(), r1)
	_, e2 := other.Submit(context.Background(), r2)
	if e1 != nil || e2 == nil {
		t.Fatalf("first: %v, second: %v; want the second refused", e1, e2)
	}
	wantRefused(t, e2, "stale", "replay or rollback")
}

func TestJunkSignaturesNotStored(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	env := f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice")
	for i := 0; i < 50; i++ {
		env.Signatures = append(env.Signatures, board.Signature{KeyID: "junk", Sig: env.Signatures[0].Sig})
	}
	if res, err := f.submit(env); err != nil || res.Status != "pending" || len(res.Rejected) != 50 {
		t.Fatalf("%+v %v", res, err)
	}
	des, err := os.ReadDir(filepath.Join(f.dir, "pending"))
	if err != nil || len(des) != 1 {
		t.Fatalf("pending dir: %v %v", des, err)
	}
	b, _ := os.ReadFile(filepath.Join(f.dir, "pending", des[0].Name()))
	e, err := board.ParseEnvelope(b)
	if err != nil || len(e.Signatures) != 1 {
		t.Fatalf("pending envelope keeps %d signatures, want alice's only (%v)", len(e.Signatures), err)
	}
}

func TestExpirySweepAudited(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.mustAccept(f.sign(f.propose(releaseStmt("gpt-x", f.clock.Now(), time.Hour)), "alice", "bob"))
	b, err := board.Open(context.Background(), board.Config{Dir: f.dir, Now: f.clock.Now, Audit: f.audit, SyncInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f.clock.Add(400 * 24 * time.Hour) // past the release and the charter
	waitFor(t, 2*time.Second, func() bool {
		n := 0
		for _, r := range append(f.audit.find("enforce", board.KindRelease), f.audit.find("enforce", board.KindCharter)...) {
			if c, _ := r.Detail["change"].(string); strings.Contains(c, "expired") {
				n++
			}
		}
		return n == 2
	})
	time.Sleep(50 * time.Millisecond)
	n := 0
	for _, r := range f.audit.find("enforce", board.KindRelease) {
		if r.Detail["change"] == "release expired" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("release expiry audited %d times, want once", n)
	}
}

// newHTTPServer serves h on 127.0.0.1 (random port).
func newHTTPServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// racingStore lets another writer append just before each Append.
type racingStore struct {
	board.Store
	before func()
}

func (r *racingStore) Append(ctx context.Context, e board.Entry) (int64, error) {
	if r.before != nil {
		f := r.before
		r.before = nil
		f()
	}
	return r.Store.Append(ctx, e)
}

// When another writer appends between our sync and our append, our entry
// gets a later sequence number: both are applied in store order and none
// is skipped.
func TestAppendAfterAnotherWriter(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	fs, err := board.NewFileStore(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	rs := &racingStore{Store: fs}
	a, err := board.Open(context.Background(), board.Config{Store: rs, Now: f.clock.Now, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	other := f.sign(f.propose(haltStmt("model:other", "by the other writer")), "bob")
	rs.before = func() {
		if _, err := f.b.Submit(context.Background(), other); err != nil {
			t.Error(err)
		}
	}
	mine := f.sign(f.propose(haltStmt("model:mine", "by this writer")), "alice")
	res, err := a.Submit(context.Background(), mine)
	if err != nil || res.Status != "accepted" || !strings.Contains(res.Message, "halted model:mine") {
		t.Fatalf("%+v %v", res, err)
	}
	ctx := context.Background()
	wantRefused(t, a.Admit(ctx, "other", "/r", testUpstream, testUpstreamURL), "halted", "by the other writer")
	wantRefused(t, a.Admit(ctx, "mine", "/r", testUpstream, testUpstreamURL), "halted", "by this writer")
	if h := a.History(); len(h) != 3 || h[1].Seq != 2 || h[2].Seq != 3 {
		t.Fatalf("history %+v", h)
	}
}

// Token totals survive a restart: restarting a replica does not reset a
// commitment's measurement.
func TestMeterSurvivesRestart(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	f.b.AddTokens("gpt-x", "served", 900, 0)
	f.b.AddTokens("guard", "guard", 50, 0)
	if err := f.b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := f.open(f.dir)
	b2.AddTokens("guard", "guard", 50, 0)
	cr := b2.Meter().Commitments()
	if len(cr) != 1 || cr[0].TotalTokens != 1000 || cr[0].KindTokens != 100 || cr[0].Met {
		t.Fatalf("after restart: %+v", cr)
	}
	if own := b2.Meter().Tokens(); len(own) != 1 || own[0].Prompt != 50 {
		t.Fatalf("this process's own counts: %+v", own)
	}
}

func TestUpstreamMatches(t *testing.T) {
	for _, c := range []struct {
		signed, name, url string
		want              bool
	}{
		{"*", "anything", "", true},
		{"openai", "openai", "https://api.openai.com", true},
		{"https://api.openai.com/v1", "openai", "https://api.openai.com", true},
		{"https://API.openai.com/v1/", "x", "https://api.openai.com/v1", true},
		{"https://api.openai.com/v1", "openai", "https://llm.cheap.example/v1", false},
		{"openai", "cheap", "https://api.openai.com", false},
		{"openai", "", "", false},
		{"", "openai", "https://api.openai.com", false},
		{"https://api.openai.com/v1", "", "", false},
	} {
		if got := board.UpstreamMatches(c.signed, c.name, c.url); got != c.want {
			t.Errorf("UpstreamMatches(%q, %q, %q) = %v, want %v", c.signed, c.name, c.url, got, c.want)
		}
	}
}
