package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Options bound the work Views does.
type Options struct {
	// MaxDepth bounds how many decoders may be chained (base64>hex>rot13 is 3).
	MaxDepth int
	// MaxViews bounds the number of views returned.
	MaxViews int
	// MaxDecodedBytes bounds the total bytes produced by decoders.
	MaxDecodedBytes int
}

// DefaultOptions are the bounds used when a field of Options is zero.
var DefaultOptions = Options{MaxDepth: 4, MaxViews: 32, MaxDecodedBytes: 1 << 20}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultOptions.MaxDepth
	}
	if o.MaxViews <= 0 {
		o.MaxViews = DefaultOptions.MaxViews
	}
	if o.MaxDecodedBytes <= 0 {
		o.MaxDecodedBytes = DefaultOptions.MaxDecodedBytes
	}
	return o
}

// Views returns the original text as the first view, followed by every
// derived view that differs from the ones before it.
func Views(text string, opt Options) []View {
	opt = opt.withDefaults()
	views := []View{{Name: "original", Text: text}}
	if f, ok := fold(text); ok {
		views = append(views, f)
	}
	return views
}

// fold applies NFKC, lower-casing and removal of invisible characters,
// returning ok=false when that changes nothing.
func fold(text string) (View, bool) {
	var b strings.Builder
	b.Grow(len(text))
	lo := make([]int32, 0, len(text))
	hi := make([]int32, 0, len(text))
	// Walk runes of the original, normalizing each independently so every
	// output byte maps to the input rune it came from.
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		seg := text[i : i+size]
		if r == utf8.RuneError && size == 1 {
			seg = "\uFFFD"
		}
		if invisible(r) {
			i += size
			continue
		}
		out := strings.ToLower(norm.NFKC.String(seg))
		for j := 0; j < len(out); j++ {
			lo = append(lo, int32(i))
			hi = append(hi, int32(i+size))
		}
		b.WriteString(out)
		i += size
	}
	s := b.String()
	if s == text {
		return View{}, false
	}
	return NewView("folded", s, lo, hi), true
}

// invisible reports whether r renders as nothing: zero-width characters,
// bidi controls and other format characters.
func invisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u180e':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}
