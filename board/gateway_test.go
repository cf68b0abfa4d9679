package board_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/board"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/fakellm"
)

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, audit.Record) error { return nil }

// The board as the real gateway's Governor and Meter, over HTTP on
// 127.0.0.1: an unreleased model gets 403 naming what is missing, a
// released one is served and metered, a halt ends a stream in flight and
// refuses new requests.
func TestGatewayEnforcement(t *testing.T) {
	f := newFixture(t, 2, "alice", "bob", "carol")
	fake := fakellm.New(fakellm.Config{Responder: func(string) string { return strings.Repeat("calm words ", 2000) }, ChunkDelay: 2 * time.Millisecond})
	fakeURL, stop, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	gw, err := gateway.New(gateway.Config{
		Upstreams: []gateway.Upstream{{Name: "oai", Kind: gateway.KindCompatible, BaseURL: fakeURL + "/v1", APIKey: "k", Models: []string{"fake-*"}}},
		Recorder:  nopRecorder{},
		Governor:  f.b,
		Meter:     f.b,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	gw.Register(mux)
	mux.Handle("/board/", f.b.Handler())
	srv := newHTTPServer(t, mux)

	chat := func(model string, stream bool) *http.Response {
		t.Helper()
		body := `{"model":"` + model + `","messages":[{"role":"user","content":"hello"}],"stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
		resp, err := http.Post(srv+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	readAll := func(r *http.Response) string {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return string(b)
	}

	r := chat("fake-a", false)
	if body := readAll(r); r.StatusCode != 403 || !strings.Contains(body, `model \"fake-a\" has no release signed by the safety board`) {
		t.Fatalf("unreleased model: %d %s", r.StatusCode, body)
	}

	// A release for another upstream does not cover this one: the
	// operator cannot serve a released model name from an unreviewed
	// backend.
	f.mustAccept(f.sign(f.propose(releaseStmt("fake-a", f.clock.Now(), time.Hour)), "alice", "bob"))
	r = chat("fake-a", false)
	if body := readAll(r); r.StatusCode != 403 || !strings.Contains(body, "released for upstream https://upstream.example/v1 only, not oai") {
		t.Fatalf("model released for another upstream: %d %s", r.StatusCode, body)
	}
	rel := releaseStmt("fake-a", f.clock.Now(), time.Hour)
	rel.Release.Upstream = "oai"
	f.mustAccept(f.sign(f.propose(rel), "alice", "bob"))
	r = chat("fake-a", false)
	if body := readAll(r); r.StatusCode != 200 {
		t.Fatalf("released model: %d %s", r.StatusCode, body)
	}
	var served int64
	for _, tc := range f.b.Meter().Tokens() {
		if tc.Model == "fake-a" && tc.Kind == "served" {
			served = tc.Prompt + tc.Completion
		}
	}
	if served == 0 {
		t.Fatalf("gateway did not meter tokens through the board: %+v", f.b.Meter().Tokens())
	}

	// A stream in flight, then carol halts the model.
	r = chat("fake-a", true)
	if r.StatusCode != 200 {
		t.Fatalf("stream: %d %s", r.StatusCode, readAll(r))
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	f.mustAccept(f.sign(f.propose(haltStmt("model:fake-a", "jailbreak reported")), "carol"))
	rest, _ := io.ReadAll(br)
	r.Body.Close()
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("stream ended %v after the halt", d)
	}
	if strings.Count(string(rest), "calm") >= 2000 || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("stream was not cut cleanly after the halt (%d bytes):\n%.500s", len(rest), rest)
	}
	r = chat("fake-a", false)
	if body := readAll(r); r.StatusCode != 403 || !strings.Contains(body, "halted by the safety board: jailbreak reported") {
		t.Fatalf("after halt: %d %s", r.StatusCode, body)
	}
	// The board's own API is served beside the gateway.
	st, err := (&board.Client{BaseURL: srv}).Status(context.Background())
	if err != nil || len(st.Halts) != 1 {
		t.Fatalf("status via the gateway's mux: %+v %v", st.Halts, err)
	}
}
