package normalize

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// region is a byte range [start, end) of a text.
type region struct{ start, end int }

// decoding builds one decoded text: the source with every accepted
// candidate segment replaced by its decoding. Unchanged bytes map linearly
// to the source; decoded bytes map to the encoded bytes they came from (per
// base64 quantum, hex pair, escape or entity; per group of quanta for long
// tokens).
type decoding struct {
	out     []byte
	m       mapping
	regions []region // decoded pieces of out, where nested decoding looks
	pos     int      // src[:pos] has been copied or decoded
	limit   int      // out may not grow beyond this many bytes
	scratch []byte
}

func (d *decoding) reset(limit int) {
	d.out = d.out[:0]
	d.m.reset()
	d.regions = d.regions[:0]
	d.pos = 0
	d.limit = limit
}

// viewContext is how much unchanged text a decoded view keeps on each side
// of a decoded piece. Longer stretches between pieces are cut to this much
// and a line break, so decoding one token of a long document makes a short
// view, not a copy of the document.
const viewContext = 1024

// copyTo copies the unchanged text src[d.pos:to] that precedes a decoded
// piece at to, keeping at most viewContext bytes after the previous piece
// and before the next, and no more than the byte budget allows.
func (d *decoding) copyTo(src string, to int) {
	if to <= d.pos {
		return
	}
	if to-d.pos > 2*viewContext+64 {
		if d.pos > 0 || len(d.out) > 0 {
			e := runeBoundary(src, d.pos+viewContext)
			d.copyRaw(src, e)
			d.skip(src, to-viewContext)
		} else {
			d.pos = runeBoundary(src, to-viewContext)
		}
	}
	d.copyRaw(src, to)
}

// finish copies the text after the last decoded piece, at most
// viewContext bytes of it.
func (d *decoding) finish(src string) {
	end := len(src)
	if end-d.pos > viewContext+64 {
		end = runeBoundary(src, d.pos+viewContext)
	}
	d.copyRaw(src, end)
	d.pos = len(src)
}

// skip replaces src[d.pos:to] (to moved back to a rune boundary) by one
// line break mapped to the whole of it.
func (d *decoding) skip(src string, to int) {
	to = runeBoundary(src, to)
	if to <= d.pos || d.room() < 1 {
		d.pos = max(d.pos, to)
		return
	}
	d.m.block(len(d.out), d.pos, to)
	d.out = append(d.out, '\n')
	d.pos = to
}

// copyRaw copies src[d.pos:to] as it is, or as much as the budget allows:
// a view cut short by the budget ends early.
func (d *decoding) copyRaw(src string, to int) {
	if to <= d.pos {
		return
	}
	n := min(to-d.pos, d.room())
	if n > 0 {
		d.m.lin(len(d.out), d.pos)
		d.out = append(d.out, src[d.pos:d.pos+n]...)
	}
	d.pos = to
}

// runeBoundary moves i back to the start of the rune that holds it.
func runeBoundary(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for k := 0; k < 3 && i > 0 && !utf8.RuneStart(s[i]); k++ {
		i--
	}
	return i
}

// room reports how many more bytes out may take.
func (d *decoding) room() int { return d.limit - len(d.out) }

// mark records out[start:] as a decoded region.
func (d *decoding) mark(start int) {
	if k := len(d.regions); k > 0 && d.regions[k-1].end == start {
		// Adjacent pieces (entity after entity) form one region.
		d.regions[k-1].end = len(d.out)
		return
	}
	if len(d.out) > start {
		d.regions = append(d.regions, region{start, len(d.out)})
	}
}

// rollback forgets everything appended to out from start on.
func (d *decoding) rollback(start int) {
	d.out = d.out[:start]
	d.m.truncate(start)
}

// A decoder rewrites the candidates it finds inside regions of a text.
type decoder struct {
	name string
	flag scanFlags // the prescan flag without which it finds nothing
}

// The decoders, in the order Views tries them.
const (
	decBase64 = iota
	decHex
	decPercent
	decHTML
	decRot13
	numDecoders
)

var decoders = [numDecoders]decoder{
	decBase64:  {"base64", fBase64},
	decHex:     {"hex", fHex},
	decPercent: {"percent", fPercent},
	decHTML:    {"html", fHTML},
	decRot13:   {"rot13", fRot13},
}

// run runs decoder k over the regions of src into d and reports whether it
// decoded anything worth a view. (A switch, not a table of functions, so
// that d does not escape to the heap.)
func (d *decoding) run(k int, src string, regions []region) bool {
	switch k {
	case decBase64:
		return decodeBase64Candidates(d, src, regions)
	case decHex:
		return decodeHexCandidates(d, src, regions)
	case decPercent:
		return decodePercentCandidates(d, src, regions)
	case decHTML:
		return decodeHTMLCandidates(d, src, regions)
	case decRot13:
		return decodeRot13Candidates(d, src, regions)
	}
	return false
}

// Character classes for candidate scanning.
const (
	cB64Std = 1 << iota // A-Z a-z 0-9 + /
	cB64URL             // A-Z a-z 0-9 - _
	cHex                // 0-9 a-f A-F
	cAlnum              // A-Z a-z 0-9
	cUpper              // A-Z
	cDigit              // 0-9
)

var classes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= 'A' && b <= 'Z':
			t[c] = cB64Std | cB64URL | cAlnum | cUpper
		case b >= 'a' && b <= 'z':
			t[c] = cB64Std | cB64URL | cAlnum
		case b >= '0' && b <= '9':
			t[c] = cB64Std | cB64URL | cAlnum | cDigit | cHex
		case b == '+' || b == '/':
			t[c] = cB64Std
		case b == '-' || b == '_':
			t[c] = cB64URL
		}
		if b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' {
			t[c] |= cHex
		}
	}
	return t
}()

// b64val maps a base64 character of either alphabet to its value; 0xff
// marks bytes that are not base64.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['+'], t['-'] = 62, 62
	t['/'], t['_'] = 63, 63
	return t
}()

// b64Decode appends the decoding of s, base64 in the standard or the URL
// alphabet (not both), with or without '=' padding. It returns dst and
// false when s is not base64.
func b64Decode(dst []byte, s string) ([]byte, bool) {
	pad := 0
	for pad < 2 && len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
		pad++
	}
	if pad > 0 && (len(s)+pad)%4 != 0 || len(s)%4 == 1 {
		return dst, false
	}
	var std, url bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case b64val[c] == 0xff:
			return dst, false
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		}
	}
	if std && url {
		return dst, false
	}
	i := 0
	for ; i+4 <= len(s); i += 4 {
		v := uint32(b64val[s[i]])<<18 | uint32(b64val[s[i+1]])<<12 | uint32(b64val[s[i+2]])<<6 | uint32(b64val[s[i+3]])
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
	}
	switch len(s) - i {
	case 2:
		v := uint32(b64val[s[i]])<<18 | uint32(b64val[s[i+1]])<<12
		dst = append(dst, byte(v>>16))
	case 3:
		v := uint32(b64val[s[i]])<<18 | uint32(b64val[s[i+1]])<<12 | uint32(b64val[s[i+2]])<<6
		dst = append(dst, byte(v>>16), byte(v>>8))
	}
	return dst, true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// hexDecode appends the decoding of s, an even number of hex digits.
func hexDecode(dst []byte, s string) ([]byte, bool) {
	if len(s)%2 != 0 {
		return dst, false
	}
	for i := 0; i < len(s); i += 2 {
		a, b := unhex(s[i]), unhex(s[i+1])
		if a|b == 0xff || a > 15 || b > 15 {
			return dst, false
		}
		dst = append(dst, a<<4|b)
	}
	return dst, true
}

// textLike reports whether b reads as text: valid UTF-8, no control or
// invisible characters, and mostly letters, digits and spaces. Short texts
// must be mostly letters, so that random bytes that happen to be printable
// (the decoding of an ordinary word read as base64) are refused.
func textLike(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	good, letters, total := 0, 0, 0
	for i := 0; i < len(b); {
		c := b[i]
		total++
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ' || c == '\n' || c == '\t' || c == '\r':
				good++
				letters++
			case c < 0x20 || c == 0x7f:
				return false
			case classes[c]&cAlnum != 0:
				good++
				if classes[c]&cDigit == 0 {
					letters++
				}
			}
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r == utf8.RuneError || invisible(r) || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			good++
			letters++
		}
	}
	if total < 16 {
		return letters*10 >= total*8
	}
	return good*10 >= total*6
}

// trimPartial drops an incomplete UTF-8 sequence at the end of b (a
// decoding cut short by the byte budget).
func trimPartial(b []byte) []byte {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-k:]) {
				return b[:len(b)-k]
			}
			return b
		}
	}
	return b
}

// maxSpansPerToken bounds the mapping of one long token: beyond it decoded
// bytes map to groups of quanta rather than to each quantum.
const maxSpansPerToken = 256

// emitQuanta maps out[start:] (decoded from src[s:e] in quanta of in
// encoded bytes giving outq decoded bytes) back to src.
func (d *decoding) emitQuanta(start, s, e, in, outq int) {
	n := len(d.out) - start
	quanta := (n + outq - 1) / outq
	group := 1
	if quanta > maxSpansPerToken {
		group = (quanta + maxSpansPerToken - 1) / maxSpansPerToken
	}
	for q := 0; q < quanta; q += group {
		o := s + q*in
		oe := o + group*in
		if oe > e {
			oe = e
		}
		d.m.block(start+q*outq, o, oe)
	}
}

// sampleLen is how much of a long token is decoded and checked before the
// whole token is.
const sampleLen = 128

// decodeBase64Candidates decodes base64 tokens: maximal runs of one base64
// alphabet, at least 8 characters long counting padding, that contain a
// digit, an upper-case letter after the first character, '+' or '/', and
// whose decoding reads as text (see textLike). Ordinary words ("test",
// "Hello", "abcd") are too short, lack the mixture, or decode to bytes that
// are not text.
func decodeBase64Candidates(d *decoding, src string, regions []region) bool {
	found := false
	for _, rg := range regions {
		base64Tokens(src, rg, func(s, e int) {
			if d.tryBase64(src, s, e) {
				found = true
			}
		})
	}
	if found {
		d.finish(src)
	}
	return found
}

// base64Tokens calls fn with the bounds of each candidate token in
// src[rg.start:rg.end], in order: a maximal run of base64 bytes with up to
// two '=' of padding, at least 8 bytes long, holding the mixture
// base64Mixed wants and not a short hyphenated word. Only a run holding a
// digit, a capital, '+' or '/' can have the mixture, so the search jumps
// from one such byte to the next, eight bytes at a time through prose.
func base64Tokens(src string, rg region, fn func(s, e int)) {
	i := rg.start
	for {
		p := nextMixByte(src, i, rg.end)
		if p >= rg.end {
			return
		}
		s := p
		for s > i && classes[src[s-1]]&(cB64Std|cB64URL) != 0 {
			s--
		}
		i = p
		for i < rg.end && classes[src[i]]&(cB64Std|cB64URL) != 0 {
			i++
		}
		e := i
		for i < rg.end && i-e < 2 && src[i] == '=' {
			i++
		}
		if i < rg.end && src[i] == '=' {
			continue // more padding than base64 allows
		}
		if i-s < 8 || e-s < 6 || !base64Mixed(src[s:e]) {
			continue
		}
		if e-s < 16 && hyphenatedWord(src[s:e]) {
			continue // "Quick-Curl", "snake_case_name"
		}
		fn(s, i)
	}
}

// nextMixByte returns the index of the first digit, capital, '+' or '/' in
// src[i:end], or end.
func nextMixByte(src string, i, end int) int {
	const ones = 0x0101010101010101
	for ; i+8 <= end; i += 8 {
		x := load64(src, i)
		// Bytes in '0'..'9' or 'A'..'Z' (ASCII only: x&^highs drops the
		// top bit, ^x rules out bytes that had it), or equal to '+' or
		// '/'; a few false hits are checked byte by byte below.
		low := x &^ highs
		m := ((ones*(127+'9'+1) - low) & ^x & (low + ones*(127-('0'-1)))) |
			((ones*(127+'Z'+1) - low) & ^x & (low + ones*(127-('A'-1))))
		y, z := x^(ones*'+'), x^(ones*'/')
		m |= (y - ones) &^ y
		m |= (z - ones) &^ z
		if m&highs == 0 {
			continue
		}
		for k := i; k < i+8; k++ {
			if mixByte[src[k]] {
				return k
			}
		}
	}
	for ; i < end; i++ {
		if mixByte[src[i]] {
			return i
		}
	}
	return end
}

var mixByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = classes[c]&(cDigit|cUpper) != 0 || c == '+' || c == '/'
	}
	return
}()

// base64Mixed reports whether the base64 token tok mixes what base64
// mixes and words do not: a digit, an upper-case letter after the first
// byte, or '+' or '/'.
func base64Mixed(tok string) bool {
	for i := 0; i < len(tok); i++ {
		cl := classes[tok[i]]
		if cl&cDigit != 0 || cl&cUpper != 0 && i > 0 || cl&cAlnum == 0 && cl&cB64Std != 0 {
			return true
		}
	}
	return false
}

// hyphenatedWord reports whether tok is letters joined by '-' or '_' (no
// digit, no '+' or '/'): prose or an identifier rather than base64.
func hyphenatedWord(tok string) bool {
	joined := false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c == '-' || c == '_':
			joined = true
		case classes[c]&cAlnum == 0 || classes[c]&cDigit != 0:
			return false
		}
	}
	return joined
}

// tryBase64 decodes the token src[s:e] into d when it decodes to text.
func (d *decoding) tryBase64(src string, s, e int) bool {
	tok := src[s:e]
	// Check a sample first so megabytes of binary base64 cost little.
	if len(tok) > sampleLen {
		var ok bool
		d.scratch, ok = b64Decode(d.scratch[:0], tok[:sampleLen])
		if !ok || !textLike(trimPartial(d.scratch)) {
			return false
		}
	}
	room := d.room() - (s - d.pos)
	if room < 3 {
		return false
	}
	if maxIn := room / 3 * 4; len(tok) > maxIn {
		tok = tok[:maxIn] // decode what the budget allows
	}
	d.copyTo(src, s)
	start := len(d.out)
	var ok bool
	d.out, ok = b64Decode(d.out, tok)
	if !ok {
		d.rollback(start)
		return false
	}
	if len(tok) < e-s {
		d.out = trimPartial(d.out)
	}
	if !textLike(d.out[start:]) {
		d.rollback(start)
		return false
	}
	d.emitQuanta(start, s, s+len(tok), 4, 3)
	d.mark(start)
	d.pos = e // the rest of a token cut short by the budget is dropped
	return true
}

// decodeHexCandidates decodes hex: whole alphanumeric tokens of an even
// number (at least 8) of hex digits with a letter a-f and a digit, with an
// optional 0x prefix ("626f6d62"); runs of \xNN escapes ("\x62\x6f\x6d");
// and runs of at least four two-digit pairs separated by one space, colon
// or dash ("62 6f 6d 62"), one of them with a digit. The decoding must
// read as text.
func decodeHexCandidates(d *decoding, src string, regions []region) bool {
	found := false
	for _, rg := range regions {
		i := rg.start
		for i < rg.end {
			c := src[i]
			if c == '\\' && i+3 < rg.end && src[i+1] == 'x' {
				if e := d.tryHexEscapes(src, i, rg.end); e > i {
					found = true
					i = e
					continue
				}
				i++
				continue
			}
			if classes[c]&cAlnum == 0 || i > rg.start && classes[src[i-1]]&cAlnum != 0 {
				i++
				continue
			}
			// A token starts at i.
			s := i
			for i < rg.end && classes[src[i]]&cAlnum != 0 {
				i++
			}
			e := i
			hs := s
			if e-s > 2 && src[s] == '0' && (src[s+1] == 'x' || src[s+1] == 'X') {
				hs = s + 2
			}
			if hs == s && e-s == 2 && i < rg.end && (src[i] == ' ' || src[i] == ':' || src[i] == '-') {
				if pe := d.tryHexPairs(src, s, rg.end); pe > s {
					found = true
					i = pe
				}
				continue
			}
			if e-hs < 8 || (e-hs)%2 != 0 {
				continue
			}
			letter, digit := false, false
			hexOnly := true
			for k := hs; k < e; k++ {
				cl := classes[src[k]]
				if cl&cHex == 0 {
					hexOnly = false
					break
				}
				if cl&cDigit == 0 {
					letter = true
				} else {
					digit = true
				}
			}
			// Hex of text always has digits: every ASCII byte is 2x-7x and
			// no UTF-8 text is made only of bytes AA..FF.
			if !hexOnly || !letter || !digit {
				continue
			}
			if d.tryHex(src, s, hs, e) {
				found = true
			}
		}
	}
	if found {
		d.finish(src)
	}
	return found
}

// tryHex decodes the contiguous hex digits src[hs:e] (token src[s:e]).
func (d *decoding) tryHex(src string, s, hs, e int) bool {
	tok := src[hs:e]
	if len(tok) > sampleLen {
		var ok bool
		d.scratch, ok = hexDecode(d.scratch[:0], tok[:sampleLen])
		if !ok || !textLike(trimPartial(d.scratch)) {
			return false
		}
	}
	room := d.room() - (s - d.pos)
	if room < 1 {
		return false
	}
	if len(tok) > 2*room {
		tok = tok[:2*room]
	}
	d.copyTo(src, s)
	start := len(d.out)
	var ok bool
	d.out, ok = hexDecode(d.out, tok)
	if !ok {
		d.rollback(start)
		return false
	}
	if len(tok) < e-hs {
		d.out = trimPartial(d.out)
	}
	if !textLike(d.out[start:]) {
		d.rollback(start)
		return false
	}
	// The 0x prefix belongs to the first byte.
	d.emitQuanta(start, hs, hs+len(tok), 2, 1)
	if hs > s && len(d.m.spans) > 0 {
		last := len(d.m.spans) - 1
		for k := last; k >= 0 && int(d.m.spans[k].v) >= start; k-- {
			if int(d.m.spans[k].v) == start {
				d.m.spans[k].n += d.m.spans[k].o - int32(s)
				d.m.spans[k].o = int32(s)
			}
		}
	}
	d.mark(start)
	d.pos = e
	return true
}

// tryHexEscapes decodes a run of at least three \xNN escapes starting at s.
// It returns the end of the run, or s when it decoded nothing.
func (d *decoding) tryHexEscapes(src string, s, end int) int {
	e := s
	for e+3 < end && src[e] == '\\' && src[e+1] == 'x' && classes[src[e+2]]&cHex != 0 && classes[src[e+3]]&cHex != 0 {
		e += 4
	}
	return d.tryHexUnits(src, s, e, 4, 2)
}

// tryHexPairs decodes a run of at least four two-digit hex pairs starting
// at s and separated by one separator character.
func (d *decoding) tryHexPairs(src string, s, end int) int {
	sep := src[s+2]
	e := s
	for e+1 < end && classes[src[e]]&cHex != 0 && classes[src[e+1]]&cHex != 0 &&
		(e+2 == end || classes[src[e+2]]&cAlnum == 0) {
		e += 2
		if e+2 < end && src[e] == sep && classes[src[e+1]]&cHex != 0 {
			e++
			continue
		}
		break
	}
	return d.tryHexUnits(src, s, e, 3, 0)
}

// tryHexUnits decodes src[s:e], a run of units each width bytes long (the
// last one may lack a trailing separator) with two hex digits at offset
// off. It needs at least three units for escapes and four for pairs.
func (d *decoding) tryHexUnits(src string, s, e, width, off int) int {
	units := (e - s + width - 1) / width
	if width == 4 {
		units = (e - s) / 4
	}
	if units < 3 || width == 3 && units < 4 {
		return s
	}
	if width == 3 {
		// As for contiguous hex, some pair must have a digit.
		digit := false
		for p := s; p < e; p++ {
			if classes[src[p]]&cDigit != 0 {
				digit = true
				break
			}
		}
		if !digit {
			return s
		}
	}
	room := d.room() - (s - d.pos)
	if units > room {
		return s
	}
	d.copyTo(src, s)
	start := len(d.out)
	for u := 0; u < units; u++ {
		p := s + u*width + off
		d.m.block(len(d.out), s+u*width, min(s+u*width+width, e))
		d.out = append(d.out, unhex(src[p])<<4|unhex(src[p+1]))
	}
	if !textLike(d.out[start:]) {
		d.rollback(start)
		return s
	}
	d.mark(start)
	d.pos = e
	return e
}

// decodePercentCandidates decodes %XX escapes. A run of escapes whose bytes
// are not valid UTF-8 stays encoded. The view is kept only when escapes
// hide non-ASCII text, two letters or digits, or one inside a word, or
// there are four escapes or more, so a URL with a lone %20 or a printf
// format "%32d" does not make a view.
func decodePercentCandidates(d *decoding, src string, regions []region) bool {
	count, alnum, interesting := 0, 0, false
	for _, rg := range regions {
		i := rg.start
		for i+2 < rg.end {
			if src[i] != '%' {
				// jump to the next '%' (IndexByte reads many bytes at
				// a time)
				k := strings.IndexByte(src[i:rg.end-2], '%')
				if k < 0 {
					break
				}
				i += k
			}
			if unhex(src[i+1]) > 15 || unhex(src[i+2]) > 15 {
				i++
				continue
			}
			s := i
			for i+2 < rg.end && src[i] == '%' && unhex(src[i+1]) <= 15 && unhex(src[i+2]) <= 15 {
				i += 3
			}
			n := (i - s) / 3
			if n > d.room()-(s-d.pos) {
				break
			}
			d.copyTo(src, s)
			start := len(d.out)
			before := alnum
			for k := 0; k < n; k++ {
				p := s + 3*k
				d.m.block(len(d.out), p, p+3)
				b := unhex(src[p+1])<<4 | unhex(src[p+2])
				d.out = append(d.out, b)
				switch {
				case b >= utf8.RuneSelf:
					interesting = true
				case classes[b]&cAlnum != 0:
					alnum++
				}
			}
			if !utf8.Valid(d.out[start:]) {
				d.rollback(start)
				d.copyTo(src, i)
				continue
			}
			count += n
			if alnum > before && (alnum >= 2 || s > 0 && classes[src[s-1]]&cAlnum != 0 || i < len(src) && classes[src[i]]&cAlnum != 0) {
				// A letter escaped inside a word, or two of them.
				interesting = true
			}
			d.mark(start)
			d.pos = i
		}
	}
	if count == 0 || !interesting && count < 4 {
		return false
	}
	d.finish(src)
	return true
}

// htmlEntity parses the character reference at the start of s ("&#98;",
// "&#x62;", "&amp;"). It returns the decoded text and the length of the
// reference, or n == 0 when s does not start with one. Numeric references
// may omit the ';'; named ones need it.
func htmlEntity(s string) (string, int, bool) {
	if len(s) < 3 || s[0] != '&' {
		return "", 0, false
	}
	if s[1] == '#' {
		i, base := 2, rune(10)
		if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
			i, base = 3, 16
		}
		start := i
		var r rune
		for i < len(s) && i-start < 8 {
			v := rune(unhex(s[i]))
			if v > 15 || base == 10 && v > 9 {
				break
			}
			r = r*base + v
			i++
		}
		if i == start || i-start == 8 {
			return "", 0, false
		}
		if i < len(s) && s[i] == ';' {
			i++
		}
		if r <= 0 || r > unicode.MaxRune || r >= 0xD800 && r <= 0xDFFF {
			return "", 0, false
		}
		return string(r), i, true
	}
	i := 1
	for i < len(s) && i <= 32 && classes[s[i]]&cAlnum != 0 {
		i++
	}
	if i < 3 || i >= len(s) || s[i] != ';' {
		return "", 0, false
	}
	ref := s[:i+1]
	dec := html.UnescapeString(ref)
	if dec == ref {
		return "", 0, false
	}
	return dec, i + 1, false
}

// decodeHTMLCandidates decodes HTML character references. The view is kept
// when there is a numeric reference, a named one other than the everyday
// &amp; &lt; &gt; &quot; &apos; &nbsp;, or at least two references, so a
// lone "Tom &amp; Jerry" does not make a view.
func decodeHTMLCandidates(d *decoding, src string, regions []region) bool {
	count, interesting := 0, false
	for _, rg := range regions {
		i := rg.start
		for i < rg.end {
			k := strings.IndexByte(src[i:rg.end], '&')
			if k < 0 {
				break
			}
			i += k
			dec, n, numeric := htmlEntity(src[i:rg.end])
			if n == 0 {
				i++
				continue
			}
			if len(dec) > d.room()-(i-d.pos) {
				break
			}
			d.copyTo(src, i)
			start := len(d.out)
			d.out = append(d.out, dec...)
			d.m.block(start, i, i+n)
			d.mark(start)
			if numeric {
				interesting = true
			} else {
				switch name := src[i+1 : i+n-1]; name {
				case "amp":
					if i+n < rg.end && (src[i+n] == '#' || isASCIILetter(src[i+n])) {
						interesting = true // double-encoded
					}
				case "lt", "gt", "quot", "apos", "nbsp":
				default:
					interesting = true
				}
			}
			count++
			i += n
			d.pos = i
		}
	}
	if count == 0 || !interesting && count < 2 {
		return false
	}
	d.finish(src)
	return true
}
