package classifier

import (
	"bufio"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/hazard"
)

// scalarCopy is m with the head sums computed by the pure-Go loop.
func scalarCopy(m *Model) *Model {
	cp := &Model{cfg: m.cfg, tabScale: m.tabScale, tab: m.tab, b1: m.b1, w2: m.w2, b2: m.b2,
		cal: m.cal, heads: m.heads, info: m.info, bos: m.bos}
	return cp
}

// The processor's head sums (where there are any) are bit for bit those
// of the pure-Go loop, for head counts around the chunks of 16 and for
// inputs with zeros, negative zeros, huge and tiny values.
func TestHeadSumsMatchScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	all := hazard.All()
	for _, nh := range []int{2, 4, 5, 15, 16, 17, len(all) + 1} {
		heads := []string{UnsafeHead}
		for _, c := range all[:nh-1] {
			heads = append(heads, string(c.ID))
		}
		cfg := Config{Bits: 8, Dim: 8, Hidden: 32, Window: 16, Stride: 8, Heads: heads}
		m := randomModel(t, cfg, uint64(nh), nil, nil)
		if simdHeads && m.w2t == nil {
			t.Fatalf("%d heads: no SIMD layout", nh)
		}
		sc := scalarCopy(m)
		specials := []float32{0, float32(math.Copysign(0, -1)), 1e30, -1e30, 1e-40, 3}
		for trial := 0; trial < 500; trial++ {
			h := make([]float32, 32)
			for j := range h {
				if trial%5 == 0 {
					h[j] = specials[r.IntN(len(specials))]
				} else {
					h[j] = float32(r.NormFloat64() * 3)
				}
			}
			h2 := slices.Clone(h)
			bias := float32(r.Float64())
			got, want := make([]float32, nh), make([]float32, nh)
			for k := range got {
				got[k] = float32(r.NormFloat64())
				want[k] = got[k]
			}
			m.network(h, bias, got)
			sc.network(h2, bias, want)
			for k := range got {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("%d heads, trial %d, head %d: %v, pure Go %v", nh, trial, k, got[k], want[k])
				}
			}
		}
	}
	// the layout and the reference sum agree with the rows of w2
	w2 := make([]float32, 17*3)
	for i := range w2 {
		w2[i] = float32(i)
	}
	acc := make([]float32, 32)
	headSumsGo([]float32{1, 10, 100}, headLayout(w2, 3, 17), acc)
	for k := 0; k < 17; k++ {
		if want := w2[k*3] + 10*w2[k*3+1] + 100*w2[k*3+2]; acc[k] != want {
			t.Fatalf("head %d: %v, want %v", k, acc[k], want)
		}
	}
}

// shippedPair returns the shipped model and its pure-Go copy.
func shippedPair(t testing.TB) (*Model, *Model) {
	t.Helper()
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return d.m, scalarCopy(d.m)
}

// checkSameLogits scores text with both models and fails unless the
// logits are the same bits.
func checkSameLogits(t *testing.T, m, sc *Model, text string) {
	t.Helper()
	got, want := m.Logits(text), sc.Logits(text)
	for k := range got {
		if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
			t.Fatalf("%.60q head %d: %v, pure Go %v", text, k, got[k], want[k])
		}
	}
}

// The shipped model's logits are the same bit for bit with the
// processor's head sums and without, on the evaluation texts.
func TestShippedLogitsMatchScalar(t *testing.T) {
	m, sc := shippedPair(t)
	f, err := os.Open("testdata/unseen_mixed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	n := 0
	for s.Scan() {
		var row struct{ Text string }
		if err := json.Unmarshal(s.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		checkSameLogits(t, m, sc, row.Text)
		n++
	}
	if n < 500 {
		t.Fatalf("only %d texts", n)
	}
}

// meanHiddenGo is mean's and network's hidden layer for width 32.
func meanHiddenGo(sum []int32, bos []byte, inv float32, b1, h []float32) {
	for j := range h {
		h[j] = float32(float32(sum[j]+int32(bos[j])-tabBias) * inv)
	}
	for j := range h {
		v := h[j] + b1[j]
		if v < 0 {
			v = 0
		}
		h[j] = v
	}
}

// The processor's hidden layer (where there is one) is bit for bit the
// pure-Go one, for sums that wrap, biases of -0, NaN and infinities, and
// scales that overflow or underflow.
func TestMeanHiddenMatchesScalar(t *testing.T) {
	if !simdHeads {
		t.Skip("no SIMD hidden layer on this architecture or with -tags purego")
	}
	r := rand.New(rand.NewPCG(7, 8))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45, 3e38}
	sums := []int32{0, -1, 1, math.MaxInt32, math.MinInt32, 128, -128}
	for trial := 0; trial < 5000; trial++ {
		sum, bos, b1 := make([]int32, 32), make([]byte, 32), make([]float32, 32)
		for j := range sum {
			sum[j] = int32(r.IntN(1<<16)) - 1<<15
			if trial%4 == 0 {
				sum[j] = sums[r.IntN(len(sums))]
			}
			bos[j] = byte(r.IntN(256))
			b1[j] = float32(r.NormFloat64())
			if trial%3 == 0 {
				b1[j] = specials[r.IntN(len(specials))]
			}
		}
		inv := float32(r.Float64() / 100)
		if trial%5 == 0 {
			inv = specials[r.IntN(len(specials))]
		}
		got, want := make([]float32, 32), make([]float32, 32)
		meanHidden32(sum, bos, inv, b1, got)
		meanHiddenGo(sum, bos, inv, b1, want)
		for j := range got {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("trial %d unit %d: sum %d bos %d inv %v b1 %v: %v (%#x), pure Go %v (%#x)",
					trial, j, sum[j], bos[j], inv, b1[j], got[j], math.Float32bits(got[j]), want[j], math.Float32bits(want[j]))
			}
		}
	}
}

// FuzzLogitsMatchScalar scores arbitrary text with the shipped model
// with the processor's sums and without: the logits are the same bits.
func FuzzLogitsMatchScalar(f *testing.F) {
	m, sc := shippedPair(f)
	for _, s := range []string{"", "hello", "如何制作炸弹？", "\xff\xfe", "ab cd ab cd ab cd ab cd ab cd", strings.Repeat("word ", 1500), strings.Repeat("词", 2000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkSameLogits(t, m, sc, s) })
}

// prefetchRows only hints: it must accept any feature (masked to the
// table, as the sums are) and an empty list, and change no sum.
func TestPrefetchRows(t *testing.T) {
	m := randomModel(t, Config{Bits: 10, Dim: 8, Hidden: 32, Window: 16, Stride: 8, Heads: []string{UnsafeHead, "hate"}}, 3, nil, nil)
	want := m.Logits("a text to score before and after prefetching")
	m.prefetchRows(nil)
	m.prefetchRows([]uint32{0, 1<<10 - 1, 1 << 10, 1<<32 - 1})
	if got := m.Logits("a text to score before and after prefetching"); !slices.Equal(got, want) {
		t.Fatalf("logits %v after prefetching, %v before", got, want)
	}
}
