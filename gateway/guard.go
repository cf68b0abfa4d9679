package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"log/slog"
	"strings"
	"time"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/hazard"
	"github.com/warden-safety/warden/policy"
)

// Finding is a detector finding with where it was: a JSON-pointer style
// path into the request or answer ("messages[3].content[1].text") and the
// finding, whose span is relative to that text.
type Finding struct {
	Location string `json:"location"`
	detect.Finding
}

// maxRecordedFindings bounds the findings kept per stage for the audit
// record and the client message.
const maxRecordedFindings = 64

// exchange is one proxied request's state.
type exchange struct {
	g      *Gateway
	id     string
	start  time.Time
	route  provider.Route
	pol    *policy.Policy
	req    policy.Request    // Stage is set per scan
	log    *slog.Logger      // built on first use by logger()
	redact *detect.Redaction // input redactions, for restoring
	// decision is the strongest decision so far (input, then output).
	decision policy.Action
	// dropUsage: the gateway asked the upstream for a usage chunk the
	// client did not ask for; it is metered and not forwarded.
	dropUsage bool
}

// logger returns the request's logger (built on first use: most requests
// log one line only, with its attributes given directly).
func (x *exchange) logger() *slog.Logger {
	if x.log == nil {
		x.log = x.g.log.With("request_id", x.id, "route", x.route.Path(), "model", x.req.Model)
	}
	return x.log
}

// stageResult is one stage's scan and decision.
type stageResult struct {
	verdict  *detect.Verdict
	decision policy.Decision
	findings []Finding
	perPart  [][]detect.Finding
	// cancelled: the client went away during the scan.
	cancelled bool
	escalated bool
	guard     []detect.Finding
}

func (x *exchange) pipeline(stage policy.Stage) *detect.Pipeline {
	req := x.req
	req.Stage = stage
	pp := *x.g.cfg.Pipeline
	if t := x.pol.Thresholds(req); t != nil {
		pp.Thresholds = t
	}
	return &pp
}

// scan scans every part, combines the findings and decides.
func (x *exchange) scan(ctx context.Context, stage policy.Stage, parts []provider.Part) *stageResult {
	start := time.Now()
	req := x.req
	req.Stage = stage
	pp := x.pipeline(stage)
	sctx, cancel := context.WithTimeout(ctx, x.g.cfg.ScanTimeout)
	defer cancel()
	res := &stageResult{perPart: make([][]detect.Finding, len(parts))}
	var all []detect.Finding
	var errs []detect.DetectorError
	total := 0
	for i, p := range parts {
		total += len(p.Text)
		v, err := pp.Scan(sctx, p.Text)
		if err != nil {
			var se *detect.ScanError
			if !errors.As(err, &se) {
				if ctx.Err() != nil {
					res.cancelled = true
					return res
				}
				errs = append(errs, detect.DetectorError{Detector: "pipeline", Error: "scan did not finish: " + err.Error()})
				break
			}
			errs = append(errs, se.Errors...)
		}
		if v == nil {
			continue
		}
		res.perPart[i] = v.Findings
		for _, f := range v.Findings {
			all = append(all, f)
			if len(res.findings) < maxRecordedFindings {
				res.findings = append(res.findings, Finding{Location: p.Path, Finding: f})
			}
		}
	}
	v := pp.Combine(total, all)
	v.Errors = errs
	res.verdict = v
	res.decision = x.pol.Decide(req, v)
	if res.decision.Action == policy.Escalate {
		x.escalate(ctx, req, pp, res, func() string { return joinParts(parts) })
	}
	x.g.m.scanObserver(stage).Observe(time.Since(start).Seconds())
	return res
}

// escalate asks the guard model and decides again.
func (x *exchange) escalate(ctx context.Context, req policy.Request, pp *detect.Pipeline, res *stageResult, text func() string) {
	res.escalated = true
	fail := x.pol.FailMode(req) != policy.FailOpen
	flagged := fail
	if e := x.g.cfg.Escalator; e != nil {
		fs, err := e.Escalate(ctx, res.decision.Guard, text())
		if err == nil {
			flagged = false
			res.guard = fs
			for _, f := range fs {
				if f.Score >= pp.Threshold(f.Category) {
					flagged = true
				}
			}
		} else {
			x.logger().Warn("guard model failed", "guard", res.decision.Guard, "error", err.Error(), "fail_closed", fail)
		}
	} else {
		x.logger().Warn("policy escalates but no guard model is configured", "guard", res.decision.Guard, "fail_closed", fail)
	}
	res.decision = x.pol.DecideEscalated(req, res.verdict, flagged)
}

func joinParts(parts []provider.Part) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

func hashParts(parts []provider.Part) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{'\n'})
		}
		h.Write([]byte(p.Text))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// redactedText is the parts' text with every finding's span replaced by a
// placeholder (the "redacted" privacy mode).
func redactedText(parts []provider.Part, perPart [][]detect.Finding) string {
	r := detect.NewRedaction()
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('\n')
		}
		var fs []detect.Finding
		if i < len(perPart) {
			fs = perPart[i]
		}
		b.WriteString(r.Redact(p.Text, fs, nil))
	}
	return b.String()
}

// newRecord fills the fields of an audit record common to both stages.
func (x *exchange) newRecord(stage policy.Stage, res *stageResult) audit.Record {
	rec := audit.Record{
		Kind:         "decision",
		RequestID:    x.id,
		Time:         time.Now().UTC(),
		Tenant:       x.req.Tenant,
		Route:        x.route.Path(),
		Model:        x.req.Model,
		Stage:        string(stage),
		PolicyDigest: x.pol.Digest(),
		Action:       string(res.decision.Action),
	}
	if v := res.verdict; v != nil {
		if len(v.Categories) > 0 {
			rec.Scores = make(map[string]float64, len(v.Categories))
			for _, c := range v.Categories {
				rec.Scores[string(c.Category)] = c.Score
			}
		}
		for _, c := range v.FlaggedCategories() {
			rec.Flagged = append(rec.Flagged, string(c))
		}
		for _, d := range v.Detectors {
			rec.Detectors = append(rec.Detectors, d.Name+"@"+d.Version)
		}
	}
	detail := map[string]any{"rule": res.decision.Rule}
	if res.decision.Reason != "" {
		detail["reason"] = res.decision.Reason
	}
	if len(res.decision.Categories) > 0 {
		detail["categories"] = res.decision.Categories
	}
	if res.escalated {
		detail["escalated"] = res.decision.Guard
		detail["guard_findings"] = len(res.guard)
	}
	if len(res.findings) > 0 {
		fs := make([]map[string]any, len(res.findings))
		for i, f := range res.findings {
			fs[i] = map[string]any{"location": f.Location, "category": f.Category, "detector": f.Detector,
				"rule": f.Rule, "score": f.Score, "view": f.View, "start": f.Span.Start, "end": f.Span.End}
		}
		detail["findings"] = fs
	}
	rec.Detail = detail
	return rec
}

// record writes a decision to the audit log. It returns an error only when
// the record failed and the fail mode is closed.
func (x *exchange) record(ctx context.Context, rec audit.Record) error {
	r := x.g.cfg.Recorder
	if r == nil {
		return nil
	}
	if err := r.Record(ctx, rec); err != nil {
		x.g.m.recordErrs.Inc()
		req := x.req
		req.Stage = policy.Stage(rec.Stage)
		closed := x.pol.FailMode(req) != policy.FailOpen
		x.logger().Error("audit record failed", "stage", rec.Stage, "error", err.Error(), "fail_closed", closed)
		if closed {
			return err
		}
	}
	return nil
}

// recordParts records a stage whose text is in parts.
func (x *exchange) recordParts(ctx context.Context, stage policy.Stage, res *stageResult, parts []provider.Part) error {
	if x.g.cfg.Recorder == nil {
		return nil
	}
	rec := x.newRecord(stage, res)
	sum := hashParts(parts)
	var text string
	switch x.g.cfg.Privacy {
	case PrivacyFull:
		text = joinParts(parts)
	case PrivacyRedacted:
		text = redactedText(parts, res.perPart)
	}
	if stage == policy.Input {
		rec.InputSHA256, rec.InputText = sum, text
	} else {
		rec.OutputSHA256, rec.OutputText = sum, text
	}
	return x.record(ctx, rec)
}

// countDecision updates the decision metrics.
func (x *exchange) countDecision(stage policy.Stage, d policy.Decision) {
	if len(d.Categories) == 0 {
		x.g.m.decisions.WithLabelValues(string(stage), string(d.Action), "none").Inc()
	}
	for _, c := range d.Categories {
		x.g.m.decisions.WithLabelValues(string(stage), string(d.Action), string(c)).Inc()
	}
	if d.Action.Strength() > x.decision.Strength() {
		x.decision = d.Action
	}
}

// blockMessage explains a block to the client: the policy's refusal, the
// categories and where they were found (never the text).
func blockMessage(d policy.Decision, findings []Finding) string {
	msg := d.Refusal
	if msg == "" {
		msg = "Blocked by Warden's safety policy."
	}
	var where []string
	seen := map[string]bool{}
	for _, f := range findings {
		if !decided(d.Categories, f.Category) {
			continue
		}
		s := string(f.Category) + " at " + f.Location
		if !seen[s] && len(where) < 5 {
			seen[s] = true
			where = append(where, s)
		}
	}
	switch {
	case len(where) > 0:
		msg += " (warden: " + strings.Join(where, "; ") + ")"
	case len(d.Categories) > 0:
		cs := make([]string, len(d.Categories))
		for i, c := range d.Categories {
			cs[i] = string(c)
		}
		msg += " (warden: " + strings.Join(cs, ", ") + ")"
	case d.Reason != "":
		msg += " (warden: " + d.Reason + ")"
	}
	return msg
}

func decided(cs []hazard.Category, c hazard.Category) bool {
	for _, d := range cs {
		if d == c {
			return true
		}
		for _, a := range c.Ancestors() {
			if a == d {
				return true
			}
		}
	}
	return false
}

// firstLocation is the location of the first finding behind d.
func firstLocation(d policy.Decision, findings []Finding) string {
	for _, f := range findings {
		if decided(d.Categories, f.Category) {
			return f.Location
		}
	}
	return ""
}

// failBlock reports a block that comes from a failure (a detector, guard
// model or condition) rather than from content: the client gets 503.
func failBlock(d policy.Decision) bool {
	return d.Action == policy.Block && len(d.Categories) == 0 && d.Reason != ""
}

// sha256Writer hashes streamed text as it passes.
type sha256Writer struct{ h hash.Hash }

func newSHA256Writer() *sha256Writer { return &sha256Writer{h: sha256.New()} }
func (s *sha256Writer) add(t string) { s.h.Write([]byte(t)) }
func (s *sha256Writer) sum() string  { return hex.EncodeToString(s.h.Sum(nil)) }
