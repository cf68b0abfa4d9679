package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/policy"
)

// statusWriter remembers the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (g *Gateway) handler(route provider.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		x := &exchange{g: g, id: newRequestID(), start: time.Now(), route: route, decision: policy.Allow}
		w.Header().Set("x-warden-request-id", x.id)
		defer func() { // also when a stream is aborted (http.ErrAbortHandler)
			status := sw.status
			if status == 0 {
				status = 499 // the client went away before an answer
			}
			g.m.requests.WithLabelValues(route.Path(), strconv.Itoa(status), string(x.decision)).Inc()
			g.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", x.id),
				slog.String("route", route.Path()), slog.String("model", x.req.Model), slog.String("tenant", x.req.Tenant), slog.Int("status", status),
				slog.String("decision", string(x.decision)), slog.Float64("duration_ms", float64(time.Since(x.start).Microseconds())/1000))
		}()
		g.serve(x, sw, r)
	})
}

// setDecision sets the x-warden-decision header (before the header is
// written). Escalate never reaches a client: it is resolved first.
func (x *exchange) setDecision(w http.ResponseWriter) {
	w.Header().Set("x-warden-decision", string(x.decision))
}

func (g *Gateway) serve(x *exchange, w *statusWriter, r *http.Request) {
	route, f := x.route, x.route.Format()
	ctx := r.Context()
	x.pol = g.cfg.Policies.Current() // once: a reload does not change this request's policy
	x.setDecision(w)

	r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)
	body, err := readBody(r.Body, r.ContentLength, g.cfg.MaxBodyBytes)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			g.fail(w, f, http.StatusRequestEntityTooLarge, "request_too_large",
				fmt.Sprintf("request body is larger than the limit of %d bytes", mb.Limit), "")
			return
		}
		g.fail(w, f, http.StatusBadRequest, "invalid_request", "reading request body: "+err.Error(), "")
		return
	}
	auth, ok := g.authenticate(w, r, f)
	if !ok {
		return
	}
	preq, err := provider.ParseRequest(route, body)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) {
			g.fail(w, f, pe.Status, "invalid_request", pe.Msg, pe.Param)
		} else {
			g.fail(w, f, http.StatusBadRequest, "invalid_request", err.Error(), "")
		}
		return
	}
	x.req = policy.Request{Route: route.Path(), Model: preq.Model, Tenant: auth.tenant}
	if len(g.cfg.MetadataHeaders) > 0 {
		x.req.Metadata = map[string]string{}
		for _, h := range g.cfg.MetadataHeaders {
			if v := r.Header.Get(h); v != "" {
				x.req.Metadata[strings.ToLower(h)] = v
			}
		}
	}
	if x.pol.LogContent() {
		x.logger().Debug("request content", "text", joinParts(preq.Parts))
	}
	up := g.resolve(preq.Model)
	if up == nil {
		g.fail(w, f, http.StatusNotFound, "model_not_found",
			fmt.Sprintf("model %q is not served by this gateway (GET /v1/models lists the models it serves)", preq.Model), "model")
		return
	}
	if !up.serves(route) {
		other := "/v1/chat/completions"
		if up.Kind == KindAnthropic {
			other = "/v1/messages"
		}
		g.fail(w, f, http.StatusBadRequest, "unsupported_route",
			fmt.Sprintf("model %q is served by upstream %q (%s), which does not speak %s; use %s", preq.Model, up.Name, up.Kind, route.Path(), other), "model")
		return
	}
	if gov := g.cfg.Governor; gov != nil {
		if err := gov.Admit(ctx, preq.Model, route.Path(), up.Name, up.BaseURL); err != nil {
			status := http.StatusForbidden
			var hs interface{ HTTPStatus() int }
			if errors.As(err, &hs) {
				status = hs.HTTPStatus()
			}
			g.fail(w, f, status, "model_not_admitted", err.Error(), "model")
			return
		}
	}

	// Input guard.
	in := x.scan(ctx, policy.Input, preq.Parts)
	if in.cancelled {
		return
	}
	x.countDecision(policy.Input, in.decision)
	x.setDecision(w)
	if err := x.recordParts(ctx, policy.Input, in, preq.Parts); err != nil {
		g.fail(w, f, http.StatusServiceUnavailable, "audit_unavailable", "the decision could not be recorded; try again later", "")
		return
	}
	switch in.decision.Action {
	case policy.Allow, policy.Flag:
	case policy.Redact:
		x.redact = detect.NewRedaction()
		for i, p := range preq.Parts {
			if fs := in.perPart[i]; len(fs) > 0 {
				if t := x.redact.Redact(p.Text, fs, in.decision.RedactFinding); t != p.Text {
					preq.Replace(i, t)
				}
			}
		}
	default: // block (escalation has been resolved)
		g.refuse(x, w, preq, in, true)
		return
	}
	if g.cfg.Meter != nil && preq.EnsureStreamUsage() {
		x.dropUsage = true
	}
	if preq.Changed() {
		if body, err = preq.Body(); err != nil {
			g.fail(w, f, http.StatusInternalServerError, "internal_error", "re-encoding the request failed", "")
			return
		}
	}

	// Upstream.
	uctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headerTimer := time.AfterFunc(up.Timeout, cancel)
	ureq, err := up.newRequest(uctx, route, preq.Model, body, r, auth.forwardKey, x.id)
	if err != nil {
		headerTimer.Stop()
		g.fail(w, f, http.StatusInternalServerError, "internal_error", err.Error(), "")
		return
	}
	t0 := time.Now()
	resp, err := up.do(ureq, route)
	g.m.upstream.WithLabelValues(up.Name, route.Path()).Observe(time.Since(t0).Seconds())
	if err != nil {
		timedOut := !headerTimer.Stop()
		switch {
		case ctx.Err() != nil: // client gone; the upstream request is cancelled with it
		case timedOut:
			g.fail(w, f, http.StatusGatewayTimeout, "upstream_timeout", fmt.Sprintf("upstream %q did not answer within %s", up.Name, up.Timeout), "")
		default:
			x.logger().Warn("upstream failed", "upstream", up.Name, "error", err.Error())
			g.fail(w, f, http.StatusBadGateway, "upstream_unreachable", fmt.Sprintf("upstream %q could not be reached", up.Name), "")
		}
		return
	}
	defer resp.Body.Close()
	copyResponseHeaders(w.Header(), resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		headerTimer.Stop()
		g.passError(w, resp)
		return
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if preq.Stream && ct == "text/event-stream" {
		headerTimer.Stop()
		g.stream(x, w, r, up, preq, resp, cancel)
		return
	}
	// A non-streamed answer: the header timer keeps bounding the read.
	defer headerTimer.Stop()
	g.answer(x, w, r, up, preq, resp, uctx)
}

// passError passes an upstream error through with its status and body.
func (g *Gateway) passError(w http.ResponseWriter, resp *http.Response) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && len(b) == 0 {
		b = []byte{}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(b)
}

// refuse answers a blocked request or answer: the provider's error shape,
// or with block style "completion" a normal answer that ends with
// finish_reason content_filter (stop_reason "refusal").
func (g *Gateway) refuse(x *exchange, w http.ResponseWriter, preq *provider.Request, res *stageResult, input bool) {
	f := x.route.Format()
	d := res.decision
	if failBlock(d) {
		g.fail(w, f, http.StatusServiceUnavailable, "content_check_failed",
			"Warden could not check the content and the policy fails closed ("+d.Reason+"); try again later", "")
		return
	}
	if d.BlockStyle == "completion" && x.route != provider.Embeddings {
		id := "warden-" + x.id
		if preq.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(provider.Refusal(x.route, preq.Model, id, time.Now().Unix(), refusalText(d)))
			return
		}
		c := provider.Completion{ID: id, Model: preq.Model, Created: time.Now().Unix(), Text: refusalText(d), Finish: provider.FinishContentFilter}
		writeJSON(w, http.StatusOK, c.Body(x.route))
		return
	}
	code := "content_policy_violation"
	if !input {
		code = "content_filter"
	}
	g.fail(w, f, http.StatusBadRequest, code, blockMessage(d, res.findings), firstLocation(d, res.findings))
}

func refusalText(d policy.Decision) string {
	if d.Refusal != "" {
		return d.Refusal
	}
	return "Blocked by Warden's safety policy."
}

// answer guards a non-streamed upstream answer.
func (g *Gateway) answer(x *exchange, w *statusWriter, r *http.Request, up *upstream, preq *provider.Request, resp *http.Response, uctx context.Context) {
	ctx := r.Context()
	f := x.route.Format()
	body, err := readBody(io.LimitReader(resp.Body, g.cfg.MaxResponseBytes+1), resp.ContentLength, g.cfg.MaxResponseBytes+1)
	if err != nil {
		switch {
		case ctx.Err() != nil: // client gone
		case uctx.Err() != nil:
			g.fail(w, f, http.StatusGatewayTimeout, "upstream_timeout", fmt.Sprintf("upstream %q did not answer within %s", up.Name, up.Timeout), "")
		default:
			g.fail(w, f, http.StatusBadGateway, "upstream_error", fmt.Sprintf("reading the answer of upstream %q failed", up.Name), "")
		}
		return
	}
	if int64(len(body)) > g.cfg.MaxResponseBytes {
		g.fail(w, f, http.StatusBadGateway, "upstream_error", "the upstream answer is larger than the gateway's limit", "")
		return
	}
	pres, err := provider.ParseResponse(x.route, body)
	if err != nil {
		req := x.req
		req.Stage = policy.Output
		if x.pol.FailMode(req) != policy.FailOpen {
			g.fail(w, f, http.StatusBadGateway, "upstream_error", fmt.Sprintf("the answer of upstream %q is not valid JSON and cannot be checked", up.Name), "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
		return
	}
	if m := g.cfg.Meter; m != nil && pres.Usage.OK {
		m.AddTokens(preq.Model, "served", pres.Usage.Prompt, pres.Usage.Completion)
	}
	if x.route == provider.Embeddings {
		x.setDecision(w)
		writeJSON(w, resp.StatusCode, body)
		return
	}
	out := x.scan(ctx, policy.Output, pres.Parts)
	if out.cancelled {
		return
	}
	x.countDecision(policy.Output, out.decision)
	x.setDecision(w)
	if x.pol.LogContent() {
		x.logger().Debug("answer content", "text", joinParts(pres.Parts))
	}
	if err := x.recordParts(ctx, policy.Output, out, pres.Parts); err != nil {
		g.fail(w, f, http.StatusServiceUnavailable, "audit_unavailable", "the decision could not be recorded; try again later", "")
		return
	}
	changed := false
	switch out.decision.Action {
	case policy.Allow, policy.Flag:
	case policy.Redact:
		red := detect.NewRedaction()
		for i, p := range pres.Parts {
			if fs := out.perPart[i]; len(fs) > 0 {
				if t := red.Redact(p.Text, fs, out.decision.RedactFinding); t != p.Text {
					pres.Replace(i, t)
					changed = true
				}
			}
		}
	default:
		g.refuse(x, w, preq, out, false)
		return
	}
	if g.cfg.RestoreRedacted && x.redact != nil && x.redact.Len() > 0 {
		for i, p := range pres.Parts {
			if t := x.redact.Restore(p.Text); t != p.Text {
				pres.Replace(i, t)
				changed = true
			}
		}
	}
	if changed {
		if body, err = pres.Body(); err != nil {
			g.fail(w, f, http.StatusInternalServerError, "internal_error", "re-encoding the answer failed", "")
			return
		}
	}
	writeJSON(w, resp.StatusCode, body)
}

// readBody reads r whole, allocating once when the length is known.
func readBody(r io.Reader, n, limit int64) ([]byte, error) {
	if n <= 0 || n > limit {
		return io.ReadAll(r)
	}
	b := make([]byte, n, n+1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	// The length header may understate the body: read on to its end.
	var one [1]byte
	if m, err := r.Read(one[:]); m > 0 || (err != nil && err != io.EOF) {
		if err != nil && err != io.EOF {
			return nil, err
		}
		rest, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		b = append(append(b, one[:m]...), rest...)
	}
	return b, nil
}
