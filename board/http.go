package board

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Handler serves the board's HTTP API:
//
//	POST /board/statements   submit a DSSE envelope (200 accepted, 202 pending, 4xx refused)
//	GET  /board/status       Status with pending statements
//	GET  /board/history      the accepted statements in order
//	GET  /board/commitments  commitments, promised against measured, and token counts
//	GET  /board/admit?model=M&route=R  whether a request would be admitted now
//
// Submissions need no other authentication: a statement counts only with
// the trustees' signatures it carries.
func (b *Board) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /board/statements", b.handleSubmit)
	mux.HandleFunc("GET /board/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := b.FullStatus(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", "status unavailable")
			b.log.Error("board: status", "err", err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /board/history", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"history": b.History()})
	})
	mux.HandleFunc("GET /board/commitments", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, CommitmentsResponse{Commitments: b.meter.Commitments(), Tokens: b.meter.Totals()})
	})
	mux.HandleFunc("GET /board/admit", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		model, route, upstream, upstreamURL := q.Get("model"), q.Get("route"), q.Get("upstream"), q.Get("upstream_url")
		if model == "" {
			writeError(w, http.StatusBadRequest, "invalid", "query parameter model is required")
			return
		}
		ar := AdmitResponse{Model: model, Route: route, Upstream: upstream, UpstreamURL: upstreamURL, Admitted: true}
		if err := b.Admit(r.Context(), model, route, upstream, upstreamURL); err != nil {
			ar.Admitted, ar.Reason = false, err.Error()
		}
		writeJSON(w, http.StatusOK, ar)
	})
	return mux
}

// AdmitResponse is the body of GET /board/admit.
type AdmitResponse struct {
	Model string `json:"model"`
	Route string `json:"route"`
	// Upstream and UpstreamURL are the upstream asked about.
	Upstream    string `json:"upstream,omitempty"`
	UpstreamURL string `json:"upstream_url,omitempty"`
	Admitted    bool   `json:"admitted"`
	Reason      string `json:"reason,omitempty"`
}

// CommitmentsResponse is the body of GET /board/commitments.
type CommitmentsResponse struct {
	Commitments []CommitmentReport `json:"commitments"`
	Tokens      []TokenCount       `json:"tokens"`
}

func (b *Board) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEnvelopeSize+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "read body: "+err.Error())
		return
	}
	env, err := ParseEnvelope(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	res, err := b.Submit(r.Context(), env)
	var be *Error
	switch {
	case errors.As(err, &be):
		writeError(w, be.HTTPStatus(), be.Code, be.Msg)
		return
	case err != nil:
		b.log.Error("board: submit", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "submit failed")
		return
	}
	code := http.StatusOK
	if res.Status == "pending" {
		code = http.StatusAccepted
	}
	writeJSON(w, code, res)
}

type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// Client talks to a running Warden's board API.
type Client struct {
	// BaseURL is the server's base, e.g. "http://127.0.0.1:8080".
	BaseURL string
	HTTP    *http.Client
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return 0, fmt.Errorf("board client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("board client: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("board client: read response: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			return resp.StatusCode, &Error{Code: eb.Code, Msg: eb.Error}
		}
		return resp.StatusCode, fmt.Errorf("board client: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("board client: decode %s: %w", path, err)
	}
	return resp.StatusCode, nil
}

// Submit posts a statement; a refusal is returned as *Error.
func (c *Client) Submit(ctx context.Context, env *Envelope) (*Result, error) {
	var res Result
	if _, err := c.do(ctx, http.MethodPost, "/board/statements", env.Marshal(), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Status fetches the server's status, pending statements included.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	_, err := c.do(ctx, http.MethodGet, "/board/status", nil, &st)
	return st, err
}

// History fetches the accepted statements.
func (c *Client) History(ctx context.Context) ([]HistoryEntry, error) {
	var h struct {
		History []HistoryEntry `json:"history"`
	}
	_, err := c.do(ctx, http.MethodGet, "/board/history", nil, &h)
	return h.History, err
}

// Admit asks whether the board would admit a request for model on route,
// sent to the named upstream at upstreamURL.
func (c *Client) Admit(ctx context.Context, model, route, upstream, upstreamURL string) (AdmitResponse, error) {
	var ar AdmitResponse
	q := url.Values{"model": {model}, "route": {route}, "upstream": {upstream}, "upstream_url": {upstreamURL}}
	_, err := c.do(ctx, http.MethodGet, "/board/admit?"+q.Encode(), nil, &ar)
	return ar, err
}

// Commitments fetches the commitments report.
func (c *Client) Commitments(ctx context.Context) (CommitmentsResponse, error) {
	var cr CommitmentsResponse
	_, err := c.do(ctx, http.MethodGet, "/board/commitments", nil, &cr)
	return cr, err
}
