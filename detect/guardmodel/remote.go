package guardmodel

import (
	"context"
	"math"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// remote is the backend for another Warden's POST /v1/check.
type remote struct{ stage string }

func newRemote(c *Config) *remote { return &remote{stage: c.Warden.Stage} }

func (r *remote) variant() string {
	if r.stage == "" {
		return "input"
	}
	return r.stage
}

func (r *remote) covers(c hazard.Category) bool { return c.Valid() }

type checkRequest struct {
	Text  string `json:"text"`
	Stage string `json:"stage,omitempty"`
}

type checkResponse struct {
	Verdict *detect.Verdict `json:"verdict"`
}

// assess reuses the remote verdict's findings under this guard's detector
// name; the remote detector and rule are kept in Rule ("lexicon/cbrn-042").
// Findings in categories this build does not know are dropped, and spans
// that do not fit the text become whole-text findings. A remote verdict
// that records detector errors is a failure: the remote did not scan
// everything.
func (r *remote) assess(ctx context.Context, g *Guard, text string) ([]detect.Finding, error) {
	var resp checkResponse
	if err := g.post(ctx, "/v1/check", checkRequest{Text: text, Stage: r.stage}, &resp); err != nil {
		return nil, err
	}
	return r.interpret(g, text, &resp)
}

// interpret turns a decoded /v1/check response into findings.
func (r *remote) interpret(g *Guard, text string, resp *checkResponse) ([]detect.Finding, error) {
	v := resp.Verdict
	if v == nil {
		return nil, g.errorf(ErrMalformed, 0, `response has no "verdict"`)
	}
	if len(v.Errors) > 0 {
		return nil, g.errorf(ErrUnavailable, 0, "remote detector %s failed", truncateRunes(v.Errors[0].Detector, 64))
	}
	out := make([]detect.Finding, 0, len(v.Findings))
	for _, f := range v.Findings {
		if !f.Category.Valid() {
			continue
		}
		if math.IsNaN(f.Score) || f.Score < 0 || f.Score > 1 {
			return nil, g.errorf(ErrMalformed, 0, "remote finding score outside [0,1]")
		}
		rule := f.Detector
		if f.Rule != "" {
			rule += "/" + f.Rule
		}
		nf := detect.Finding{Category: f.Category, Score: f.Score, Span: f.Span, Whole: f.Whole, Detector: g.name,
			View: f.View, Rule: rule, Explanation: f.Explanation}
		if !nf.Whole && (nf.Span.Start < 0 || nf.Span.End > len(text) || nf.Span.Start >= nf.Span.End) {
			nf.Whole, nf.Span = true, detect.Span{}
		}
		if nf.View == "" {
			nf.View = "original"
		}
		out = append(out, nf)
	}
	return out, nil
}
