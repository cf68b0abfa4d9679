package lexicon

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect/normalize"
)

// partnerLinear is partner as it was before the set index: it walks every
// neighbouring hit, of any set. The reference for TestPartnerMatchesLinear.
func partnerLinear(text string, hits []hit, i int, set int32, r *rule, gap func(int) int) int {
	h := hits[i]
	limit := gap(r.window)
	for j, n := i+1, 0; j < len(hits) && n < maxNeighbours; j, n = j+1, n+1 {
		o := hits[j]
		if o.start < h.end {
			continue // overlaps
		}
		if int(o.start-h.end) > limit {
			break
		}
		if o.set == set && within(text, int(h.end), int(o.start), r.window) {
			return j
		}
	}
	if r.ordered {
		return -1
	}
	for j, n := i-1, 0; j >= 0 && n < maxNeighbours; j, n = j-1, n+1 {
		o := hits[j]
		if int(h.start-o.start) > limit+MaxPatternLen {
			break
		}
		if o.set == set && o.end <= h.start && within(text, int(o.end), int(h.start), r.window) {
			return j
		}
	}
	return -1
}

func TestPartnerMatchesLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	words := []string{"how", "to", "make", "a", "bomb", " ", "  ", ".", "，", "炸", "弹", "怎么", "ｍａｋｅ", "x", "\n"}
	found := 0
	for round := 0; round < 3000; round++ {
		var b strings.Builder
		for b.Len() < 50+rng.IntN(3000) {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(3) == 0 {
				b.WriteByte(' ')
			}
		}
		text := b.String()
		nsets := 1 + rng.IntN(6)
		// dense hits in places, sparse in others; some share a span
		var hits []hit
		for range rng.IntN(400) {
			s := rng.IntN(len(text))
			e := min(len(text), s+1+rng.IntN(12))
			hits = append(hits, hit{int32(rng.IntN(nsets)), int32(s), int32(e)})
			if rng.IntN(4) == 0 {
				hits = append(hits, hit{int32(rng.IntN(nsets)), int32(s), int32(e)})
			}
		}
		slices.SortFunc(hits, func(x, y hit) int {
			if x.start != y.start {
				return int(x.start - y.start)
			}
			return int(x.end - y.end)
		})
		var x setIndex
		x.build(hits, nsets)
		for i := range hits {
			r := &rule{window: rng.IntN(8), ordered: rng.IntN(2) == 0}
			gap := maxGapBytes
			if rng.IntN(2) == 0 {
				gap = maxGapSpan
			}
			set := int32(rng.IntN(nsets))
			got := partner(text, hits, x.of(set), i, r, gap)
			want := partnerLinear(text, hits, i, set, r, gap)
			if got != want {
				t.Fatalf("round %d, hit %d of %d, set %d, rule %+v: partner %d, linear %d", round, i, len(hits), set, *r, got, want)
			}
			if got >= 0 {
				found++
			}
		}
	}
	if found < 1000 {
		t.Fatalf("only %d partners found: the test proves little", found)
	}
}

// gapLengthBytewise is gapLength tested at every byte, the reference for
// TestGapLength.
func gapLengthBytewise(s string) int {
	n := len(s)
	for i := 0; i+2 < len(s); i++ {
		if normalize.FullWidthAt(s, i) {
			n -= 2
			i += 2
		}
	}
	return n
}

func TestGapLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	pieces := []string{"ａ", "，", "！", "～", "\xef", "\xef\xbc", "\xef\xbd", "\xef\xbc\x80", "\xef\xbd\x9f", "ｾ", "中", "a", " ", "\xbc\x81"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		for cut := 0; cut <= len(s); cut += 1 + rng.IntN(4) {
			if got, want := gapLength(s[cut:]), gapLengthBytewise(s[cut:]); got != want {
				t.Fatalf("gapLength(%q) = %d, bytewise %d", s[cut:], got, want)
			}
		}
	}
}
