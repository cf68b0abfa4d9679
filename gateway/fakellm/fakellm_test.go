package fakellm_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/warden-safety/warden/gateway/fakellm"
	"github.com/warden-safety/warden/gateway/provider"
)

func TestScriptedResponderAndFaults(t *testing.T) {
	s := fakellm.New(fakellm.Config{
		Responder: func(p string) string {
			if strings.Contains(p, "refuse") {
				return "I can't help with that."
			}
			return "Sure."
		},
		Fault: func(p string) fakellm.Fault {
			if p == "boom" {
				return fakellm.Fault{Status: 429}
			}
			return fakellm.Fault{}
		},
	})
	url, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	call := func(prompt string) (int, string) {
		resp, err := http.Post(url+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"`+prompt+`"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := call("please refuse"); code != 200 || !strings.Contains(body, "I can't help with that.") {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := call("hello"); code != 200 || !strings.Contains(body, `"content":"Sure."`) {
		t.Fatalf("%d %s", code, body)
	}
	if code, body := call("boom"); code != 429 || !strings.Contains(body, "rate_limit_error") {
		t.Fatalf("%d %s", code, body)
	}
	if s.Requests() != 3 {
		t.Fatalf("requests %d", s.Requests())
	}
}

// The in-process transport streams as the handler writes and passes
// cancellation through.
func TestTransportStreamsAndCancels(t *testing.T) {
	s := fakellm.New(fakellm.Config{ChunkDelay: 5 * time.Millisecond, Responder: func(string) string { return strings.Repeat("w ", 500) }})
	client := &http.Client{Transport: s.Transport()}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://echo/v1/messages",
		strings.NewReader(`{"model":"warden-echo","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil || !strings.Contains(string(buf), "message_start") {
		t.Fatalf("first read %q %v", buf, err)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for s.Cancelled() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Cancelled() == 0 {
		t.Fatal("the fake did not see the cancellation")
	}
}

func TestAbortMidStream(t *testing.T) {
	s := fakellm.New(fakellm.Config{Fault: func(string) fakellm.Fault { return fakellm.Fault{AbortAfter: 2} }})
	for _, client := range []*http.Client{{Transport: s.Transport()}} {
		resp, err := client.Post("http://echo"+provider.Chat.Path(), "application/json",
			strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"a b c d e"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err == nil || strings.Contains(string(b), "[DONE]") {
			t.Fatalf("stream was not aborted: %v %s", err, b)
		}
	}
}
