package normalize

// leetLetter maps the characters of leetspeak to the letter they stand
// for; 0 for any other byte. '1' is read as 'i' here and as 'l' in the
// "leet-l" view.
var leetLetter = func() (t [256]byte) {
	for _, p := range [...]string{"0o", "1i", "3e", "4a", "5s", "7t", "@a", "$s", "!i"} {
		t[p[0]] = p[1]
	}
	return t
}()

func isLower(c byte) bool { return c-'a' < 26 }

func isDigit(c byte) bool { return c-'0' < 10 }

// Kinds of leet token bytes, for leet's quick pass over plain words.
const (
	kLetter = 1 << iota // a-z
	kOther              // digits, '@', '$', '!'
)

var leetKind = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case isLower(b):
			t[c] = kLetter
		case leetTokenByte(b):
			t[c] = kOther
		}
	}
	return t
}()

// leetTokenByte reports whether c can be part of a leet token.
func leetTokenByte(c byte) bool { return isLower(c) || isDigit(c) || c == '@' || c == '$' || c == '!' }

// leetQualifies reports whether the token tok (lower-case letters, digits,
// '@', '$', '!') is a word written in leetspeak: it has at least two
// letters and a leet character, no digit without a letter reading (2, 6, 8, 9),
// is not hex-like (a hash or an id), and one or two leet characters sit
// inside the word ("b0mb", "k1ll", "cr@ck", "h4x0r").
// So "2 cups of 100 ml", "covid19", "mp3" and "4th" stay as written.
// next is the byte after the token (0 at the end), used to spare e-mail
// addresses ("bob@example.com").
func leetQualifies(tok string, next byte) bool {
	letters, leet, digits := 0, 0, 0
	hexish := true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isLower(c):
			letters++
			if c > 'f' {
				hexish = false
			}
		case isDigit(c):
			digits++
			if leetLetter[c] == 0 {
				return false
			}
			leet++
		default:
			hexish = false
			leet++
		}
	}
	if letters < 2 || leet == 0 || hexish && digits >= 3 || len(tok) > 24 {
		return false
	}
	if len(tok) > 2 && tok[0] == '0' && tok[1] == 'x' {
		return false // a hex number
	}
	if len(tok) == 4 && isLower(tok[0]) && isLower(tok[3]) && tok[1] != '0' && isDigit(tok[1]) && isDigit(tok[2]) {
		return false // a numeronym: i18n, l10n, a11y
	}
	for i := 1; i+1 < len(tok); i++ {
		if tok[i] == '@' && (next == '.' || next == '-') {
			return false // an e-mail address
		}
	}
	// A run of one or two leet characters with a letter before it and one
	// after it. (Leading leet characters are left alone: "4chan", "1tsp",
	// "3rds", "$HOME" and "@staticmethod" outnumber "3vil" by far.)
	for i := 1; i+1 < len(tok); i++ {
		if leetLetter[tok[i]] != 0 && isLower(tok[i-1]) {
			j := i
			for j < len(tok) && leetLetter[tok[j]] != 0 {
				j++
			}
			if j < len(tok) && isLower(tok[j]) && j-i <= 2 {
				return true
			}
			i = j
		}
	}
	return false
}

// plausibleWord reports whether tok, once its leet characters are read as
// letters, reads as an English-like word (by letter-pair cost), so random
// identifiers and base64 do not make leet views.
func plausibleWord(tok string, one byte) bool {
	var buf [24]byte
	w := buf[:0]
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if l := leetLetter[c]; l != 0 {
			c = l
			if tok[i] == '1' {
				c = one
			}
		}
		w = append(w, c)
	}
	cost, pairs := pairCost(string(w))
	return pairs > 0 && cost <= maxLeetPairCost*pairs
}

// maxLeetPairCost is a little above maxPairCost: leet words are short, and
// ambiguous readings ('1' as i or l) cost a little.
const maxLeetPairCost = 56

// leet returns src with the leetspeak words read as letters ('1' read as
// one), whether anything changed and whether some word held a '1'. The
// result has the same length as src, byte for byte.
func leet(src string, one byte) (string, bool, bool) {
	var out []byte
	sawOne := false
	words := 0
	// digitWords holds the offsets of two-digit tokens that read as words
	// ("15" as "is", "70" as "to"): in text that is itself leetspeak they
	// are words too, and are read as such when two or more other words
	// were.
	var digitWords [][2]int
	// Only tokens with a digit, '@', '$' or '!' can change, so the pass
	// jumps from one such byte to the next and reads the token around it
	// (plain words, most of the text, are not read one byte at a time).
	i := 0
	for {
		p := nextLeetByte(src, i, len(src))
		if p == len(src) {
			break
		}
		s := p
		for s > i && leetKind[src[s-1]] != 0 {
			s--
		}
		i = p + 1
		for i < len(src) && leetKind[src[i]] != 0 {
			i++
		}
		var next byte
		if i < len(src) {
			next = src[i]
		}
		tok := src[s:i]
		if leetDigitWord(tok, next) {
			digitWords = append(digitWords, [2]int{s, i})
			continue
		}
		if !leetQualifies(tok, next) || !plausibleWord(tok, 'i') && !plausibleWord(tok, 'l') {
			continue
		}
		if out == nil {
			out = []byte(src)
		}
		words++
		sawOne = leetWrite(out, s, tok, one) || sawOne
	}
	if out == nil {
		return src, false, false
	}
	if words >= minLeetWords {
		for _, w := range digitWords {
			sawOne = leetWrite(out, w[0], src[w[0]:w[1]], one) || sawOne
		}
	}
	return string(out), true, sawOne
}

// nextLeetByte returns the index of the first digit, '@', '$' or '!' in
// src[i:end], or end.
func nextLeetByte(src string, i, end int) int {
	const ones = 0x0101010101010101
	for ; i+8 <= end; i += 8 {
		x := load64(src, i)
		// Bytes in '0'..'9' (ASCII only: x&^highs drops the top bit, ^x
		// rules out bytes that had it), or equal to '@', '$' or '!'; a
		// few false hits are checked byte by byte below.
		low := x &^ highs
		m := (ones*(127+'9'+1) - low) & ^x & (low + ones*(127-('0'-1)))
		a, d, e := x^(ones*'@'), x^(ones*'$'), x^(ones*'!')
		m |= (a - ones) &^ a
		m |= (d - ones) &^ d
		m |= (e - ones) &^ e
		if m&highs == 0 {
			continue
		}
		for k := i; k < i+8; k++ {
			if leetKind[src[k]] == kOther {
				return k
			}
		}
	}
	for ; i < end; i++ {
		if leetKind[src[i]] == kOther {
			return i
		}
	}
	return end
}

// minLeetWords is how many leetspeak words a text needs before its short
// all-digit tokens are read as words too.
const minLeetWords = 2

// leetDigitWord reports whether tok is two digits that both stand for
// letters and read as a word ("15", "70"), not followed by a character
// that makes it a quantity or a version ("15%", "70.5"). Longer numbers
// stay numbers: "100" would read as "loo".
func leetDigitWord(tok string, next byte) bool {
	if len(tok) != 2 || next == '%' || next == '.' || next == ',' || next == ':' {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if !isDigit(tok[i]) || leetLetter[tok[i]] == 0 {
			return false
		}
	}
	return plausibleWord(tok, 'i') || plausibleWord(tok, 'l')
}

// leetWrite writes tok, at offset s of out, with its leet characters read
// as letters ('1' as one), and reports whether it held a '1'.
func leetWrite(out []byte, s int, tok string, one byte) bool {
	sawOne := false
	for k := 0; k < len(tok); k++ {
		c := tok[k]
		l := leetLetter[c]
		if l == 0 || c == '!' && (k == 0 || k == len(tok)-1) {
			continue
		}
		if c == '1' {
			sawOne = true
			l = one
		}
		out[s+k] = l
	}
	return sawOne
}

// isJoinSep reports whether c may separate the letters of a word written
// spaced or dotted apart ("b o m b", "b.o.m.b", "b-o-m-b", "b_o_m_b").
func isJoinSep(c byte) bool {
	switch c {
	case ' ', '.', '-', '_', '*', '~', '/', '\\', '|', '\t':
		return true
	}
	return false
}

func isAlnumByte(c byte) bool { return classes[c]&cAlnum != 0 }

// joinUnit reports whether src[i] stands alone as one letter of a spaced
// word: a letter or leet character with no letter or digit beside it.
func joinUnit(src string, i int) bool {
	c := src[i]
	if !isLower(c) && leetLetter[c] == 0 {
		return false
	}
	return (i == 0 || !isAlnumByte(src[i-1])) && (i+1 == len(src) || !isAlnumByte(src[i+1]))
}

// join writes into m and returns src with runs of at least three single
// letters (two of them real letters) separated by one to three separator
// characters joined into words; leet characters in a run are read as
// letters. It reports whether anything changed.
func join(src string, m *mapping) (string, bool) {
	var out []byte
	copied := 0
	for i := 0; i < len(src); i++ {
		if src[i] >= 0x80 {
			// no unit is a byte of another script: skip the run
			i = skipHigh(src, i, len(src)) - 1
			continue
		}
		if !joinUnit(src, i) {
			continue
		}
		units, letters := 1, 0
		if isLower(src[i]) {
			letters++
		}
		last := i
		sep := ""
		for {
			k := last + 1
			for k < len(src) && k-last-1 < 3 && isJoinSep(src[k]) {
				k++
			}
			if k == last+1 || k >= len(src) || !joinUnit(src, k) {
				break
			}
			// The letters of one word are set apart the same way.
			if sep == "" {
				sep = src[last+1 : k]
			} else if src[last+1:k] != sep {
				break
			}
			units++
			if isLower(src[k]) {
				letters++
			}
			last = k
		}
		if units < 3 || letters < 2 {
			// Runs starting at the units up to last share this run's
			// separator and end where it ends, with fewer letters: only
			// last may start a longer one (with another separator).
			if last > i {
				i = last - 1
			}
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(src))
		}
		if i > copied {
			m.lin(len(out), copied)
			out = append(out, src[copied:i]...)
		}
		for k := i; k <= last; k++ {
			if !joinUnit(src, k) {
				continue
			}
			c := src[k]
			if l := leetLetter[c]; l != 0 {
				c = l
			}
			m.lin(len(out), k)
			out = append(out, c)
		}
		copied = last + 1
		i = last
	}
	if out == nil {
		return src, false
	}
	if copied < len(src) {
		m.lin(len(out), copied)
		out = append(out, src[copied:]...)
	}
	return string(out), true
}
