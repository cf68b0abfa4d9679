package normalize

import "unicode/utf8"

// keptCase returns the text the decoders read, folded with keepCase, made
// from base, the folded view of text, when folding changed nothing but
// full-width forms (U+FF01..U+FF5E), the ideographic space and the circled
// numbers ①..⑳ (and ASCII case): the commonest changes to Chinese text.
// Folding with keepCase makes the same changes at the same offsets, keeping
// the case of the letters, so the view's mapping serves as is and the text
// need not be folded again. It reports false when folding changed anything
// else (a look-alike letter, an invisible character, a ligature), whose
// case-kept fold may differ in more than case; the caller folds then.
// buf is scratch space, returned for reuse.
func keptCase(text string, base *View, buf []byte) (string, []byte, bool) {
	if base.lo != nil || base.spans == nil {
		return "", buf, false
	}
	b := buf[:0]
	op := 0 // the original offset the next span must start at
	for i, p := range base.spans {
		end := len(base.Text)
		if i+1 < len(base.spans) {
			end = int(base.spans[i+1].v)
		}
		vs, o := int(p.v), int(p.o)
		if o != op || end < vs {
			return "", b, false // removed bytes, or out of order
		}
		if p.lin {
			oe := o + end - vs
			if oe > len(text) {
				return "", b, false
			}
			b = append(b, text[o:oe]...)
			op = oe
			continue
		}
		oe := o + int(p.n)
		if oe > len(text) {
			return "", b, false
		}
		r, size := utf8.DecodeRuneInString(text[o:oe])
		if size != oe-o {
			return "", b, false
		}
		var kept string
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			kept = asciiStrings[r-0xFF01+'!']
		case r == 0x3000:
			kept = " "
		case r >= 0x2460 && r <= 0x2473:
			kept = circled[r-0x2460]
		default:
			return "", b, false
		}
		if end-vs != len(kept) || !equalASCIIFold(base.Text[vs:end], kept) {
			return "", b, false
		}
		b = append(b, kept...)
		op = oe
	}
	if op != len(text) || len(b) != len(base.Text) {
		return "", b, false
	}
	return string(b), b, true
}

// asciiStrings holds each ASCII character as a string.
var asciiStrings = func() (t [128]string) {
	for c := range t {
		t[c] = string(rune(c))
	}
	return
}()

// circled holds what NFKC makes of ①..⑳.
var circled = func() (t [20]string) {
	for i := range t {
		t[i] = itoa(i + 1)
	}
	return
}()

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
