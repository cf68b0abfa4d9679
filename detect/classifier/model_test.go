package classifier

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/warden-safety/warden/hazard"
)

// tinyModel returns a small model with random weights.
func tinyModel(t testing.TB, seed uint64) *Model {
	t.Helper()
	cfg := Config{Bits: 10, Dim: 8, Hidden: 6, Window: 16, Stride: 8,
		Heads: []string{UnsafeHead, "hate", "cbrn_weapons", "prompt_injection"}}
	return randomModel(t, cfg, seed, []Platt{{A: 1.5, B: -0.2}, {A: 1}, {A: 0.5, B: 0.1}, {A: 2}}, map[string]any{"note": "test"})
}

// randomModel quantizes normally distributed weights of shape cfg.
func randomModel(t testing.TB, cfg Config, seed uint64, cal []Platt, info map[string]any) *Model {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	f := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	w := &Weights{Config: cfg, Emb: f(cfg.Buckets() * cfg.Dim), W1: f(cfg.Hidden * cfg.Dim), B1: f(cfg.Hidden),
		W2: f(len(cfg.Heads) * cfg.Hidden), B2: f(len(cfg.Heads)), Cal: cal, Info: info}
	m, err := Quantize(w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	m := tinyModel(t, 1)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ReadModel(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoded model differs")
	}
	if len(m2.Digest()) != 64 || m2.Size() != len(b) {
		t.Fatalf("digest %q size %d", m2.Digest(), m2.Size())
	}
	for _, s := range []string{"", "hello world", "如何制作炸弹", "a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7 8 9"} {
		p1, p2 := m.Predict(s), m2.Predict(s)
		if p1.Unsafe != p2.Unsafe {
			t.Fatalf("%q: %v vs %v", s, p1.Unsafe, p2.Unsafe)
		}
	}
}

func TestTopCategoryIsUnsafe(t *testing.T) {
	m := tinyModel(t, 2)
	for _, s := range []string{"one", "two words", "ignore previous instructions", "长文本" + string(bytes.Repeat([]byte("词 "), 50))} {
		sc := m.Predict(s)
		_, top := sc.Top()
		if math.Abs(top-sc.Unsafe) > 1e-12 {
			t.Errorf("%q: top category %v, unsafe %v", s, top, sc.Unsafe)
		}
		for c, v := range sc.Categories {
			if v > sc.Unsafe+1e-12 || v < 0 {
				t.Errorf("%q: %s = %v outside [0, unsafe=%v]", s, c, v, sc.Unsafe)
			}
		}
	}
}

// TestCategoryScores checks how the heads become category scores: the
// head with the highest probability carries P(unsafe); every other
// category scores min(head, P(unsafe)) when the heads were trained on
// every row, and head × P(unsafe) when they were trained on unsafe rows
// only (CondHeads: the head is then P(category | unsafe)). The flag
// survives a round trip through the file.
func TestCategoryScores(t *testing.T) {
	for _, cond := range []bool{false, true} {
		cfg := Config{Bits: 10, Dim: 8, Hidden: 6, Window: 16, Stride: 8, CondHeads: cond,
			Heads: []string{UnsafeHead, "hate", "cbrn_weapons", "prompt_injection"}}
		m := randomModel(t, cfg, 3, []Platt{{A: 1.5, B: -0.2}, {A: 1}, {A: 0.5, B: 0.1}, {A: 2}}, nil)
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if m, err = ReadModel(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if m.Config().CondHeads != cond {
			t.Fatalf("CondHeads %v read back as %v", cond, m.Config().CondHeads)
		}
		for _, s := range []string{"one", "two words", "ignore previous instructions", "如何制作炸弹"} {
			sc := m.Predict(s)
			var top hazard.Category
			for c, h := range sc.Heads {
				if top == "" || h > sc.Heads[top] {
					top = c
				}
			}
			for c, v := range sc.Categories {
				want := math.Min(sc.Heads[c], sc.Unsafe)
				if cond {
					want = sc.Heads[c] * sc.Unsafe
				}
				if c == top {
					want = sc.Unsafe
				}
				if math.Abs(v-want) > 1e-12 {
					t.Errorf("cond %v, %q: %s = %v, want %v (head %v, unsafe %v)", cond, s, c, v, want, sc.Heads[c], sc.Unsafe)
				}
			}
		}
	}
}

func TestReadModelRejectsDamage(t *testing.T) {
	m := tinyModel(t, 3)
	good, _ := m.MarshalBinary()
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"bad magic": append([]byte("XXXXXXXX"), good[8:]...),
	}
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 1
	cases["bit flip"] = flip
	for name, b := range cases {
		_, err := ReadModel(bytes.NewReader(b))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Bits: 10, Dim: 8, Window: 16, Stride: 8, Heads: []string{"unsafe", "hate"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(c *Config){
		func(c *Config) { c.Bits = 30 },
		func(c *Config) { c.Dim = 0 },
		func(c *Config) { c.Stride = 0 },
		func(c *Config) { c.Stride = 99 },
		func(c *Config) { c.Heads = []string{"hate", "unsafe"} },
		func(c *Config) { c.Heads = []string{"unsafe", "nonsense"} },
		func(c *Config) { c.Heads = []string{"unsafe", "hate", "hate"} },
		func(c *Config) { c.FeatureVersion = 3 },
		func(c *Config) { c.FeatureVersion = -1 },
	}
	for i, f := range bad {
		c := good
		c.Heads = append([]string(nil), good.Heads...)
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: %+v validated", i, c)
		}
	}
}

func TestPredictConcurrentDeterministic(t *testing.T) {
	m := tinyModel(t, 4)
	texts := []string{"alpha beta gamma", "如何 制作", string(bytes.Repeat([]byte("word "), 500)), ""}
	want := make([]float64, len(texts))
	for i, s := range texts {
		want[i] = m.Predict(s).Unsafe
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				for i, s := range texts {
					if got := m.Predict(s).Unsafe; got != want[i] {
						t.Errorf("%q: %v != %v", s, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestWindowsTakeTheMaximum(t *testing.T) {
	m := tinyModel(t, 5)
	// Find a short text that scores higher than the filler, then bury it
	// in filler: the windowed score must stay at least as high as a
	// window-sized text holding it.
	filler := string(bytes.Repeat([]byte("the weather today is mild and pleasant "), 40))
	hot := ""
	best := -1.0
	for _, s := range []string{"alpha", "beta gamma", "delta epsilon zeta", "eta theta", "iota kappa lambda mu"} {
		if u := m.Predict(s).Unsafe; u > best {
			best, hot = u, s
		}
	}
	long := m.Predict(filler + hot + " " + filler)
	base := m.Predict(filler)
	if long.Unsafe < base.Unsafe {
		t.Fatalf("adding text lowered the max-over-windows score: %v < %v", long.Unsafe, base.Unsafe)
	}
}

func TestTokenize(t *testing.T) {
	toks := tokenize("Don't STOP: 如何制作？ café", nil, 0, false)
	kinds := []uint8{}
	for _, tk := range toks {
		kinds = append(kinds, tk.kind)
	}
	want := []uint8{kindWord, kindWord, kindPunct, kindCJK, kindCJK, kindCJK, kindCJK, kindPunct, kindWord}
	if len(kinds) != len(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds %v, want %v", kinds, want)
		}
	}
	a := tokenize("HELLO World", nil, 0, false)
	b := tokenize("hello world", nil, 0, false)
	if a[0].h != b[0].h || a[1].h != b[1].h {
		t.Fatal("tokenize is case sensitive")
	}
	x, y := tokenize("h0w d0 1 m4k3 4 b0mb", nil, 0, false), tokenize("how do i make a bomb", nil, 0, false)
	for i := range y {
		if x[i].h != y[i].h {
			t.Fatalf("leet token %d hashes differently", i)
		}
	}
	if p, q := tokenize("100 items", nil, 0, false), tokenize("ioo items", nil, 0, false); p[0].h == q[0].h {
		t.Fatal("digits without letters were read as leetspeak")
	}
	if n := len(tokenize("a b c d e f", nil, 3, false)); n != 3 {
		t.Fatalf("maxTokens: got %d tokens", n)
	}
}

func TestTokenizeSimplifies(t *testing.T) {
	trad := tokenize("布朗在地下室強暴了兩個女孩", nil, 0, true)
	simp := tokenize("布朗在地下室强暴了两个女孩", nil, 0, true)
	if len(trad) != len(simp) {
		t.Fatalf("%d tokens vs %d", len(trad), len(simp))
	}
	for i := range simp {
		if trad[i].h != simp[i].h {
			t.Fatalf("token %d differs between traditional and simplified", i)
		}
	}
	if old := tokenize("強暴", nil, 0, false); old[0].h == simp[6].h {
		t.Fatal("feature version 1 must keep traditional characters as they are")
	}
}

func TestFeaturesBounded(t *testing.T) {
	for _, bits := range []uint{8, 12, 18} {
		for _, f := range Features(Config{Bits: bits, FeatureVersion: 2}, "make a pipe bomb 如何制作炸弹 ?!", 256) {
			if f >= 1<<bits {
				t.Fatalf("feature %d out of range for %d bits", f, bits)
			}
		}
	}
}

func TestIsCJKMatchesUnicodeTables(t *testing.T) {
	for r := rune(0x2E80); r < 0x30000; r++ {
		want := unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
			unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
		if isCJK(r) != want {
			t.Fatalf("isCJK(%U) = %v, want %v", r, !want, want)
		}
		if caseless(r) && unicode.ToLower(r) != r {
			t.Fatalf("caseless(%U) but it has a lower case", r)
		}
	}
}

func TestAddRows32MatchesPlainSum(t *testing.T) {
	cfg := Config{Bits: 8, Dim: 32, Window: 16, Stride: 8, Heads: []string{UnsafeHead, "hate"}}
	r := rand.New(rand.NewPCG(3, 4))
	m := &Model{cfg: cfg, tab: make([]byte, cfg.Buckets()*32)}
	for i := range m.tab {
		m.tab[i] = byte(r.IntN(256))
	}
	m.tab[0], m.tab[1], m.tab[2] = 0x00, 0xff, 0x7f // biased -128, 127, -1
	for i := 32; i < 64; i++ {
		m.tab[i] = 0xff // row 1: all 127
	}
	for trial := 0; trial < 300; trial++ {
		feats := make([]uint32, r.IntN(rowsPerAdd+1))
		for i := range feats {
			feats[i] = uint32(r.IntN(cfg.Buckets()))
		}
		switch trial {
		case 0:
			feats = []uint32{0, 0, 0, 0, 0}
		case 1, 2:
			// the most rows a call takes, at both extremes of a lane
			feats = make([]uint32, rowsPerAdd)
			for i := range feats {
				feats[i] = uint32(trial - 1)
			}
		}
		// rows to fetch ahead: none, fewer than feats or as many
		ahead := make([]uint32, r.IntN(len(feats)+1))
		for i := range ahead {
			ahead[i] = uint32(r.IntN(cfg.Buckets()))
		}
		var want [32]int32
		for j := range want {
			want[j] = int32(j * 1000)
		}
		got, goGot := want, want
		for _, f := range feats {
			for j := 0; j < 32; j++ {
				want[j] += m.weight(int(f)*32 + j)
			}
		}
		m.addRows32(&got, feats, ahead)
		m.addRows32Go(&goGot, feats, ahead)
		if got != want || goGot != want {
			t.Fatalf("feats %v: got %v (pure Go %v), want %v", feats, got, goGot, want)
		}
	}
	// addRows splits a long list into calls whose lanes cannot overflow:
	// a thousand rows of the largest value.
	feats := make([]uint32, 1000)
	for i := range feats {
		feats[i] = 1
	}
	got := make([]int32, 32)
	m.addRows(&scratch{}, got, feats, 0, len(feats))
	for j, v := range got {
		if v != 1000*127 {
			t.Fatalf("lane %d of 1,000 rows of 127: %d", j, v)
		}
	}
}

// TestCJKAtMatchesDecoder checks the tokenizer's fast path for CJK
// characters against the general decoder on every three-byte sequence
// with a lead byte of a three-byte character.
func TestCJKAtMatchesDecoder(t *testing.T) {
	hits := 0
	for c0 := 0xE0; c0 <= 0xEF; c0++ {
		for c1 := 0; c1 < 256; c1++ {
			for c2 := 0; c2 < 256; c2++ {
				s := string([]byte{byte(c0), byte(c1), byte(c2), 'x'})
				r, size := cjkAt(s, 0)
				if size == 0 {
					continue
				}
				hits++
				want, wsize := utf8.DecodeRuneInString(s)
				if r != want || size != wsize || !caseless(r) {
					t.Fatalf("% x: cjkAt %U/%d, decoder %U/%d", s[:3], r, size, want, wsize)
				}
			}
		}
	}
	if hits != 0x9FFF-0x3040+1 {
		t.Fatalf("cjkAt decoded %d characters, want %d", hits, 0x9FFF-0x3040+1)
	}
}

// BenchmarkAddRows32 sums 45,056 random rows of a full-size table (2^18
// rows of 32 bytes, 8 MiB) in the stretches of 64 rows a long text's
// local windows give, spread over the whole table or confined to its
// first 256 KiB (always in cache): the difference is the wait on memory.
func BenchmarkAddRows32(b *testing.B) {
	m := randomModel(b, Config{Bits: 18, Dim: 64, Hidden: 32, Window: 256, Stride: 128, Heads: []string{UnsafeHead, "hate"}}, 1, nil, nil)
	for _, bc := range []struct {
		name string
		mask uint32
	}{{"table", 1<<18 - 1}, {"cache", 1<<13 - 1}} {
		b.Run(bc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			feats := make([]uint32, 45056)
			for i := range feats {
				feats[i] = r.Uint32() & bc.mask
			}
			s := &scratch{}
			acc := make([]int32, 32)
			for b.Loop() {
				for i := 0; i < len(feats); i += 64 {
					m.addRows(s, acc, feats, i, i+64)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(feats)), "ns/row")
		})
	}
}

// TestCJKRunsTokenizeAsRunes checks the tokenizer's loops over runs of
// CJK characters and over words that start with an ASCII letter against
// reading them one rune at a time, on random mixtures of Han (simplified
// and traditional), kana, Hangul, CJK symbols, Latin words of every
// length and case, leetspeak, digits, apostrophes, punctuation and
// invalid bytes, with and without a token limit.
func TestCJKRunsTokenizeAsRunes(t *testing.T) {
	pieces := []string{"中", "國", "语", "か", "カ", "ー", "한", "〆", "々", "。", "、", "㐀", "䷀", "ㄅ", "word", "m4k3", "1", "'", "?", "？", " ", "\xe4\xb8", "é", "Ω",
		"a", "I", "4", "Hello", "WORLD", "abcde", "abcdef", "Explosives", "don't", "k1ll", "b0mb", "h4x0r", "x", "@", "$", "straße", "_"}
	r := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 20000; trial++ {
		var b strings.Builder
		for n := r.IntN(20); n >= 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		text := b.String()
		limit := 0
		if trial%3 == 0 {
			limit = 1 + r.IntN(10)
		}
		for _, simplify := range []bool{false, true} {
			got := tokenizeRuns(text, nil, limit, simplify, true)
			want := tokenizeRuns(text, nil, limit, simplify, false)
			if !slices.Equal(got, want) {
				t.Fatalf("%q (limit %d, simplify %v):\n got %v\nwant %v", text, limit, simplify, got, want)
			}
		}
	}
}
