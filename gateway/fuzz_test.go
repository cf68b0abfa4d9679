package gateway_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway"
	"github.com/warden-safety/warden/gateway/provider"
)

// FuzzGateway posts arbitrary bodies to every route of a gateway in front
// of the echo model: the answer is always a well-formed success, a refusal
// or a client error in the route's format, never a server error or a crash.
func FuzzGateway(f *testing.F) {
	gw, err := gateway.New(gateway.Config{Pipeline: detect.NewPipeline(markers{})})
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range provider.Routes {
		f.Add(uint8(r), bodyFor(r, "warden-echo", "hello there", false))
		if r.Streams() {
			f.Add(uint8(r), bodyFor(r, "warden-echo", "a nerve agent and SECRET-123456", true))
		}
	}
	f.Add(uint8(0), `{"model":"warden-echo","messages":[{"role":"user","content":[{"type":"text","text":"\ud800"}]}],"stream":true}`)
	f.Fuzz(func(t *testing.T, ri uint8, body string) {
		route := provider.Routes[int(ri)%len(provider.Routes)]
		req := httptest.NewRequest("POST", route.Path(), strings.NewReader(body))
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q: status %d %s", route, body, w.Code, w.Body)
		}
		if w.Header().Get("x-warden-decision") == "" || w.Header().Get("x-warden-request-id") == "" {
			t.Fatalf("missing warden headers: %v", w.Header())
		}
		out := w.Body.Bytes()
		if w.Header().Get("Content-Type") == "text/event-stream" {
			if !strings.Contains(string(out), "data: ") {
				t.Fatalf("empty stream: %q", out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%s %q: answer is not JSON: %q", route, body, out)
		}
	})
}
