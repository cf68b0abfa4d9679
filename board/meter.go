package board

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Meter counts model tokens per model and kind of use ("served" for client
// traffic, "guard" for guard-model checks, "eval" for safety evaluations)
// and measures the charter's commitments against them. It implements the
// gateway's Meter. Counts live in memory since the process started: across
// replicas, sum the Prometheus counters.
type Meter struct {
	b  *Board
	mu sync.Mutex
	// tokens[model][kind] = {prompt, completion}
	tokens map[string]map[string]*[2]int64
	// invalid counts calls with an unknown kind or negative counts
	// (refused, not metered).
	invalid int64
}

func newMeter(b *Board) *Meter {
	return &Meter{b: b, tokens: map[string]map[string]*[2]int64{}}
}

// AddTokens adds prompt and completion tokens used by model for kind. An
// unknown kind or a negative count is not metered (and counted in
// warden_board_meter_invalid_total).
func (m *Meter) AddTokens(model, kind string, prompt, completion int64) {
	if prompt < 0 || completion < 0 || !contains(meterKinds[:], kind) {
		m.mu.Lock()
		m.invalid++
		m.mu.Unlock()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byKind := m.tokens[model]
	if byKind == nil {
		byKind = map[string]*[2]int64{}
		m.tokens[model] = byKind
	}
	c := byKind[kind]
	if c == nil {
		c = new([2]int64)
		byKind[kind] = c
	}
	c[0] += prompt
	c[1] += completion
}

// CommitmentReport is one commitment, promised against measured.
type CommitmentReport struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Kinds       []string `json:"kinds"`
	Promised    float64  `json:"promised_share"`
	// Measured is the share of all metered tokens spent on Kinds; it is
	// meaningful only when TotalTokens > 0.
	Measured    float64 `json:"measured_share"`
	KindTokens  int64   `json:"kind_tokens"`
	TotalTokens int64   `json:"total_tokens"`
	// Met is true when Measured >= Promised and tokens were metered.
	Met bool `json:"met"`
}

// TokenCount is the tokens of one model and kind.
type TokenCount struct {
	Model      string `json:"model"`
	Kind       string `json:"kind"`
	Prompt     int64  `json:"prompt"`
	Completion int64  `json:"completion"`
}

// Tokens returns the metered counts sorted by model and kind.
func (m *Meter) Tokens() []TokenCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TokenCount
	for model, byKind := range m.tokens {
		for kind, c := range byKind {
			out = append(out, TokenCount{Model: model, Kind: kind, Prompt: c[0], Completion: c[1]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Commitments measures every commitment of the charter in force.
func (m *Meter) Commitments() []CommitmentReport {
	c, _ := m.b.Charter()
	perKind := map[string]int64{}
	var total int64
	for _, t := range m.Tokens() {
		n := t.Prompt + t.Completion
		perKind[t.Kind] += n
		total += n
	}
	out := make([]CommitmentReport, 0, len(c.Commitments))
	for _, cm := range c.Commitments {
		r := CommitmentReport{Name: cm.Name, Description: cm.Description, Kinds: cm.Kinds, Promised: cm.MinShare, TotalTokens: total}
		for _, k := range cm.Kinds {
			r.KindTokens += perKind[k]
		}
		if total > 0 {
			r.Measured = float64(r.KindTokens) / float64(total)
			r.Met = r.Measured >= cm.MinShare
		}
		out = append(out, r)
	}
	return out
}

var (
	descTokens    = prometheus.NewDesc("warden_board_tokens_total", "Model tokens metered by the board, by model, kind of use (served, guard, eval) and direction (prompt, completion).", []string{"model", "kind", "direction"}, nil)
	descInvalid   = prometheus.NewDesc("warden_board_meter_invalid_total", "AddTokens calls refused for an unknown kind or a negative count.", nil, nil)
	descPromised  = prometheus.NewDesc("warden_board_commitment_promised_ratio", "Share of model tokens the charter promises to the commitment's kinds.", []string{"commitment"}, nil)
	descMeasured  = prometheus.NewDesc("warden_board_commitment_measured_ratio", "Share of model tokens measured for the commitment's kinds since start.", []string{"commitment"}, nil)
	descMet       = prometheus.NewDesc("warden_board_commitment_met", "1 if the measured share meets the promise, else 0.", []string{"commitment"}, nil)
	descCharter   = prometheus.NewDesc("warden_board_charter_version", "Version of the charter in force.", []string{"deployment"}, nil)
	descExpiry    = prometheus.NewDesc("warden_board_charter_expiry_timestamp_seconds", "When the charter in force expires (Unix seconds).", nil, nil)
	descHalts     = prometheus.NewDesc("warden_board_halts_active", "Number of halts in force.", nil, nil)
	descReleases  = prometheus.NewDesc("warden_board_releases", "Model releases in force (valid now) and expired.", []string{"state"}, nil)
	descStatement = prometheus.NewDesc("warden_board_statements_accepted", "Statements accepted, by type.", []string{"type"}, nil)
)

// Collector returns a prometheus.Collector exporting the meter,
// commitments (promised and measured), the charter, halts and releases.
func (b *Board) Collector() prometheus.Collector { return collector{b} }

type collector struct{ b *Board }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTokens, descInvalid, descPromised, descMeasured, descMet, descCharter, descExpiry, descHalts, descReleases, descStatement} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.b.meter
	for _, t := range m.Tokens() {
		ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(t.Prompt), t.Model, t.Kind, "prompt")
		ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(t.Completion), t.Model, t.Kind, "completion")
	}
	m.mu.Lock()
	inv := m.invalid
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descInvalid, prometheus.CounterValue, float64(inv))
	for _, r := range m.Commitments() {
		ch <- prometheus.MustNewConstMetric(descPromised, prometheus.GaugeValue, r.Promised, r.Name)
		ch <- prometheus.MustNewConstMetric(descMeasured, prometheus.GaugeValue, r.Measured, r.Name)
		met := 0.0
		if r.Met {
			met = 1
		}
		ch <- prometheus.MustNewConstMetric(descMet, prometheus.GaugeValue, met, r.Name)
	}
	st := c.b.Status()
	ch <- prometheus.MustNewConstMetric(descCharter, prometheus.GaugeValue, float64(st.Charter.Version), st.Charter.Deployment)
	ch <- prometheus.MustNewConstMetric(descExpiry, prometheus.GaugeValue, float64(st.Charter.Expires.Unix()))
	ch <- prometheus.MustNewConstMetric(descHalts, prometheus.GaugeValue, float64(len(st.Halts)))
	valid, expired := 0, 0
	for _, r := range st.Releases {
		if r.Valid {
			valid++
		} else {
			expired++
		}
	}
	ch <- prometheus.MustNewConstMetric(descReleases, prometheus.GaugeValue, float64(valid), "valid")
	ch <- prometheus.MustNewConstMetric(descReleases, prometheus.GaugeValue, float64(expired), "expired")
	counts := map[string]int{}
	for _, h := range c.b.History() {
		counts[string(h.Type)]++
	}
	for _, k := range kinds[:] {
		ch <- prometheus.MustNewConstMetric(descStatement, prometheus.GaugeValue, float64(counts[string(k)]), string(k))
	}
}
