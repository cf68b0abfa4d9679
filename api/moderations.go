package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
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
	results := make([]oaiResult, len(texts))
	anyFlagged := false
	for i, t := range texts {
		v, err := s.scan(r.Context(), p, preq, t)
		if err != nil {
			s.scanFailed(w, r, err)
			return
		}
		res := &results[i]
		res.fill(v)
		action := "allow"
		if res.flagged {
			action = "flag"
			anyFlagged = true
		}
		rid := id
		if len(texts) > 1 {
			rid = id + "-" + strconv.Itoa(i)
		}
		if err := s.record(r.Context(), rid, "/v1/moderations", policy.Input, p, t, v, action); err != nil {
			s.log.Error("audit record failed", "request_id", id, "err", err)
			writeError(w, http.StatusServiceUnavailable, "audit_unavailable", "the decision could not be recorded on the audit log; try again")
			return
		}
	}
	decision := "allow"
	if anyFlagged {
		decision = "flag"
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-warden-request-id", id)
	h.Set("x-warden-decision", decision)
	w.Write(appendModeration(make([]byte, 0, 1400*len(results)), id, results))
}

// oaiResult is one moderation result in OpenAI's category order.
type oaiResult struct {
	flagged bool
	flags   [len(oaiOrder)]bool
	scores  [len(oaiOrder)]float64
}

// oaiOrder is hazard.OpenAICategories as an array, so results need no maps.
var oaiOrder = [...]string{
	hazard.OAIHarassment, hazard.OAIHarassmentThreatening, hazard.OAIHate, hazard.OAIHateThreatening,
	hazard.OAIIllicit, hazard.OAIIllicitViolent, hazard.OAISelfHarm, hazard.OAISelfHarmIntent,
	hazard.OAISelfHarmInstructions, hazard.OAISexual, hazard.OAISexualMinors, hazard.OAIViolence,
	hazard.OAIViolenceGraphic,
}

var oaiIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range oaiOrder {
		m[c] = i
	}
	return m
}()

// fill maps a verdict onto OpenAI's categories: a category's score is the
// highest score of the Warden categories reported under it, and it is
// flagged when any of them is flagged.
func (o *oaiResult) fill(v *detect.Verdict) {
	for _, r := range v.Categories {
		info, _ := hazard.Lookup(r.Category)
		for _, name := range info.OpenAI {
			i := oaiIndex[name]
			if r.Score > o.scores[i] {
				o.scores[i] = r.Score
			}
			if r.Flagged {
				o.flags[i] = true
				o.flagged = true
			}
		}
	}
}

// appendModeration encodes OpenAI's moderation response by hand: it is the
// hot path of /v1/moderations and encoding/json's map handling dominated it.
func appendModeration(b []byte, id string, rs []oaiResult) []byte {
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","model":"`+ModelName+`","results":[`...)
	for i := range rs {
		r := &rs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"flagged":`...)
		b = strconv.AppendBool(b, r.flagged)
		b = append(b, `,"categories":{`...)
		for j, c := range oaiOrder {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, c...)
			b = append(b, `":`...)
			b = strconv.AppendBool(b, r.flags[j])
		}
		b = append(b, `},"category_scores":{`...)
		for j, c := range oaiOrder {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, c...)
			b = append(b, `":`...)
			b = strconv.AppendFloat(b, r.scores[j], 'g', 6, 64)
		}
		b = append(b, `},"category_applied_input_types":{`...)
		for j, c := range oaiOrder {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, c...)
			b = append(b, `":["text"]`...)
		}
		b = append(b, "}}"...)
	}
	return append(b, "]}\n"...)
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
