package pii

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/internal/corpus"
)

// skipHighSlow is skipHigh byte by byte.
func skipHighSlow(text string, i, end int) int {
	for i < end && text[i] >= 0x80 {
		i++
	}
	return i
}

// TestSkipHigh compares skipHigh with the byte loop on every byte value
// in every position of a run of high bytes, at every start and end.
func TestSkipHigh(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			b := []byte("中文的字节流里没有一个拉丁字母")
			b[pos] = byte(c)
			s := string(b)
			for i := 0; i <= len(s); i++ {
				for end := i; end <= len(s); end++ {
					if got, want := skipHigh(s, i, end), skipHighSlow(s, i, end); got != want {
						t.Fatalf("skipHigh(%q, %d, %d) = %d, want %d", s, i, end, got, want)
					}
				}
			}
		}
	}
}

// scanStartsSlow is scanStarts as it was before skipHigh: every byte that
// starts no token is passed one at a time.
func scanStartsSlow(text string, from, to int, emit func(string, int, int)) {
	for i := from; i < to; {
		c := text[i]
		if !startByte[c] {
			i++
			continue
		}
		if i > 0 && wordByte[text[i-1]] || quietStart[c] {
			i = skipWord(text, i+1)
			continue
		}
		next := i + 1
		if isDigit(c) || c == '+' || c == '(' {
			next = max(next, numberAt(text, i, emit))
		}
		if isDigit(c) {
			next = max(next, ipv4At(text, i, emit))
		}
		if isUpper(c) {
			if e := ibanAt(text, i, emit); e > i+1 {
				next = max(next, e)
			} else {
				next = max(next, tokenAt(text, i, emit))
			}
		} else if isLower(c) {
			next = max(next, tokenAt(text, i, emit))
		}
		if c == 'a' || c == 'A' || c == 's' || c == 'S' {
			next = max(next, awsSecretAt(text, i, emit))
		}
		i = next
	}
}

type emitted struct {
	typ  string
	s, e int
}

// checkScanStarts compares what scanStarts and scanStartsSlow emit on
// text[from:to].
func checkScanStarts(t *testing.T, text string, from, to int) {
	t.Helper()
	var got, want []emitted
	scanStarts(text, from, to, func(typ string, s, e int) { got = append(got, emitted{typ, s, e}) })
	scanStartsSlow(text, from, to, func(typ string, s, e int) { want = append(want, emitted{typ, s, e}) })
	if !slices.Equal(got, want) {
		t.Fatalf("%.80q [%d:%d]:\n got %v\nwant %v", text, from, to, got, want)
	}
}

// TestScanStartsMatchesByteLoop compares the token starts' scan with the
// byte loop on random mixtures of Chinese, numbers, cards, IBANs, keys
// and addresses (whole and in ranges that cut them), and on every text of
// the classifier's evaluation sets.
func TestScanStartsMatchesByteLoop(t *testing.T) {
	pieces := []string{"中", "文", "，", "。", "电话", "4111 1111 1111 1111", "+86 138 0013 8000", "(555) 123-4567", "192.168.1.1",
		"DE89370400440532013000", "AKIAIOSFODNN7EXAMPLE", "sk-abcdefghijklmnopqrstuvwx", "ghp_0123456789abcdefghij0123456789abcd",
		"a", "Z", "9", "+", "(", " ", "_", "\xe4\xb8", "\x80", "é", "user@example.com", "110101199003077777"}
	rng := rand.New(rand.NewSource(3))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.Intn(16); k >= 0; k-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := b.String()
		from := rng.Intn(len(s) + 1)
		to := from + rng.Intn(len(s)-from+1)
		checkScanStarts(t, s, 0, len(s))
		checkScanStarts(t, s, from, to)
	}
	rows := corpus.EvalSets(t, 2)
	for _, e := range rows {
		checkScanStarts(t, e.Text, 0, len(e.Text))
	}
	t.Logf("%d rows", len(rows))
}

// FuzzScanStarts compares the token starts' scan with the byte loop on
// arbitrary text and ranges.
func FuzzScanStarts(f *testing.F) {
	f.Add("电话：+86 138 0013 8000，卡号4111111111111111。", uint16(0), uint16(100))
	f.Add("中文AKIAIOSFODNN7EXAMPLE中文DE89370400440532013000", uint16(3), uint16(20))
	f.Fuzz(func(t *testing.T, s string, a, b uint16) {
		from := int(a) % (len(s) + 1)
		to := from + int(b)%(len(s)-from+1)
		checkScanStarts(t, s, from, to)
	})
}
