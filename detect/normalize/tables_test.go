package normalize_test

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/warden-safety/warden/detect/normalize"
)

func TestConfusableTable(t *testing.T) {
	runes, letters := normalize.ConfusableEntries()
	for i, r := range runes {
		if i > 0 && runes[i-1] >= r {
			t.Fatalf("table not sorted at %U", r)
		}
		if norm.NFKC.String(string(r)) != string(r) {
			t.Errorf("%U is changed by NFKC: a dead entry", r)
		}
		if letters[i] < 'a' || letters[i] > 'z' {
			t.Errorf("%U maps to %q, not a lower-case letter", r, letters[i])
		}
		if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Latin, r) && unicode.In(r, unicode.Ll, unicode.Lu) && strings.ContainsRune("àáâãäåèéêëìíîïòóôõöùúûüýÿçñ", unicode.ToLower(r)) {
			t.Errorf("%U: accented Latin and Han letters must not be mapped", r)
		}
		if got := normalize.Canonical(string(r)); got != string(letters[i]) {
			t.Errorf("Canonical(%U) = %q, want %q", r, got, letters[i])
		}
	}
}

// The full-width fast path must agree with NFKC.
func TestFullWidthMatchesNFKC(t *testing.T) {
	for r := rune(0xFF01); r <= 0xFF5E; r++ {
		want := strings.ToLower(norm.NFKC.String(string(r)))
		if got := normalize.Canonical(string(r)); got != want {
			t.Fatalf("Canonical(%U) = %q, NFKC gives %q", r, got, want)
		}
	}
	if got := normalize.Canonical("a\u3000b"); got != "a b" {
		t.Fatalf("ideographic space: %q", got)
	}
	// Next to marks, kana and punctuation the fast path must step aside.
	for _, s := range []string{"ａ\u0301", "Ｅ\u0300x", "ｂ、ｃ。", "中ｂ文", "ｂ\u3099", "ｶﾞ", "ｂｏｍｂ!", "\uff21\uff41"} {
		want := strings.ToLower(norm.NFKC.String(s))
		if got := normalize.Canonical(s); got != want {
			t.Errorf("Canonical(%q) = %q, NFKC gives %q", s, got, want)
		}
	}
}

// Han ideographs take a fast path that must leave them exactly as NFKC
// does, including next to combining marks and compatibility ideographs.
func TestHanFastPath(t *testing.T) {
	for _, s := range []string{"中文\u0301字", "\u3400\u9fff", "漢字\uf900", "你好ｂｏｍｂ世界", "㐀一"} {
		want := strings.ToLower(norm.NFKC.String(s))
		if got := normalize.Canonical(s); got != want {
			t.Errorf("Canonical(%q) = %q, NFKC gives %q", s, got, want)
		}
	}
}
