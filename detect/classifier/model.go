package classifier

import (
	"fmt"
	"math"
	"sync"

	"github.com/warden-safety/warden/hazard"
)

// UnsafeHead is the name of the model's first head: P(text is unsafe).
const UnsafeHead = "unsafe"

// Config is a model's shape.
type Config struct {
	// Bits is log2 of the number of hashed feature buckets.
	Bits uint `json:"bits"`
	// Dim is the embedding width, Hidden the hidden layer's (0 = none).
	Dim    int `json:"dim"`
	Hidden int `json:"hidden"`
	// Window and Stride (in tokens) cut long texts into overlapping
	// windows; each window is scored and the maximum per head is kept.
	Window int `json:"window"`
	Stride int `json:"stride"`
	// Local and LocalStride add short windows for texts longer than
	// Window, so a short harmful passage inside a long benign document is
	// not diluted by the average over a long window (0 = none).
	Local       int `json:"local,omitempty"`
	LocalStride int `json:"local_stride,omitempty"`
	// LocalBias is subtracted from the logits of local windows: a short
	// window is a noisier reading than the whole text, so it must be
	// surer to decide (0 = none).
	LocalBias float32 `json:"local_bias,omitempty"`
	// LocalMin is the length in tokens above which local windows are
	// used: documents, where a short passage is most diluted, rather than
	// long prompts (0 = above Window).
	LocalMin int `json:"local_min,omitempty"`
	// FeatureVersion chooses how text becomes features: 0 or 1 = the
	// original tokenizer; 2 = traditional Chinese characters read as
	// simplified (see tokenize). Older model files carry no version and
	// keep the original.
	FeatureVersion int `json:"feature_version,omitempty"`
	// CondHeads marks category heads trained on unsafe examples only, so
	// that each gives P(category | unsafe, text) and the top one names
	// the most likely harm of a text that is unsafe, however sure the
	// model is that it is. Older model files trained them on every
	// example (P(category, unsafe | text)).
	CondHeads bool `json:"cond_heads,omitempty"`
	// Heads names the sigmoid outputs: "unsafe" first, then hazard
	// category IDs.
	Heads []string `json:"heads"`
}

// Validate checks the shape is one this package can run.
func (c Config) Validate() error {
	switch {
	case c.Bits < 8 || c.Bits > 24:
		return fmt.Errorf("bits %d out of range [8,24]", c.Bits)
	case c.Dim < 1 || c.Dim > 512:
		return fmt.Errorf("dim %d out of range [1,512]", c.Dim)
	case c.Hidden < 0 || c.Hidden > 2048:
		return fmt.Errorf("hidden %d out of range [0,2048]", c.Hidden)
	case c.Window < 8 || c.Window > 1<<16:
		return fmt.Errorf("window %d out of range [8,65536]", c.Window)
	case c.Stride < 1 || c.Stride > c.Window:
		return fmt.Errorf("stride %d out of range [1,window]", c.Stride)
	case c.Local < 0 || c.Local > c.Window || c.LocalMin < 0 || (c.Local > 0 && (c.LocalStride < 1 || c.LocalStride > c.Local)):
		return fmt.Errorf("local window %d / stride %d out of range", c.Local, c.LocalStride)
	case c.FeatureVersion < 0 || c.FeatureVersion > 2:
		return fmt.Errorf("feature version %d unknown (want 0, 1 or 2)", c.FeatureVersion)
	case len(c.Heads) < 2 || len(c.Heads) > 64:
		return fmt.Errorf("%d heads, want 2..64", len(c.Heads))
	case c.Heads[0] != UnsafeHead:
		return fmt.Errorf("first head is %q, want %q", c.Heads[0], UnsafeHead)
	}
	seen := map[string]bool{}
	for _, h := range c.Heads[1:] {
		if !hazard.Category(h).Valid() {
			return fmt.Errorf("head %q is not a hazard category", h)
		}
		if seen[h] {
			return fmt.Errorf("duplicate head %q", h)
		}
		seen[h] = true
	}
	return nil
}

// Buckets is the number of embedding rows.
func (c Config) Buckets() int { return 1 << c.Bits }

// inner is the width of the layer feeding the heads.
func (c Config) inner() int {
	if c.Hidden > 0 {
		return c.Hidden
	}
	return c.Dim
}

// Platt maps a head's raw logit to a calibrated probability:
// p = sigmoid(A*logit + B).
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// Prob returns the calibrated probability for logit.
func (p Platt) Prob(logit float64) float64 { return sigmoid(float64(p.A*logit) + p.B) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Weights are a model's parameters in float32, as the trainer produces
// them, before quantization.
type Weights struct {
	Config Config
	Emb    []float32 // Buckets × Dim
	W1     []float32 // Hidden × Dim (empty when Hidden == 0)
	B1     []float32 // Hidden
	W2     []float32 // heads × inner
	B2     []float32 // heads
	Cal    []Platt   // per head; zero value means identity (A=1, B=0)
	// Info is free-form provenance written into the model file (data
	// digest, training options, dev metrics).
	Info map[string]any
}

// Model is a quantized classifier ready for inference. Once built (and,
// for the trainer, calibrated) it is immutable and safe for concurrent use.
type Model struct {
	cfg Config
	// tab holds one int8 row of width inner() per bucket: the feature's
	// embedding already multiplied by the hidden layer's weights (the
	// hidden layer is linear before its ReLU, so the average of projected
	// rows equals the projection of the average). Inference never
	// multiplies by W1.
	tabScale float32
	tab      []byte // int8 values, two's complement
	b1       []float32
	w2, b2   []float32
	cal      []Platt
	heads    []hazard.Category // heads[0] == "" (unsafe)
	info     map[string]any
	digest   string
	size     int
	bos      uint32
	// w2t is w2 laid out for heads16 (see headLayout), where the
	// processor has it; nil elsewhere.
	w2t  []float32
	pool sync.Pool
}

// Config returns the model's shape.
func (m *Model) Config() Config { return m.cfg }

// Digest is the SHA-256 of the model file's body (the checksum its last
// 32 bytes hold), hex encoded: what Detector.Version reports.
func (m *Model) Digest() string { return m.digest }

// Size is the model file's size in bytes.
func (m *Model) Size() int { return m.size }

// Info returns the provenance recorded at training time.
func (m *Model) Info() map[string]any { return m.info }

// Calibration returns the per-head Platt parameters.
func (m *Model) Calibration() []Platt { return append([]Platt(nil), m.cal...) }

// Quantize turns trained weights into a Model. With a hidden layer, each
// embedding row is first projected through W1 (so the table's width is
// the hidden width and inference skips the matrix product); the table then
// becomes int8 with one symmetric scale, so window sums accumulate exactly
// in int32. The small output layer stays float32.
func Quantize(w *Weights) (*Model, error) {
	c := w.Config
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	nh := len(c.Heads)
	if len(w.Emb) != c.Buckets()*c.Dim || len(w.W1) != c.Hidden*c.Dim || len(w.B1) != c.Hidden ||
		len(w.W2) != nh*c.inner() || len(w.B2) != nh {
		return nil, fmt.Errorf("quantize: weight sizes do not match the config")
	}
	in := c.inner()
	tab := w.Emb
	if c.Hidden > 0 {
		tab = make([]float32, c.Buckets()*in)
		for b := 0; b < c.Buckets(); b++ {
			e := w.Emb[b*c.Dim : (b+1)*c.Dim]
			out := tab[b*in : (b+1)*in]
			for k := 0; k < in; k++ {
				row := w.W1[k*c.Dim : (k+1)*c.Dim]
				var acc float32
				for j, v := range row {
					acc += float32(v * e[j])
				}
				out[k] = acc
			}
		}
	}
	var maxAbs float64
	for _, v := range tab {
		if a := math.Abs(float64(v)); a > maxAbs {
			maxAbs = a
		}
	}
	if maxAbs == 0 {
		maxAbs = 1
	}
	scale := float32(maxAbs / 127)
	q := make([]byte, len(tab))
	for i, v := range tab {
		x := math.Round(float64(v) / float64(scale))
		if x > 127 {
			x = 127
		} else if x < -127 {
			x = -127
		}
		q[i] = byte(int8(x)) ^ tabBias
	}
	cal := make([]Platt, nh)
	for i := range cal {
		cal[i] = Platt{A: 1}
		if i < len(w.Cal) && (w.Cal[i] != Platt{}) {
			cal[i] = w.Cal[i]
		}
	}
	m := &Model{cfg: c, tabScale: scale, tab: q, b1: clone(w.B1), w2: clone(w.W2), b2: clone(w.B2), cal: cal, info: w.Info}
	m.init()
	return m, nil
}

// tabBias is added to each int8 table value in memory, making it an
// unsigned byte that SWAR sums add without sign handling (see addRows32).
// Adding it flips a byte's top bit, so the file's int8 values and the
// table convert both ways with flipBias.
const tabBias = 0x80

// flipBias returns a copy of b with every byte's top bit flipped: int8
// values to biased bytes and back.
func flipBias(b []byte) []byte { return flipBiasTo(make([]byte, len(b)), b) }

// flipBiasTo is flipBias into dst (len(dst) == len(b)).
func flipBiasTo(dst, b []byte) []byte {
	for i, c := range b {
		dst[i] = c ^ tabBias
	}
	return dst
}

// weight returns the table's int8 value at index i.
func (m *Model) weight(i int) int32 { return int32(m.tab[i]) - tabBias }

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

func (m *Model) init() {
	m.heads = make([]hazard.Category, len(m.cfg.Heads))
	for i, h := range m.cfg.Heads[1:] {
		m.heads[i+1] = hazard.Category(h)
	}
	m.bos = bosFeature(m.cfg.Bits)
	if simdHeads && len(m.heads) <= maxSIMDHeads {
		m.w2t = headLayout(m.w2, m.cfg.inner(), len(m.heads))
	}
}

// scratch holds per-call buffers.
type scratch struct {
	toks   []token
	feats  []uint32
	prefix []int32 // running sums at window bounds (see logits)
	slot   []int32
	run    []int32
	counts []int32
	h      []float32
	logit  []float32
	// reps[i] counts the tokens of [0, i) that repeat one of the
	// repeatSpan tokens before them; set and keep serve degenerate
	// windows (see windowSet).
	reps []int32
	set  []uint64
	keep []uint32
	sum  []int32 // one window's row sum
	// touched keeps what addRows32's early reads return.
	touched byte
}

func (m *Model) getScratch() *scratch {
	if s, ok := m.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{
		h:     make([]float32, m.cfg.inner()),
		logit: make([]float32, len(m.cfg.Heads)),
	}
}

// maxTokens bounds the tokens scored per text (about 700 KB of English).
const maxTokens = 1 << 17

// logits computes the per-head maximum raw logit over the windows of text
// into out (len = number of heads).
func (m *Model) logits(text string, out []float32) {
	s := m.getScratch()
	defer m.pool.Put(s)
	d := m.cfg.inner()
	s.toks = tokenize(text, s.toks[:0], maxTokens, m.cfg.FeatureVersion >= 2)
	n := len(s.toks)
	// A window's sum is the difference of two running sums: sums at
	// slot[i] is the int32 sum of the table rows of the features of
	// tokens [0, i), kept only where a window starts or ends (slot -1
	// elsewhere), so a long text is not copied a row per token;
	// counts[i] is the number of those features.
	if cap(s.slot) < n+1 {
		s.slot = make([]int32, n+1)
	}
	if cap(s.counts) < n+1 {
		s.counts = make([]int32, n+1)
	}
	slot, counts := s.slot[:n+1], s.counts[:n+1]
	for i := range slot {
		slot[i] = -1
	}
	slots := int32(0)
	m.eachWindow(n, func(a, b int, _ float32) {
		for _, i := range [2]int{a, b} {
			if slot[i] < 0 {
				slot[i] = slots
				slots++
			}
		}
	})
	need := int(slots) * d
	if cap(s.prefix) < need {
		s.prefix = make([]int32, need)
	}
	sums := s.prefix[:need]
	var acc [32]int32
	run := acc[:]
	if d != 32 {
		if cap(s.run) < d {
			s.run = make([]int32, d)
		}
		run = s.run[:d]
		clear(run)
	}
	if slot[0] >= 0 {
		copy(sums[int(slot[0])*d:], run)
	}
	counts[0] = 0
	bits := m.cfg.Bits
	// The rows between two window bounds are summed in one call, fetching
	// the rows a little ahead, across bounds too: the table's loads are
	// independent of each other, and the sum is unpacked once per
	// stretch. The features are hashed ahead of the sums, a block at a
	// time, and the block's rows prefetched (see hashBlock).
	s.feats = s.feats[:0]
	from, hashed := 0, 0
	for i := 1; i <= n; i++ {
		k := slot[i]
		if k < 0 {
			continue
		}
		for hashed < n && hashed < i+hashLead {
			end := min(n, hashed+hashBlock)
			before := len(s.feats)
			s.feats = appendFeatures(s.toks, hashed, end, bits, s.feats, counts)
			m.prefetchRows(s.feats[before:])
			hashed = end
		}
		m.addRows(s, run, s.feats, from, int(counts[i]))
		from = int(counts[i])
		copy(sums[int(k)*d:], run)
	}
	s.countRepeats()
	for k := range out {
		out[k] = float32(math.Inf(-1))
	}
	m.eachWindow(n, func(a, b int, bias float32) { m.window(s, a, b, bias, out) })
}

// eachWindow calls f with every window [a, b) a text of n tokens is
// scored in, and the bias its logits are lowered by: the whole text when
// it fits one window; else windows of Window tokens every Stride tokens,
// the last ending at n, and for texts over LocalMin tokens the same with
// Local and LocalStride.
func (m *Model) eachWindow(n int, f func(a, b int, bias float32)) {
	w := m.cfg.Window
	if n <= w {
		f(0, n, 0)
		return
	}
	slide(n, w, m.cfg.Stride, 0, f)
	if m.cfg.Local > 0 && n > m.cfg.LocalMin {
		slide(n, m.cfg.Local, m.cfg.LocalStride, m.cfg.LocalBias, f)
	}
}

// Features are hashed hashBlock tokens at a time, at least hashLead
// tokens ahead of the rows being summed, and each block's rows are
// prefetched as soon as its features are known: the table's cache misses
// then come in while the next blocks are hashed, which is arithmetic
// only, instead of after all the hashing is done. In a scratch test
// switching between the two every 8 scans of the pipeline, blocks of 8,
// 16 and 32 tokens (with twice that lead) measured alike.
const hashBlock, hashLead = 16, 32

// rowsAhead is how far ahead, in rows, addRows starts fetching a row.
const rowsAhead = 12

// rowsPerAdd bounds the rows one addRows32 call sums (its 16-bit lanes
// hold 257).
const rowsPerAdd = 256

// addRows adds the int8 table rows of feats[from:to] to acc (len = inner
// width), with SWAR or SIMD when the width is 32, in batches its 16-bit
// lanes can hold, fetching the row rowsAhead on in feats (even past to)
// while one is summed.
func (m *Model) addRows(s *scratch, acc []int32, feats []uint32, from, to int) {
	d := len(acc)
	if d == 32 {
		for from < to {
			n := min(to-from, rowsPerAdd)
			a, b := min(from+rowsAhead, len(feats)), min(from+n+rowsAhead, len(feats))
			s.touched ^= m.addRows32((*[32]int32)(acc), feats[from:from+n], feats[a:b])
			from += n
		}
		return
	}
	feats = feats[from:to]
	for _, f := range feats {
		row := m.tab[int(f)*d : int(f)*d+d : int(f)*d+d]
		for j := range acc {
			acc[j] += int32(row[j]) - tabBias
		}
	}
}

// slide calls f with windows of w tokens every st tokens over n > w
// tokens, the last window ending at n, and bias.
func slide(n, w, st int, bias float32, f func(a, b int, bias float32)) {
	for start := 0; ; start += st {
		end := start + w
		if end >= n {
			f(n-w, n, bias)
			return
		}
		f(start, end, bias)
	}
}

// window runs the network on tokens [a, b) and folds the logits, less
// bias, into out with max.
func (m *Model) window(s *scratch, a, b int, bias float32, out []float32) {
	if degenerate(s, a, b) {
		m.windowSet(s, a, b, bias, out)
		return
	}
	d := m.cfg.inner()
	ka, kb := int(s.slot[a]), int(s.slot[b])
	pa, pb := s.prefix[ka*d:(ka+1)*d], s.prefix[kb*d:(kb+1)*d]
	sum := s.windowSum(d)
	for j := range sum {
		sum[j] = pb[j] - pa[j]
	}
	m.mean(s, sum, s.counts[b]-s.counts[a], bias, out)
}

// windowSum returns the scratch accumulator for one window's row sum.
func (s *scratch) windowSum(d int) []int32 {
	if cap(s.sum) < d {
		s.sum = make([]int32, d)
	}
	return s.sum[:d]
}

// mean runs the network on the mean of a window's n feature rows, whose
// sum is sum, and the start feature's row, and folds the logits, less
// bias, into out with max.
func (m *Model) mean(s *scratch, sum []int32, n int32, bias float32, out []float32) {
	d := len(sum)
	bosRow := m.tab[int(m.bos)*d : int(m.bos)*d+d]
	inv := m.tabScale / float32(n+1)
	h := s.h[:d]
	if m.w2t != nil && d == 32 && m.cfg.Hidden > 0 {
		// the loops below and network's ReLU, four units to a register
		meanHidden32(sum, bosRow, inv, m.b1, h)
		m.outputs(h, bias, out)
		return
	}
	for j := range h {
		h[j] = float32(float32(sum[j]+int32(bosRow[j])-tabBias) * inv)
	}
	m.network(h, bias, out)
}

// network runs the layers after the table on h, a window's mean table row
// (overwritten), and folds the logits, less bias, into out with max.
func (m *Model) network(h []float32, bias float32, out []float32) {
	if m.cfg.Hidden > 0 {
		for j := range h {
			v := h[j] + m.b1[j]
			if v < 0 {
				v = 0
			}
			h[j] = v
		}
	}
	m.outputs(h, bias, out)
}

// outputs computes the heads' logits from h, the hidden layer's output, and
// folds them, less bias, into out with max.
func (m *Model) outputs(h []float32, bias float32, out []float32) {
	d := len(h)
	if m.w2t != nil {
		var buf [maxSIMDHeads]float32
		acc := buf[:len(m.w2t)/d]
		for k := range out {
			acc[k] = m.b2[k] - bias
		}
		m.headSums(h, acc)
		for k := range out {
			out[k] = max(out[k], acc[k])
		}
		return
	}
	// Four heads at a time: each head's sum is the same chain of float
	// additions, in the same order, but four chains run side by side.
	k := 0
	for ; k+4 <= len(out); k += 4 {
		r0 := m.w2[k*d : (k+1)*d]
		r1 := m.w2[(k+1)*d : (k+2)*d]
		r2 := m.w2[(k+2)*d : (k+3)*d]
		r3 := m.w2[(k+3)*d : (k+4)*d]
		a0, a1, a2, a3 := m.b2[k]-bias, m.b2[k+1]-bias, m.b2[k+2]-bias, m.b2[k+3]-bias
		for j, v := range h {
			a0 += float32(r0[j] * v)
			a1 += float32(r1[j] * v)
			a2 += float32(r2[j] * v)
			a3 += float32(r3[j] * v)
		}
		out[k] = max(out[k], a0)
		out[k+1] = max(out[k+1], a1)
		out[k+2] = max(out[k+2], a2)
		out[k+3] = max(out[k+3], a3)
	}
	for ; k < len(out); k++ {
		row := m.w2[k*d : (k+1)*d]
		acc := m.b2[k] - bias
		for j, v := range row {
			acc += float32(v * h[j])
		}
		out[k] = max(out[k], acc)
	}
}

// Scores are a model's calibrated outputs for one text.
type Scores struct {
	// Unsafe is the calibrated probability that the text is unsafe.
	Unsafe float64
	// Categories holds a score per category head. The top category (the
	// head with the highest probability) scores Unsafe; every other
	// category scores its head's probability times Unsafe when the heads
	// are conditional (Config.CondHeads), else its head's probability
	// capped at Unsafe. So the maximum is P(unsafe), and "any category
	// ≥ t" means exactly "P(unsafe) ≥ t".
	Categories map[hazard.Category]float64
	// Heads holds each category head's own calibrated probability, for
	// evaluation: P(category | unsafe, text) for conditional heads,
	// P(category and unsafe | text) for the older joint ones.
	Heads map[hazard.Category]float64
}

// Top returns the highest-scoring category and its score.
func (s Scores) Top() (hazard.Category, float64) {
	var best hazard.Category
	bs := -1.0
	for c, v := range s.Categories {
		if v > bs || (v == bs && c < best) {
			best, bs = c, v
		}
	}
	return best, bs
}

// Predict scores text with the model.
func (m *Model) Predict(text string) Scores {
	raw := make([]float32, len(m.cfg.Heads))
	m.logits(text, raw)
	return m.scores(raw)
}

// probs turns raw logits into calibrated head probabilities (in place in
// a float64 slice).
func (m *Model) probs(raw []float32, p []float64) {
	for k, l := range raw {
		p[k] = m.cal[k].Prob(float64(l))
	}
}

func (m *Model) scores(raw []float32) Scores {
	p := make([]float64, len(raw))
	m.probs(raw, p)
	s := Scores{Unsafe: p[0], Categories: make(map[hazard.Category]float64, len(p)-1), Heads: make(map[hazard.Category]float64, len(p)-1)}
	top := 1
	for k := 2; k < len(p); k++ {
		if p[k] > p[top] {
			top = k
		}
	}
	for k := 1; k < len(p); k++ {
		s.Heads[m.heads[k]] = p[k]
		if m.cfg.CondHeads {
			s.Categories[m.heads[k]] = p[k] * p[0]
		} else {
			s.Categories[m.heads[k]] = math.Min(p[k], p[0])
		}
	}
	s.Categories[m.heads[top]] = p[0]
	return s
}

// Logits returns the raw (uncalibrated) per-head logits for text, maxed
// over windows; the trainer calibrates on them.
func (m *Model) Logits(text string) []float32 {
	raw := make([]float32, len(m.cfg.Heads))
	m.logits(text, raw)
	return raw
}

// SetCalibration replaces the per-head Platt parameters (used by the
// trainer after quantization, so calibration sees the quantized model). It
// must not be called while the model is being used by other goroutines.
func (m *Model) SetCalibration(cal []Platt) error {
	if len(cal) != len(m.cfg.Heads) {
		return fmt.Errorf("calibration has %d heads, model %d", len(cal), len(m.cfg.Heads))
	}
	m.cal = append([]Platt(nil), cal...)
	return nil
}

// WithLocal returns a copy of m whose long texts are also scored in local
// windows of local tokens every stride tokens when they are longer than
// min tokens, with logits lowered by bias (local 0 turns local windows
// off). The trainer uses it to choose the
// local-window settings on the dev split; the copy shares m's weights.
func (m *Model) WithLocal(local, stride, min int, bias float32) (*Model, error) {
	c := m.cfg
	c.Local, c.LocalStride, c.LocalMin, c.LocalBias = local, stride, min, bias
	if local == 0 {
		c.LocalStride, c.LocalMin, c.LocalBias = 0, 0, 0
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cp := &Model{cfg: c, tabScale: m.tabScale, tab: m.tab, b1: m.b1, w2: m.w2, b2: m.b2,
		cal: append([]Platt(nil), m.cal...), info: m.info}
	cp.init()
	return cp, nil
}

// SetInfo replaces the provenance written with the model. Like
// SetCalibration, it is for the trainer, before the model is shared.
func (m *Model) SetInfo(info map[string]any) { m.info = info }
