package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/policy"
)

// ModerationRequest is OpenAI's moderation request.
type ModerationRequest struct {
	// Input is a string, an array of strings, or an array of content parts
	// ({"type":"text","text":...} / {"type":"image_url",...}).
	Input json.RawMessage `json:"input"`
	Model string          `json:"model,omitempty"`
}

// ModerationResponse is OpenAI's moderation response.
type ModerationResponse struct {
	ID      string             `json:"id"`
	Model   string             `json:"model"`
	Results []ModerationResult `json:"results"`
}

// ModerationResult is one entry of ModerationResponse.Results.
type ModerationResult struct {
	Flagged                   bool                `json:"flagged"`
	Categories                map[string]bool     `json:"categories"`
	CategoryScores            map[string]float64  `json:"category_scores"`
	CategoryAppliedInputTypes map[string][]string `json:"category_applied_input_types"`
}

// contentPart is one element of a multimodal moderation input.
type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ModerationInputs reads the input field into the texts to moderate, one
// per result. An array of content parts is one input whose text parts are
// joined; it also reports whether images were present (not scanned).
func ModerationInputs(raw json.RawMessage) (texts []string, images bool, err error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, false, fmt.Errorf("input is required: a string, an array of strings, or an array of content parts")
	}
	switch s[0] {
	case '"':
		var t string
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, false, fmt.Errorf("input: %v", err)
		}
		return []string{t}, false, nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, false, fmt.Errorf("input: %v", err)
		}
		if len(elems) == 0 {
			return nil, false, fmt.Errorf("input is an empty array; want at least one string or content part")
		}
		if len(elems) > MaxInputs {
			return nil, false, fmt.Errorf("input has %d elements; at most %d are allowed", len(elems), MaxInputs)
		}
		first := strings.TrimSpace(string(elems[0]))
		if first != "" && first[0] == '{' {
			var parts []string
			for i, e := range elems {
				var p contentPart
				if err := json.Unmarshal(e, &p); err != nil {
					return nil, false, fmt.Errorf("input[%d]: want a content part object: %v", i, err)
				}
				switch p.Type {
				case "text":
					parts = append(parts, p.Text)
				case "image_url":
					images = true
				default:
					return nil, false, fmt.Errorf("input[%d].type: unknown content part type %q (want \"text\" or \"image_url\")", i, p.Type)
				}
			}
			return []string{strings.Join(parts, "\n")}, images, nil
		}
		texts = make([]string, len(elems))
		for i, e := range elems {
			if err := json.Unmarshal(e, &texts[i]); err != nil {
				return nil, false, fmt.Errorf("input[%d]: want a string: %v", i, err)
			}
		}
		return texts, false, nil
	}
	return nil, false, fmt.Errorf("input must be a string, an array of strings, or an array of content parts")
}

var textOnly = []string{"text"}

func (s *Server) moderations(w http.ResponseWriter, r *http.Request) {
	var req ModerationRequest
	if !s.readBody(w, r, &req) {
		return
	}
	texts, _, err := ModerationInputs(req.Input)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_input", err.Error())
		return
	}
	var p *policy.Policy
	if s.cfg.Policy != nil {
		p = s.cfg.Policy.Current()
	}
	id := newID("modr-")
	preq := policy.Request{Route: "/v1/moderations", Model: req.Model, Stage: policy.Input}
	resp := ModerationResponse{ID: id, Model: ModelName, Results: make([]ModerationResult, len(texts))}
	for i, t := range texts {
		v, err := s.scan(r.Context(), p, preq, t)
		if err != nil {
			s.scanFailed(w, r, err)
			return
		}
		flags, scores := openAIScores(v)
		res := ModerationResult{Categories: flags, CategoryScores: scores,
			CategoryAppliedInputTypes: make(map[string][]string, len(flags))}
		for c, f := range flags {
			res.CategoryAppliedInputTypes[c] = textOnly
			if f {
				res.Flagged = true
			}
		}
		action := "allow"
		if res.Flagged {
			action = "flag"
		}
		if err := s.record(r.Context(), fmt.Sprintf("%s-%d", id, i), "/v1/moderations", policy.Input, p, t, v, action); err != nil {
			s.log.Error("audit record failed", "request_id", id, "err", err)
			writeError(w, http.StatusServiceUnavailable, "audit_unavailable", "the decision could not be recorded on the audit log; try again")
			return
		}
		resp.Results[i] = res
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-warden-request-id", id)
	w.Header().Set("x-warden-decision", decisionHeader(resp.Results))
	json.NewEncoder(w).Encode(&resp)
}

func decisionHeader(rs []ModerationResult) string {
	for _, r := range rs {
		if r.Flagged {
			return "flag"
		}
	}
	return "allow"
}

// scanFailed answers a failed scan: detector failures never pass as "not
// flagged"; a cancelled request gets nothing.
func (s *Server) scanFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	if se, ok := err.(*detect.ScanError); ok {
		s.log.Error("detector failed", "err", se.Error())
	}
	writeError(w, http.StatusServiceUnavailable, "detector_unavailable", "a detector failed; the input was not checked: "+err.Error())
}
