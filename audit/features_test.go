package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/warden-safety/warden/audit"
)

func TestPrivacyModes(t *testing.T) {
	cases := []struct {
		mode      audit.PrivacyMode
		wantInput string
	}{
		{audit.PrivacyNone, ""},
		{audit.PrivacyRedacted, "mail [EMAIL] or call [NUMBER], key [SECRET]"},
		{audit.PrivacyFull, "mail bob@example.com or call +1 555 123 4567, key sk-abcdefghijklmnop1234"},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir, audit.Config{DataDir: dir, Privacy: tc.mode})
			l := openLog(t, cfg)
			in := "mail bob@example.com or call +1 555 123 4567, key sk-abcdefghijklmnop1234"
			err := l.Record(context.Background(), audit.Record{Kind: "decision", RequestID: "r1", Action: "block", InputText: in, OutputText: in})
			if err != nil {
				t.Fatal(err)
			}
			l.Close()
			st := openStore(t, cfg)
			es, err := st.Entries(context.Background(), 0, 1)
			if err != nil || len(es) != 1 {
				t.Fatal(es, err)
			}
			rec, err := audit.DecodeRecord(es[0].Body)
			if err != nil {
				t.Fatal(err)
			}
			if rec.InputText != tc.wantInput || rec.OutputText != tc.wantInput {
				t.Errorf("input text %q, want %q", rec.InputText, tc.wantInput)
			}
			if rec.Privacy != string(tc.mode) {
				t.Errorf("privacy %q", rec.Privacy)
			}
			// The hash is of the original text, whatever the mode.
			if sum := sha256.Sum256([]byte(in)); rec.InputSHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("input hash %q", rec.InputSHA256)
			}
			if tc.mode == audit.PrivacyNone && bytes.Contains(es[0].Body, []byte("bob@")) {
				t.Error("text leaked into the stored body")
			}
		})
	}
	if _, err := audit.ParsePrivacyMode("some"); err == nil {
		t.Error("ParsePrivacyMode accepted a bad mode")
	}
}

func TestRecordRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testConfig(t, dir, audit.Config{DataDir: dir}))
	defer l.Close()
	ctx := context.Background()
	for name, r := range map[string]audit.Record{
		"no kind":    {Action: "allow"},
		"no action":  {Kind: "decision"},
		"bad hash":   {Kind: "decision", Action: "allow", InputSHA256: "xyz"},
		"nan score":  {Kind: "decision", Action: "allow", Scores: map[string]float64{"x": nan()}},
		"bad detail": {Kind: "decision", Action: "allow", Detail: map[string]any{"c": make(chan int)}},
	} {
		if err := l.Record(ctx, r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	sk, pk := filepath.Join(dir, "k"), filepath.Join(dir, "k.pub")
	if err := audit.GenerateKey("log.example", sk, pk); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(sk)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("signer key mode %o", fi.Mode().Perm())
	}
	if err := audit.GenerateKey("log.example", sk, filepath.Join(dir, "other.pub")); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("overwrote a key: %v", err)
	}
	s, v, err := audit.LoadSigner(sk)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := audit.LoadVerifier(pk)
	if err != nil || pub.KeyHash() != v.KeyHash() || s.Name() != "log.example" {
		t.Fatalf("verifier derived from the signer differs from the public key file: %v", err)
	}
	os.Chmod(sk, 0o640)
	if _, _, err := audit.LoadSigner(sk); err == nil || !strings.Contains(err.Error(), "group or others") {
		t.Errorf("loaded a group-readable signer key: %v", err)
	}
	b, _ := os.ReadFile(sk)
	if _, _, err := audit.LoadSigner(pk); err == nil || strings.Contains(err.Error(), string(b[20:40])) {
		t.Errorf("bad key error: %v", err)
	}
}

func TestCheckpointFormat(t *testing.T) {
	c := audit.Checkpoint{Origin: "log.example", Size: 12, Hash: tlog.RecordHash([]byte("x"))}
	text := c.Text()
	if !bytes.HasPrefix(text, []byte("log.example\n12\n")) || bytes.Count(text, []byte("\n")) != 3 {
		t.Fatalf("checkpoint text %q", text)
	}
	got, err := audit.ParseCheckpoint(text)
	if err != nil || got.Size != 12 || got.Hash != c.Hash || got.Origin != c.Origin {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"", "o\n1\n", "o\n01\n" + strings.Repeat("A", 43) + "=\n", "o\n-1\nAAAA\n", "o\n1\nAAAA\n", "\n1\n" + strings.Repeat("A", 43) + "=\n", "o\n1\n" + strings.Repeat("A", 43) + "=\n\n"} {
		if _, err := audit.ParseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("parsed bad checkpoint %q", bad)
		}
	}
}

func TestCanonicalEncoding(t *testing.T) {
	r := decision(3)
	r.Time = time.Date(2026, 1, 2, 4, 5, 6, 700000000, time.FixedZone("x", 3600))
	r.Detail = map[string]any{"z": 1, "a": []int{1, 2}, "html": "<b>&"}
	b, err := audit.EncodeRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"index":0,"kind":"decision","request_id":"req-3","time":"2026-01-02T03:05:06.7Z","tenant":"acme","route":"/v1/chat/completions","model":"echo","stage":"input","policy_digest":"` + strings.Repeat("ab", 32) + `","action":"allow","scores":{"cbrn_weapons":0.03},"detectors":["lexicon@1","classifier@2"],"input_text":"hello number 3","detail":{"a":[1,2],"html":"<b>&","z":1}}`
	if string(b) != want {
		t.Fatalf("canonical encoding\n got %s\nwant %s", b, want)
	}
	d, err := audit.DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := audit.EncodeRecord(d)
	if !bytes.Equal(b, b2) {
		t.Fatalf("not stable: %s", b2)
	}
	if _, err := audit.DecodeRecord([]byte(`{"kind":"k","action":"a","extra":1}`)); err == nil {
		t.Error("accepted an unknown field")
	}
}

func TestRetentionKeepsVerification(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 7
		now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		cfg.Now = func() time.Time { return now }
		l := openLog(t, cfg)
		ctx := context.Background()
		for i := range 30 {
			r := decision(i)
			r.Time = now.Add(-time.Duration(30-i) * 24 * time.Hour * 10) // 300 .. 10 days ago
			if err := l.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		n, err := l.Prune(ctx, now.Add(-time.Duration(audit.DefaultRetention)))
		if err != nil {
			t.Fatal(err)
		}
		if n > 12 { // records 0..11 are older than 183 days (the log's own pruning may have done some)
			t.Errorf("pruned %d, want at most 12", n)
		}
		p, err := l.ProveInclusion(ctx, 3, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Record != "" {
			t.Error("pruned record still in proof")
		}
		if _, err := audit.VerifyInclusionProof(p, mustVerifier(t, cfg)); err != nil {
			t.Errorf("proof of a pruned record: %v", err)
		}
		l.Close()
		rep := verify(t, cfg, audit.VerifyOptions{})
		if !rep.OK() || len(rep.Pruned) != 1 || rep.Pruned[0] != [2]int64{0, 12} || rep.Checked != 18 {
			t.Fatalf("verify after pruning: %+v", rep)
		}
	})
}

func mustVerifier(t testing.TB, cfg audit.Config) interface {
	Name() string
	KeyHash() uint32
	Verify(msg, sig []byte) bool
} {
	v, err := audit.LoadVerifier(filepath.Join(cfg.DataDir, "audit.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAsyncModeSaysSo(t *testing.T) {
	dir := t.TempDir()
	var logBuf bytes.Buffer
	var mu sync.Mutex
	cfg := testConfig(t, dir, audit.Config{DataDir: dir, Async: true, QueueSize: 64})
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, nil))
	l := openLog(t, cfg)
	appendN(t, l, 0, 500)
	if !strings.Contains(l.Status(), "ASYNC") {
		t.Errorf("status %q does not say async", l.Status())
	}
	mu.Lock()
	if !strings.Contains(logBuf.String(), "ASYNC mode") {
		t.Errorf("no async warning in the logs: %s", logBuf.String())
	}
	mu.Unlock()
	l.Close() // writes what is queued
	if rep := verify(t, cfg, audit.VerifyOptions{}); !rep.OK() || rep.Size != 500 {
		t.Fatalf("async log after close: %+v", rep)
	}
	d2 := t.TempDir()
	sl := openLog(t, testConfig(t, d2, audit.Config{DataDir: d2}))
	defer sl.Close()
	if s := sl.Status(); strings.Contains(s, "ASYNC") || !strings.Contains(s, "durable") {
		t.Errorf("sync status %q", s)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestReplicas appends from several logs (replicas) on one database at
// once: one order, one tree, every record there.
func TestReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 25
		var wg sync.WaitGroup
		for r := range 3 {
			l := openLog(t, cfg)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer l.Close()
				appendN(t, l, r*1000, 150)
			}()
		}
		wg.Wait()
		rep := verify(t, cfg, audit.VerifyOptions{})
		if !rep.OK() || rep.Size != 450 {
			t.Fatalf("replicas: %+v", rep)
		}
	})
}

func TestHTTPHandler(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.CheckpointEvery = 10
		l := openLog(t, cfg)
		defer l.Close()
		appendN(t, l, 0, 35)
		ctx := context.Background()
		if _, err := l.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: l.Handler()}
		go srv.Serve(ln)
		defer srv.Close()
		base := "http://" + ln.Addr().String()
		get := func(path string, wantStatus int) []byte {
			t.Helper()
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != wantStatus {
				t.Fatalf("GET %s: %d %s, want %d", path, resp.StatusCode, body, wantStatus)
			}
			return body
		}
		v := mustVerifier(t, cfg)
		note := get("/audit/checkpoint", 200)
		cp, err := audit.OpenCheckpoint(note, v)
		if err != nil || cp.Size != 35 {
			t.Fatalf("checkpoint: %+v %v", cp, err)
		}
		p, err := audit.ParseInclusionProof(get("/audit/proof/inclusion?index=17", 200))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.VerifyInclusionProof(p, v); err != nil {
			t.Fatal(err)
		}
		p, err = audit.ParseInclusionProof(get("/audit/proof/inclusion?request_id=req-4&size=35", 200))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := audit.VerifyInclusionProof(p, v); err != nil || !strings.Contains(p.Record, `"request_id":"req-4"`) {
			t.Fatalf("proof by request id: %v %s", err, p.Record)
		}
		cps, err := l.Store().Checkpoints(ctx)
		if err != nil || len(cps) < 2 {
			t.Fatalf("checkpoints: %v %v", cps, err)
		}
		c, err := audit.ParseConsistencyProof(get(fmt.Sprintf("/audit/proof/consistency?old=%d&new=35", cps[0].Size), 200))
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.VerifyConsistencyProof(c, v); err != nil || c.OldCheckpoint == "" {
			t.Fatalf("consistency: %v", err)
		}
		var e audit.Entry
		if err := json.Unmarshal(get("/audit/records/3", 200), &e); err != nil || e.Index != 3 || tlog.RecordHash(e.Record) != e.LeafHash {
			t.Fatalf("record: %+v %v", e, err)
		}
		get("/audit/records/99", 404)
		get("/audit/records/x", 400)
		get("/audit/proof/inclusion", 400)
		get("/audit/proof/inclusion?index=5&size=99", 400)
		get("/audit/proof/inclusion?request_id=nope", 404)
		get("/audit/proof/consistency?old=30&new=20", 400)
		if err := l.Ready(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestFailClosed: when the database cannot take the record, Record returns
// an error (the gateway must not answer as if it were logged) and Ready
// says the log is not ready.
func TestFailClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		l := openLog(t, cfg)
		defer l.Close()
		ctx := context.Background()
		appendN(t, l, 0, 5)
		if err := l.Ready(); err != nil {
			t.Fatal(err)
		}
		b.exec(t, cfg, `DROP TABLE records`)
		if err := l.Record(ctx, decision(6)); err == nil {
			t.Fatal("Record succeeded without its table")
		}
		if err := l.Ready(); err == nil || !strings.Contains(err.Error(), "last write failed") {
			t.Fatalf("Ready after a failed write: %v", err)
		}
	})
}

// TestCloseWhileRecording: Record calls racing with Close all return, and
// every one that returned nil is in the log.
func TestCloseWhileRecording(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, audit.Config{DataDir: dir})
	l := openLog(t, cfg)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []string
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				r := decision(w*1000 + i)
				err := l.Record(context.Background(), r)
				if errors.Is(err, audit.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ok = append(ok, r.RequestID)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	l.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record calls hang after Close")
	}
	st := openStore(t, cfg)
	for _, id := range ok {
		if idx, err := st.LookupRequest(context.Background(), id); err != nil || len(idx) != 1 {
			t.Fatalf("acknowledged %s missing: %v %v", id, idx, err)
		}
	}
	if rep := verify(t, cfg, audit.VerifyOptions{}); !rep.OK() {
		t.Fatal(rep.Problems)
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"write to ann.lee+x@mail.example.org today":                     "write to [EMAIL] today",
		"my key is sk-proj-abcdefghijklmnopqrstu":                       "my key is [SECRET]",
		"password: hunter2 and more":                                    "[SECRET] and more",
		"call 0049 30 1234 5678 now":                                    "call [NUMBER] now",
		"card 4111111111111111":                                         "card [NUMBER]",
		"server 10.1.2.3 down":                                          "server [IP] down",
		"session abcdefghijklmnopqrstu1234567 expired":                  "session [TOKEN] expired",
		"how do I bake bread in 2026?":                                  "how do I bake bread in 2026?",
		"a very long word without digits: antidisestablishmentarianism": "a very long word without digits: antidisestablishmentarianism",
	} {
		if got := audit.RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
}
