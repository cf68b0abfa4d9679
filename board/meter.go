package board

import (
	"context"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// MeterStore is implemented by stores that keep token totals, so that
// commitments are measured over every replica and across restarts (a
// restart must not reset a broken promise). FileStore and PGStore
// implement it.
type MeterStore interface {
	// SaveMeter replaces the totals of one replica (one process run).
	SaveMeter(ctx context.Context, replica string, counts []TokenCount) error
	// LoadMeter returns the totals of every replica but exclude, summed
	// per model and kind.
	LoadMeter(ctx context.Context, exclude string) ([]TokenCount, error)
}

// Meter counts model tokens per model and kind of use ("served" for client
// traffic, "guard" for guard-model checks, "eval" for safety evaluations)
// and measures the charter's commitments against them. It implements the
// gateway's Meter. This process's counts are saved to the store (when it
// is a MeterStore) at every periodic sync and on Close; commitments are
// measured over the saved totals of all replicas and runs plus this
// process's live counts.
type Meter struct {
	b       *Board
	replica string
	mu      sync.Mutex
	// tokens[model][kind] = {prompt, completion}, this process only
	tokens map[string]map[string]*[2]int64
	// base is the other replicas' and earlier runs' totals, as of the
	// last load.
	base []TokenCount
	// invalid counts calls with an unknown kind or negative counts
	// (refused, not metered).
	invalid int64
}

func newMeter(b *Board, replica string) *Meter {
	return &Meter{b: b, replica: replica, tokens: map[string]map[string]*[2]int64{}}
}

// flush saves this process's totals and reloads everyone else's.
func (m *Meter) flush(ctx context.Context) error {
	ms, ok := m.b.store.(MeterStore)
	if !ok {
		return nil
	}
	if own := m.Tokens(); len(own) > 0 {
		if err := ms.SaveMeter(ctx, m.replica, own); err != nil {
			return err
		}
	}
	base, err := ms.LoadMeter(ctx, m.replica)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.base = base
	m.mu.Unlock()
	return nil
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

// Totals returns the counts of every replica and run (as of the last
// periodic sync) plus this process's live counts, sorted by model and kind.
func (m *Meter) Totals() []TokenCount {
	own := m.Tokens()
	m.mu.Lock()
	base := m.base
	m.mu.Unlock()
	return sumCounts(base, own)
}

// sumCounts adds token counts per model and kind, sorted.
func sumCounts(lists ...[]TokenCount) []TokenCount {
	type key struct{ model, kind string }
	sum := map[key]*TokenCount{}
	var out []TokenCount
	for _, l := range lists {
		for _, c := range l {
			k := key{c.Model, c.Kind}
			if t := sum[k]; t != nil {
				t.Prompt += c.Prompt
				t.Completion += c.Completion
				continue
			}
			cc := c
			sum[k] = &cc
		}
	}
	for _, t := range sum {
		out = append(out, *t)
	}
	sortCounts(out)
	return out
}

func sortCounts(out []TokenCount) {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Kind < out[j].Kind
	})
}

// Tokens returns this process's metered counts sorted by model and kind.
func (m *Meter) Tokens() []TokenCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TokenCount
	for model, byKind := range m.tokens {
		for kind, c := range byKind {
			out = append(out, TokenCount{Model: model, Kind: kind, Prompt: c[0], Completion: c[1]})
		}
	}
	sortCounts(out)
	return out
}

// Commitments measures every commitment of the charter in force.
func (m *Meter) Commitments() []CommitmentReport {
	c, _ := m.b.Charter()
	perKind := map[string]int64{}
	var total int64
	for _, t := range m.Totals() {
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
	descTokens    = prometheus.NewDesc("warden_board_tokens_total", "Model tokens metered by this process, by model, kind of use (served, guard, eval) and direction (prompt, completion).", []string{"model", "kind", "direction"}, nil)
	descInvalid   = prometheus.NewDesc("warden_board_meter_invalid_total", "AddTokens calls refused for an unknown kind or a negative count.", nil, nil)
	descPromised  = prometheus.NewDesc("warden_board_commitment_promised_ratio", "Share of model tokens the charter promises to the commitment's kinds.", []string{"commitment"}, nil)
	descMeasured  = prometheus.NewDesc("warden_board_commitment_measured_ratio", "Share of model tokens measured for the commitment's kinds, over every replica and run (saved totals plus this process's live counts).", []string{"commitment"}, nil)
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
