package guardmodel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

// moderationServer answers /v1/moderations with the body given for the
// input text (testdata files hold responses exactly as OpenAI returns them).
func moderationServer(t *testing.T, bodies map[string]string, requests *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/v1/moderations" || r.Header.Get("Authorization") != "Bearer "+testKey {
			http.Error(w, `{"error":{"message":"no","type":"invalid_request_error","code":"invalid_api_key"}}`, 401)
			return
		}
		var req struct {
			Input string `json:"input"`
			Model string `json:"model"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil || req.Model != "omni-moderation-latest" {
			http.Error(w, "bad request", 400)
			return
		}
		body, ok := bodies[req.Input]
		if !ok {
			http.Error(w, `{"error":{"message":"upstream","type":"server_error","code":null}}`, 503)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readFile(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestModeration(t *testing.T) {
	var n atomic.Int64
	srv := moderationServer(t, map[string]string{
		"threat": readFile(t, "testdata/moderation_flagged.json"),
		"hello":  readFile(t, "testdata/moderation_safe.json"),
		"lowflag": `{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":true,
			"categories":{"self-harm":false,"self-harm/intent":true,"brand-new-category":true},
			"category_scores":{"self-harm":0.2,"self-harm/intent":0.3,"brand-new-category":0.99}}]}`,
		"noresults": `{"id":"modr-1","model":"omni-moderation-latest","results":[]}`,
		"badscore":  `{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":false,"categories":{},"category_scores":{"hate":1.5}}]}`,
		"notjson":   `<html>gateway</html>`,
	}, &n)
	g := mustGuard(t, guardmodel.Config{Name: "oai", Kind: guardmodel.ModerationKind, BaseURL: srv.URL, Model: "omni-moderation-latest", APIKey: testKey})
	ctx := context.Background()

	fs, err := scan(t, ctx, g, "threat")
	if err != nil {
		t.Fatal(err)
	}
	got := map[hazard.Category]detect.Finding{}
	for _, f := range fs {
		got[f.Category] = f
	}
	if len(fs) != 2 {
		t.Fatalf("findings %+v", fs)
	}
	if f := got[hazard.Harassment]; math.Abs(f.Score-0.8189693396524255) > 1e-12 || f.Rule != "harassment" || f.Detector != "guardmodel:oai" || !f.Whole {
		t.Errorf("harassment %+v", f)
	}
	if f := got[hazard.ViolentCrimes]; math.Abs(f.Score-0.9011254316715942) > 1e-12 || f.Rule != "violence" || !strings.Contains(f.Explanation, "(flagged)") {
		t.Errorf("violence %+v", f)
	}

	if fs, err := scan(t, ctx, g, "hello"); err != nil || len(fs) != 0 {
		t.Errorf("safe: %+v %v", fs, err)
	}
	// A flagged category with a low score is raised to the default threshold;
	// an unknown new category is ignored.
	fs, err = scan(t, ctx, g, "lowflag")
	if err != nil || len(fs) != 1 || fs[0].Category != hazard.SelfHarm || fs[0].Score != detect.DefaultThreshold || fs[0].Rule != "self-harm/intent" {
		t.Errorf("lowflag: %+v %v", fs, err)
	}
	for text, kind := range map[string]guardmodel.ErrorKind{"noresults": guardmodel.ErrMalformed, "badscore": guardmodel.ErrMalformed,
		"notjson": guardmodel.ErrMalformed, "unknown": guardmodel.ErrUnavailable} {
		_, err := scan(t, ctx, g, text)
		var ge *guardmodel.Error
		if !errors.As(err, &ge) || ge.Kind != kind {
			t.Errorf("%s: err = %v, want %s", text, err, kind)
		}
	}
	// Through a pipeline the moderation scores become a verdict.
	v, err := detect.NewPipeline(g).Scan(ctx, "threat")
	if err != nil || !v.Flagged || v.Score(hazard.ViolentCrimes) < 0.9 {
		t.Fatalf("pipeline verdict %+v %v", v, err)
	}
	before := n.Load()
	scan(t, ctx, g, "threat")
	if n.Load() != before {
		t.Error("cache miss for a repeated text")
	}
}
