package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/policy"
)

// CheckRequest asks for Warden's full verdict on one text.
type CheckRequest struct {
	Text string `json:"text"`
	// Stage is "input" (default) or "output": which side of a model the
	// text is on, for the policy's decision.
	Stage  string `json:"stage,omitempty"`
	Model  string `json:"model,omitempty"`
	Tenant string `json:"tenant,omitempty"`
}

// CheckResponse is Warden's answer.
type CheckResponse struct {
	ID       string           `json:"id"`
	Verdict  *detect.Verdict  `json:"verdict"`
	Decision *policy.Decision `json:"decision,omitempty"`
}

func (s *Server) check(w http.ResponseWriter, r *http.Request) {
	// Read text as a pointer so that a body without it ({"input": ...},
	// the moderations shape) is an error rather than a scan of nothing.
	var in struct {
		CheckRequest
		Text *string `json:"text"`
	}
	if !s.readBody(w, r, &in) {
		return
	}
	if in.Text == nil {
		writeError(w, http.StatusBadRequest, "missing_text", `request has no "text" field; /v1/check scans {"text": "..."} (OpenAI-style {"input": ...} goes to /v1/moderations)`)
		return
	}
	req := in.CheckRequest
	req.Text = *in.Text
	stage := policy.Input
	switch req.Stage {
	case "", "input":
	case "output":
		stage = policy.Output
	default:
		writeError(w, http.StatusBadRequest, "invalid_stage", fmt.Sprintf("stage %q: want \"input\" or \"output\"", req.Stage))
		return
	}
	var p *policy.Policy
	if s.cfg.Policy != nil {
		p = s.cfg.Policy.Current()
	}
	preq := policy.Request{Route: "/v1/check", Model: req.Model, Tenant: req.Tenant, Stage: stage}
	id := newID("chk-")
	v, err := s.scan(r.Context(), p, preq, req.Text)
	if err != nil {
		s.scanFailed(w, r, err)
		return
	}
	resp := CheckResponse{ID: id, Verdict: v}
	action := "allow"
	if v.Flagged {
		action = "flag"
	}
	if p != nil {
		d := p.Decide(preq, v)
		resp.Decision = &d
		action = string(d.Action)
	}
	if err := s.record(r.Context(), id, "/v1/check", stage, p, req.Text, v, action); err != nil {
		s.log.Error("audit record failed", "request_id", id, "err", err)
		writeError(w, http.StatusServiceUnavailable, "audit_unavailable", "the decision could not be recorded on the audit log; try again")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-warden-request-id", id)
	w.Header().Set("x-warden-decision", action)
	json.NewEncoder(w).Encode(&resp)
}
