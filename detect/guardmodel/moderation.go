package guardmodel

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// moderation is the OpenAI /v1/moderations backend.
type moderation struct {
	model    string
	minScore float64
}

func newModeration(c *Config) *moderation {
	m := &moderation{model: c.Model, minScore: c.Moderation.MinScore}
	if m.minScore == 0 {
		m.minScore = 0.01
	}
	return m
}

func (m *moderation) variant() string { return fmt.Sprintf("min%g", m.minScore) }

func (m *moderation) covers(c hazard.Category) bool {
	info, ok := hazard.Lookup(c)
	return ok && len(info.OpenAI) > 0
}

type moderationRequest struct {
	Input string `json:"input"`
	Model string `json:"model"`
}

type moderationResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Results []struct {
		Flagged        bool               `json:"flagged"`
		Categories     map[string]bool    `json:"categories"`
		CategoryScores map[string]float64 `json:"category_scores"`
	} `json:"results"`
}

// assess maps each OpenAI category to the Warden category hazard.FromOpenAI
// reads it as; a Warden category's score is the highest of its OpenAI
// categories' scores, raised to detect.DefaultThreshold when OpenAI flagged
// one of them, so a pipeline with default thresholds flags what OpenAI
// flagged. Categories OpenAI adds later, unknown here, are ignored.
func (m *moderation) assess(ctx context.Context, g *Guard, text string) ([]detect.Finding, error) {
	var resp moderationResponse
	if err := g.post(ctx, "/v1/moderations", moderationRequest{Input: text, Model: m.model}, &resp); err != nil {
		return nil, err
	}
	return m.interpret(g, &resp)
}

// interpret turns a decoded moderation response into findings.
func (m *moderation) interpret(g *Guard, resp *moderationResponse) ([]detect.Finding, error) {
	if len(resp.Results) == 0 {
		return nil, g.errorf(ErrMalformed, 0, "moderation response has no results")
	}
	r := resp.Results[0]
	if len(r.CategoryScores) == 0 {
		return nil, g.errorf(ErrMalformed, 0, "moderation response has no category_scores")
	}
	type best struct {
		score   float64
		rule    string
		flagged bool
	}
	byCat := map[hazard.Category]*best{}
	names := make([]string, 0, len(r.CategoryScores))
	for name := range r.CategoryScores {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic choice of rule among equal scores
	for _, name := range names {
		s := r.CategoryScores[name]
		if math.IsNaN(s) || s < 0 || s > 1 {
			return nil, g.errorf(ErrMalformed, 0, "moderation score for %q outside [0,1]", truncateRunes(name, 40))
		}
		c, ok := hazard.FromOpenAI(name)
		if !ok {
			continue
		}
		b := byCat[c]
		if b == nil {
			b = &best{}
			byCat[c] = b
		}
		if s > b.score || b.rule == "" {
			b.score, b.rule = s, name
		}
		if r.Categories[name] {
			b.flagged = true
		}
	}
	var out []detect.Finding
	for _, info := range hazard.All() {
		b := byCat[info.ID]
		if b == nil {
			continue
		}
		score := b.score
		if b.flagged && score < detect.DefaultThreshold {
			score = detect.DefaultThreshold
		}
		if score < m.minScore {
			continue
		}
		expl := fmt.Sprintf("OpenAI moderation scored %s %.3f", b.rule, b.score)
		if b.flagged {
			expl += " (flagged)"
		}
		out = append(out, detect.Finding{Category: info.ID, Score: score, Whole: true, Detector: g.name, View: "original", Rule: b.rule, Explanation: expl})
	}
	return out, nil
}
