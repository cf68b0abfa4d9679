package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/gateway/sse"
	"github.com/warden-safety/warden/policy"
)

// The streaming output guard.
//
// Every upstream event is parsed (provider.Inspector) into the text deltas
// it carries, each on a channel (one field of the answer: a choice's
// content, a tool call's arguments, a content block). Events are queued in
// order. After each event the guard scans, per channel it touched, the text
// not yet released plus up to hold-back characters before it, and releases
// from the head of the queue every event whose text lies entirely before
// the last hold-back characters of its channel. So text reaches the client
// only after it has been scanned together with the hold-back characters
// that follow it (a phrase split across chunks is caught whole), memory per
// stream is bounded by the window, and the answer is never buffered whole.
//
// A block cuts the stream: held events are dropped and the stream ends
// well-formed in the provider's format. A redact replaces spans that are
// still held with placeholders (the events are re-encoded); placeholders of
// values redacted from the request are restored the same way.

type replacement struct {
	start, end int // absolute byte offsets in the channel
	text       string
}

type channel struct {
	name     string
	buf      []byte // channel text from offset base
	base     int
	total    int
	released int
	scanned  int // text before this offset has been scanned
	limit    int // holdLimit, computed once per release
	dirty    bool
	repl     []replacement // sorted, non-overlapping, not yet released
}

type heldEvent struct {
	raw    []byte
	ev     provider.Event
	chans  []*channel
	starts []int
	ends   []int
	at     time.Time
}

type streamGuard struct {
	x        *exchange
	g        *Gateway
	ctx      context.Context
	insp     *provider.Inspector
	pp       *detect.Pipeline
	req      policy.Request
	hold     int
	chans    []*channel
	queue    []heldEvent
	out      []byte
	hash     *sha256Writer
	text     strings.Builder // the answer, only in the full or redacted privacy modes (bounded)
	outRed   *detect.Redaction
	result   stageResult // strongest decision so far, findings
	findSeen map[string]bool
	done     bool
	sawDone  bool
	cutErr   error
}

var errStreamDone = errors.New("stream done")

const maxAuditStreamText = 1 << 20

func (g *Gateway) stream(x *exchange, w *statusWriter, r *http.Request, up *upstream, preq *provider.Request, resp *http.Response, cancel context.CancelFunc) {
	ctx := r.Context()
	g.m.streams.Inc()
	defer g.m.streams.Dec()

	req := x.req
	req.Stage = policy.Output
	sg := &streamGuard{x: x, g: g, ctx: ctx, req: req, pp: x.pipeline(policy.Output), hash: newSHA256Writer(),
		insp:     provider.NewInspector(x.route, preq.Model, "warden-"+x.id, time.Now().Unix()),
		hold:     x.pol.HoldBack(req),
		result:   stageResult{decision: policy.Decision{Action: policy.Allow, Rule: "default"}},
		findSeen: map[string]bool{}}

	// The safety board may halt the model while the stream runs.
	var halted atomic.Bool
	stop := make(chan struct{})
	defer close(stop)
	if gov := g.cfg.Governor; gov != nil {
		if hc := gov.HaltSignal(preq.Model, x.route.Path()); hc != nil {
			go func() {
				select {
				case <-hc:
					halted.Store(true)
					cancel()
				case <-stop:
				}
			}()
		}
	}
	// Silence from the upstream longer than StreamIdle ends the stream.
	var idle atomic.Bool
	idleTimer := time.AfterFunc(up.StreamIdle, func() { idle.Store(true); cancel() })
	defer idleTimer.Stop()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.Header().Del("Content-Length")
	// The output decision is known only at the end: it goes in a trailer.
	w.Header().Set("Trailer", "X-Warden-Output-Decision")
	x.setDecision(w)
	w.WriteHeader(http.StatusOK)
	w.Flush()

	defer func() { // also when the stream is aborted
		if m := g.cfg.Meter; m != nil && sg.insp.Usage.OK {
			m.AddTokens(preq.Model, "served", sg.insp.Usage.Prompt, sg.insp.Usage.Completion)
		}
	}()
	var p sse.Parser
	buf := make([]byte, 4<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		idleTimer.Reset(up.StreamIdle)
		if n > 0 {
			err := p.Feed(buf[:n], sg.onEvent)
			sg.step()
			if err != nil && !errors.Is(err, errStreamDone) {
				if errors.Is(err, sse.ErrTooLarge) {
					sg.cut("the upstream stream could not be checked (event too large)")
				} else if sg.cutErr == nil && !sg.done {
					sg.cut("the upstream stream could not be checked")
				}
			}
			if !sg.flush(w) {
				sg.abandoned()
				return // client gone: the deferred cancel stops the upstream
			}
			if err != nil {
				break
			}
		}
		if rerr != nil {
			switch {
			case halted.Load():
				sg.cut("This model was halted by the safety board.")
				sg.flush(w)
			case ctx.Err() != nil:
				sg.abandoned()
			case rerr == io.EOF:
				_ = p.Flush(sg.onEvent)
				sg.step()
				if !sg.done && sg.cutErr == nil {
					sg.abort(w, "upstream closed the stream early")
				}
				sg.flush(w)
			case idle.Load():
				sg.abort(w, "upstream stream was idle too long")
			default:
				sg.abort(w, "upstream stream failed: "+rerr.Error())
			}
			break
		}
	}
	w.Header().Set("X-Warden-Output-Decision", string(sg.result.decision.Action))
}

// flush writes what was released; false when the client is gone.
func (sg *streamGuard) flush(w *statusWriter) bool {
	if len(sg.out) == 0 {
		return sg.ctx.Err() == nil
	}
	_, err := w.Write(sg.out)
	sg.out = sg.out[:0]
	if err != nil {
		return false
	}
	w.Flush()
	return sg.ctx.Err() == nil
}

// abort ends a stream whose upstream failed mid-way: the text already
// scanned is released, the decision recorded, and the client connection is
// dropped the way the upstream's was, so the client sees a failed stream
// rather than a complete answer.
func (sg *streamGuard) abort(w *statusWriter, why string) {
	sg.x.logger().Warn("upstream stream ended abnormally", "reason", why)
	sg.release(true)
	_ = sg.finish()
	sg.flush(w)
	panic(http.ErrAbortHandler)
}

func (sg *streamGuard) channel(name string) *channel {
	for _, c := range sg.chans {
		if c.name == name {
			return c
		}
	}
	c := &channel{name: name}
	sg.chans = append(sg.chans, c)
	return c
}

// onEvent handles one upstream event.
func (sg *streamGuard) onEvent(ev sse.Event) error {
	if sg.done || sg.cutErr != nil {
		return errStreamDone
	}
	e, err := sg.insp.Inspect(ev)
	if err != nil {
		sg.x.logger().Warn("unreadable upstream stream event", "error", err.Error())
		if sg.x.pol.FailMode(sg.req) != policy.FailOpen {
			sg.cut("")
			return errStreamDone
		}
		sg.out = append(sg.out, ev.Raw...) // fail open: forwarded unchecked
		return nil
	}
	if e.UsageOnly && sg.x.dropUsage {
		return nil // metered (Inspect kept the usage), not forwarded
	}
	h := heldEvent{raw: append([]byte(nil), ev.Raw...), ev: e, at: time.Now()}
	var touched [4]*channel
	nt := 0
	for _, d := range e.Deltas {
		c := sg.channel(d.Channel)
		h.chans = append(h.chans, c)
		h.starts = append(h.starts, c.total)
		c.buf = append(c.buf, d.Text...)
		c.total += len(d.Text)
		h.ends = append(h.ends, c.total)
		sg.hash.add(d.Text)
		if sg.g.cfg.Privacy != PrivacyNone && sg.text.Len() < maxAuditStreamText {
			sg.text.WriteString(d.Text)
		}
		if nt < len(touched) {
			touched[nt] = c
			nt++
		} else {
			c.dirty = true
		}
	}
	sg.queue = append(sg.queue, h)
	for _, c := range touched[:nt] {
		c.dirty = true
	}
	if e.Done {
		sg.sawDone = true
		return errStreamDone
	}
	return nil
}

// step runs after each network read: it scans the channels that got text
// (once per read, however many events the read held), then releases what
// is clear of the hold-back window, or everything when the stream is done.
func (sg *streamGuard) step() {
	if sg.done {
		return
	}
	for _, c := range sg.chans {
		if c.dirty {
			c.dirty = false
			if !sg.scan(c) {
				return
			}
		}
	}
	if sg.sawDone {
		sg.release(true) // everything but the terminal event, which waits for the record
		_ = sg.finish()
		return
	}
	sg.release(false)
}

// scan scans a channel's window; false when the stream was cut.
func (sg *streamGuard) scan(c *channel) bool {
	start := time.Now()
	ctx, cancel := context.WithTimeout(sg.ctx, sg.g.cfg.ScanTimeout)
	defer cancel()
	// Text before c.scanned was scanned already; a phrase of up to hold
	// characters that ends in the new text starts at most hold characters
	// before it, so that much context is enough.
	i := c.scanned - c.base
	for n := sg.hold; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRune(c.buf[:i])
		i -= size
	}
	off := c.base + i
	text := string(c.buf[i:])
	prev := c.scanned
	c.scanned = c.total
	v, err := sg.pp.Scan(ctx, text)
	sg.g.m.scanStream.Observe(time.Since(start).Seconds())
	if err != nil {
		var se *detect.ScanError
		if !errors.As(err, &se) {
			if sg.ctx.Err() != nil {
				sg.cutErr = err
				return false
			}
			v = &detect.Verdict{Errors: []detect.DetectorError{{Detector: "pipeline", Error: "scan did not finish: " + err.Error()}}}
		}
	}
	d := sg.x.pol.Decide(sg.req, v)
	if d.Action == policy.Escalate {
		res := &stageResult{verdict: v, decision: d}
		sg.x.escalate(sg.ctx, sg.req, sg.pp, res, func() string { return text })
		d = res.decision
		sg.result.escalated = true
		sg.result.guard = append(sg.result.guard, res.guard...)
	}
	for _, f := range v.Findings {
		key := c.name + "|" + string(f.Category) + "|" + f.Rule + "|" + itoa(off+f.Span.Start)
		if sg.findSeen[key] || len(sg.result.findings) >= maxRecordedFindings {
			continue
		}
		sg.findSeen[key] = true
		abs := f
		abs.Span.Start += off
		abs.Span.End += off
		sg.result.findings = append(sg.result.findings, Finding{Location: c.name, Finding: abs})
	}
	sg.merge(d, v)
	switch d.Action {
	case policy.Allow, policy.Flag:
	case policy.Redact:
		if sg.outRed == nil {
			sg.outRed = detect.NewRedaction()
		}
		for _, f := range v.Findings {
			if !d.RedactFinding(f) {
				continue
			}
			s, e := off+f.Span.Start, off+f.Span.End
			if e <= prev {
				continue // found and handled by an earlier scan
			}
			if s < c.released {
				// Part of it already went out: the only safe answer is to stop.
				sg.cut("")
				return false
			}
			ph := sg.outRed.Redact(text[f.Span.Start:f.Span.End], []detect.Finding{{Category: f.Category, Rule: f.Rule,
				Span: detect.Span{Start: 0, End: f.Span.End - f.Span.Start}}}, nil)
			c.addReplacement(replacement{s, e, ph})
		}
	default:
		sg.cut("")
		return false
	}
	if sg.g.cfg.RestoreRedacted && sg.x.redact != nil && sg.x.redact.Len() > 0 {
		from := max(c.released-off, 0)
		for ph, val := range sg.x.redact.Placeholders {
			for i := from; i < len(text); {
				j := strings.Index(text[i:], ph)
				if j < 0 {
					break
				}
				s := off + i + j
				if s >= c.released {
					c.addReplacement(replacement{s, s + len(ph), val})
				}
				i += j + len(ph)
			}
		}
	}
	return true
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// merge keeps the strongest decision and every category seen.
func (sg *streamGuard) merge(d policy.Decision, v *detect.Verdict) {
	r := &sg.result
	if d.Action.Strength() > r.decision.Action.Strength() || r.verdict == nil {
		cats := r.decision.Categories
		r.decision = d
		for _, c := range cats {
			if !slices.Contains(r.decision.Categories, c) {
				r.decision.Categories = append(r.decision.Categories, c)
			}
		}
	} else {
		for _, c := range d.Categories {
			if !slices.Contains(r.decision.Categories, c) {
				r.decision.Categories = append(r.decision.Categories, c)
			}
		}
	}
	if r.verdict == nil {
		r.verdict = &detect.Verdict{Detectors: v.Detectors}
	}
	for _, cr := range v.Categories {
		found := false
		for i := range r.verdict.Categories {
			if r.verdict.Categories[i].Category == cr.Category {
				found = true
				if cr.Score > r.verdict.Categories[i].Score {
					r.verdict.Categories[i] = cr
				}
			}
		}
		if !found {
			r.verdict.Categories = append(r.verdict.Categories, cr)
		}
		if cr.Flagged {
			r.verdict.Flagged = true
		}
	}
	r.verdict.Errors = append(r.verdict.Errors, v.Errors...)
}

func (c *channel) addReplacement(r replacement) {
	for _, o := range c.repl {
		if r.start < o.end && o.start < r.end {
			return // overlaps one already planned
		}
	}
	c.repl = append(c.repl, r)
	slices.SortFunc(c.repl, func(a, b replacement) int { return a.start - b.start })
}

// holdLimit is the absolute offset before which text may be released: all
// but the last hold characters.
func (sg *streamGuard) holdLimit(c *channel) int {
	n := sg.hold
	i := len(c.buf)
	for n > 0 && i > 0 {
		_, size := utf8.DecodeLastRune(c.buf[:i])
		i -= size
		n--
	}
	return c.base + i
}

// release sends queued events from the head while their text is clear of
// the hold-back window (all of them when final).
func (sg *streamGuard) release(final bool) {
	k := 0
	now := time.Now()
	if !final {
		for _, c := range sg.chans {
			c.limit = sg.holdLimit(c)
		}
	}
	for ; k < len(sg.queue); k++ {
		h := &sg.queue[k]
		if h.ev.Done && !final {
			break
		}
		if h.ev.Done {
			break // the terminal event goes out after the record (finish)
		}
		if !final {
			ok := true
			for i, c := range h.chans {
				if h.ends[i] > c.limit {
					ok = false
					break
				}
			}
			if !ok {
				break
			}
		}
		sg.emit(h)
		if len(h.chans) > 0 {
			sg.g.m.holdBack.Observe(now.Sub(h.at).Seconds())
		}
	}
	if k > 0 {
		clear(sg.queue[:k])
		sg.queue = append(sg.queue[:0], sg.queue[k:]...)
		for _, c := range sg.chans {
			sg.trim(c)
		}
	}
}

// emit sends one event, re-encoded when a replacement touches its text.
func (sg *streamGuard) emit(h *heldEvent) {
	raw := h.raw
	var texts []string
	for i, c := range h.chans {
		s, e := h.starts[i], h.ends[i]
		touched := false
		for _, r := range c.repl {
			if r.start < e && s < r.end {
				touched = true
				break
			}
		}
		if touched && texts == nil {
			texts = make([]string, len(h.chans))
			for j := range h.chans {
				texts[j] = h.ev.Deltas[j].Text
			}
		}
		if touched {
			texts[i] = applyReplacements(c.repl, s, e, h.ev.Deltas[i].Text)
		}
	}
	if texts != nil {
		if b, err := sg.insp.Rewrite(h.ev, texts); err == nil {
			raw = b
		} else {
			sg.x.logger().Error("re-encoding a stream event failed", "error", err.Error())
			sg.cut("")
			return
		}
	}
	sg.out = append(sg.out, raw...)
	sg.insp.Sent(h.ev)
	for i, c := range h.chans {
		c.released = max(c.released, h.ends[i])
	}
}

// applyReplacements rewrites the delta text covering absolute [s, e): a
// replacement's text goes where its span starts, the rest of its span is
// dropped.
func applyReplacements(repl []replacement, s, e int, t string) string {
	var b strings.Builder
	pos := s
	for _, r := range repl {
		if r.end <= s || r.start >= e {
			continue
		}
		if r.start > pos {
			b.WriteString(t[pos-s : r.start-s])
		}
		if r.start >= s {
			b.WriteString(r.text)
		}
		pos = min(r.end, e)
	}
	if pos < e {
		b.WriteString(t[pos-s:])
	}
	return b.String()
}

// trim drops released text older than the hold-back context.
func (sg *streamGuard) trim(c *channel) {
	keep := c.released
	n := sg.hold
	i := keep - c.base
	for n > 0 && i > 0 {
		_, size := utf8.DecodeLastRune(c.buf[:i])
		i -= size
		n--
	}
	from := c.base + i
	if from > c.base {
		cut := from - c.base
		c.buf = append(c.buf[:0], c.buf[cut:]...)
		c.base = from
	}
	k := 0
	for _, r := range c.repl {
		if r.end > c.released {
			c.repl[k] = r
			k++
		}
	}
	c.repl = c.repl[:k]
}

// abandoned records the output decision of a stream whose client went
// away before its end.
func (sg *streamGuard) abandoned() {
	if sg.done {
		return
	}
	sg.done = true
	if sg.result.decision.Reason == "" {
		sg.result.decision.Reason = "client went away before the end of the stream"
	}
	_ = sg.recordOutput()
}

// finish records the output decision, then sends the terminal event.
func (sg *streamGuard) finish() error {
	if sg.done {
		return nil
	}
	sg.done = true
	err := sg.recordOutput()
	if err != nil {
		sg.out = sg.insp.Cut(sg.out, "The answer could not be recorded.")
		return err
	}
	for _, h := range sg.queue {
		if h.ev.Done {
			sg.out = append(sg.out, h.raw...)
		}
	}
	sg.queue = nil
	return nil
}

func (sg *streamGuard) recordOutput() error {
	x := sg.x
	x.countDecision(policy.Output, sg.result.decision)
	if x.pol.LogContent() && sg.text.Len() > 0 {
		x.logger().Debug("answer content", "text", sg.text.String())
	}
	if sg.g.cfg.Recorder == nil {
		return nil
	}
	rec := x.newRecord(policy.Output, &sg.result)
	rec.OutputSHA256 = sg.hash.sum()
	switch sg.g.cfg.Privacy {
	case PrivacyFull:
		rec.OutputText = sg.text.String()
	case PrivacyRedacted:
		t := sg.text.String()
		if v, err := sg.pp.Scan(context.WithoutCancel(sg.ctx), t); v != nil && err == nil {
			t = detect.NewRedaction().Redact(t, v.Findings, nil)
		} else {
			t = ""
		}
		rec.OutputText = t
	}
	rctx := context.WithoutCancel(sg.ctx)
	return x.record(rctx, rec)
}

// cut ends the stream now: held events are dropped, the decision recorded
// and the stream closed well-formed with the refusal text.
func (sg *streamGuard) cut(refusal string) {
	if sg.done {
		return
	}
	if refusal == "" {
		refusal = refusalText(sg.result.decision)
	}
	if sg.result.decision.Action.Strength() < policy.Block.Strength() {
		sg.result.decision.Action = policy.Block
		if sg.result.decision.Reason == "" {
			sg.result.decision.Reason = "stream cut: " + refusal
		}
	}
	sg.cutErr = errStreamDone
	sg.queue = nil
	sg.done = true
	_ = sg.recordOutput()
	sg.out = sg.insp.Cut(sg.out, refusal)
}
