package guardmodel

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/warden-safety/warden/detect"
)

// FuzzResponses feeds arbitrary bytes through the same decoding as a real
// upstream answer (json.Unmarshal into the response type, then interpret)
// for each backend. Whatever the bytes, the result is an error or findings
// with valid categories, scores in [0,1], this guard's detector name, and
// spans inside the text.
func FuzzResponses(f *testing.F) {
	f.Add(byte(0), []byte(`{"choices":[{"index":0,"message":{"role":"assistant","content":"unsafe\nS1,S9"},"logprobs":{"content":[{"token":"unsafe","logprob":-0.1,"top_logprobs":[{"token":"safe","logprob":-2.3}]}]}}],"usage":{"prompt_tokens":5,"completion_tokens":2}}`))
	f.Add(byte(0), []byte(`{"choices":[{"text":"safe","logprobs":{"tokens":["safe"],"top_logprobs":[{"safe":-0.01,"unsafe":-4.6}]}}]}`))
	f.Add(byte(1), []byte(`{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":true,"categories":{"violence":true},"category_scores":{"violence":0.9,"hate":0.2}}]}`))
	f.Add(byte(2), []byte(`{"id":"chk-1","verdict":{"flagged":true,"findings":[{"category":"hate","score":0.9,"span":{"start":0,"end":4},"detector":"lexicon","view":"original"}]}}`))
	const text = "some text under scan"
	guards := map[Kind]*Guard{}
	for _, k := range []Kind{LlamaGuardKind, ModerationKind, WardenKind} {
		g, err := New(Config{Name: "fz", Kind: k, BaseURL: "http://127.0.0.1:1", Model: "m", CacheSize: -1,
			LlamaGuard: LlamaGuardConfig{Logprobs: true}})
		if err != nil {
			f.Fatal(err)
		}
		guards[k] = g
	}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		var fs []detect.Finding
		var err error
		switch which % 3 {
		case 0:
			g := guards[LlamaGuardKind]
			var resp completionResponse
			if json.Unmarshal(body, &resp) != nil {
				return
			}
			fs, err = g.be.(*llamaGuard).interpret(context.Background(), g, &resp)
		case 1:
			g := guards[ModerationKind]
			var resp moderationResponse
			if json.Unmarshal(body, &resp) != nil {
				return
			}
			fs, err = g.be.(*moderation).interpret(g, &resp)
		case 2:
			g := guards[WardenKind]
			var resp checkResponse
			if json.Unmarshal(body, &resp) != nil {
				return
			}
			fs, err = g.be.(*remote).interpret(g, text, &resp)
		}
		if err != nil {
			if fs != nil {
				t.Fatal("findings with an error")
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		for _, f := range fs {
			if !f.Category.Valid() || math.IsNaN(f.Score) || f.Score < 0 || f.Score > 1 || f.Detector != "guardmodel:fz" {
				t.Fatalf("bad finding %+v", f)
			}
			if !f.Whole && (f.Span.Start < 0 || f.Span.End > len(text) || f.Span.Start >= f.Span.End) {
				t.Fatalf("span outside text %+v", f)
			}
		}
	})
}
