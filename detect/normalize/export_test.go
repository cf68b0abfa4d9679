package normalize

// Hooks for the external tests in package normalize_test.

// B64Decode decodes base64 in either alphabet, padded or not.
func B64Decode(s string) ([]byte, bool) { return b64Decode(nil, s) }

// HexDecode decodes an even number of hex digits.
func HexDecode(s string) ([]byte, bool) { return hexDecode(nil, s) }

// HTMLEntity parses the character reference at the start of s.
func HTMLEntity(s string) (string, int) {
	dec, n, _ := htmlEntity(s)
	return dec, n
}

// Rot13 rotates the ASCII letters of s.
func Rot13(s string) string { return string(rot13(nil, s)) }

// DecodeOnce runs the decoder called name over the whole of src, as Views
// does on the original text, and returns the raw decoded text as a view
// mapped to src, with ok false when the decoder found nothing.
func DecodeOnce(name, src string, limit int) (View, bool) {
	for k, dec := range decoders {
		if dec.name != name {
			continue
		}
		var d decoding
		d.reset(limit)
		if !d.run(k, src, []region{{0, len(src)}}) {
			return View{}, false
		}
		text := string(d.out)
		return View{Name: name, Text: text, spans: d.m.finish(len(text), -1)}, true
	}
	panic("no decoder " + name)
}

// Prescan reports the names of the transforms prescan lets run on s.
func Prescan(s string) []string {
	f := prescan(s)
	var names []string
	for i, name := range [...]string{"upper", "nonascii", "leet", "join", "base64", "hex", "percent", "html", "rot13"} {
		if f&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// Spans returns the number of spans in v's mapping.
func Spans(v *View) int { return len(v.spans) }

// ConfusableEntries returns the confusable table as rune and letter pairs.
func ConfusableEntries() (runes []rune, letters []byte) {
	for _, e := range confusableTable {
		runes = append(runes, rune(e>>8))
		letters = append(letters, byte(e))
	}
	return runes, letters
}

// ViewsWithoutPrescan is Views with every transform tried, as if prescan
// had flagged them all, and any change folding makes taken as reshaping
// the text's ASCII words.
func ViewsWithoutPrescan(text string, opt Options) []View {
	n := normalizer{opt: opt.withDefaults(), noPrescan: true}
	n.f.reshapeAll = true
	return n.run(text)
}
