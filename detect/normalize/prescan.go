package normalize

// What prescan found: which transforms can change the text. Each flag is a
// superset of what the exact transform accepts, so a clear flag lets Views
// skip that transform's own pass; a set flag only means "look closer".
type scanFlags uint16

const (
	fUpper    scanFlags = 1 << iota // an ASCII upper-case letter
	fNonASCII                       // a byte >= 0x80 (or invalid UTF-8)
	fLeet                           // letters mixed with leet characters
	fJoin                           // three single letters in a row
	fBase64                         // a base64-like run
	fHex                            // a hex token, \x escapes or hex pairs
	fPercent                        // a %XX escape
	fHTML                           // '&' starting a character reference
	fRot13                          // a chunk that reads as rotated English
)

// Byte classes for prescan.
const (
	pLower   = 1 << iota // a-z
	pUpper               // A-Z
	pDigit               // 0-9
	pLeetDig             // 0 1 3 4 5 7
	pHex                 // 0-9 a-f A-F
	pB64Sym              // + / - _
	pSep                 // separators of spaced letters
	pChunk               // rot13 chunk ends
	pSpecial             // % & \ @ $ ! and bytes >= 0x80
	pNonHex              // letters after f
)

const pAlnum = pLower | pUpper | pDigit

var pclass = func() (t [256]uint16) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case b >= 'a' && b <= 'z':
			t[c] |= pLower
		case b >= 'A' && b <= 'Z':
			t[c] |= pUpper
		case b >= '0' && b <= '9':
			t[c] |= pDigit
		}
		if leetLetter[b] != 0 && t[c]&pDigit != 0 {
			t[c] |= pLeetDig
		}
		if classes[b]&cHex != 0 {
			t[c] |= pHex
		} else if classes[b]&cAlnum != 0 {
			t[c] |= pNonHex
		}
		if b == '+' || b == '/' || b == '-' || b == '_' {
			t[c] |= pB64Sym
		}
		if isJoinSep(b) {
			t[c] |= pSep
		}
		if isChunkEnd(b) {
			t[c] |= pChunk
		}
		switch {
		case b == '%', b == '&', b == '\\', b == '@', b == '$', b == '!', b >= 0x80:
			t[c] |= pSpecial
		}
	}
	return t
}()

// rotGain[a*26+b] is the gain of reading the pair ab rotated by 13 (see
// rot13Gain).
var rotGain = func() (t [26 * 26]int16) {
	for a := 0; a < 26; a++ {
		for b := 0; b < 26; b++ {
			t[a*26+b] = int16(bigramCost[a*26+b]) - int16(bigramCost[(a+13)%26*26+(b+13)%26])
		}
	}
	return t
}()

// prescanWindow is the token-by-token scan prescan runs on the windows
// around trigger bytes (with rot13 false) and tests run on whole texts.
func prescanWindow(s string, rot bool) scanFlags {
	var f scanFlags
	n := len(s)
	// rot13 probe of the current chunk
	prev, gain, pairs, done := -1, 0, 0, false
	// base64 run: alphanumeric tokens joined by + / - _
	b64Start, b64Mixed := -1, false
	// spaced letters and hex pairs
	lastUnit, units, sepOnly := -1, 0, false
	lastPair, pairRun := -1, 0
	i := 0
	for i < n {
		c := s[i]
		k := pclass[c]
		if k&pAlnum != 0 {
			// An alphanumeric token.
			t := i
			or, orRest := k, uint16(0)
			if k&pDigit == 0 {
				x := int(c|0x20) - 'a'
				if prev >= 0 && !done {
					gain += int(rotGain[prev*26+x])
					pairs++
				}
				prev = x
			} else {
				prev = -1
			}
			i++
			if !done {
				for i < n {
					c = s[i]
					k = pclass[c]
					if k&pAlnum == 0 {
						break
					}
					orRest |= k
					if k&pDigit == 0 {
						x := int(c|0x20) - 'a'
						if prev >= 0 {
							gain += int(rotGain[prev*26+x])
							pairs++
						}
						prev = x
					} else {
						prev = -1
					}
					i++
				}
				if pairs >= rot13Probe && gain < 0 {
					done = true
				}
			} else {
				for i < n {
					k = pclass[s[i]]
					if k&pAlnum == 0 {
						break
					}
					orRest |= k
					i++
				}
			}
			or |= orRest
			prev = -1
			l := i - t
			if or&(pDigit|pUpper) == 0 && l >= 3 && l < 8 {
				// The common case, a short lower-case word: it only
				// extends a base64 run and breaks spaced letters and hex
				// pairs.
				if b64Start < 0 {
					b64Start, b64Mixed = t, false
				}
				units, pairRun = 0, 0
				continue
			}
			if or&pUpper != 0 {
				f |= fUpper
			}
			// base64
			if b64Start < 0 {
				b64Start = t
				b64Mixed = or&pDigit != 0 || orRest&pUpper != 0
			} else if or&(pDigit|pUpper) != 0 {
				b64Mixed = true
			}
			// leetspeak: letters and leet digits in one token
			if or&pLeetDig != 0 && or&(pLower|pUpper) != 0 {
				f |= fLeet
			}
			// hex
			if or&(pLower|pUpper) != 0 && l >= 8 {
				if or&pNonHex == 0 || l > 2 && s[t] == '0' && s[t+1]|0x20 == 'x' {
					f |= fHex
				}
			}
			if l == 2 && or&pNonHex == 0 {
				if lastPair >= 0 && t-lastPair == 1 && (s[lastPair] == ' ' || s[lastPair] == ':' || s[lastPair] == '-') {
					pairRun++
					if pairRun >= 4 {
						f |= fHex
					}
				} else {
					pairRun = 1
				}
				lastPair = i
			} else {
				pairRun = 0
			}
			// spaced letters
			if l == 1 {
				if lastUnit >= 0 && sepOnly && t-lastUnit <= 3 {
					units++
					if units >= 3 {
						f |= fJoin
					}
				} else {
					units = 1
				}
				lastUnit, sepOnly = i, true
			} else {
				units = 0
			}
			continue
		}
		// Not alphanumeric.
		if c == ' ' {
			// The commonest separator: it ends a base64 run and nothing
			// else.
			if b64Start >= 0 {
				if b64Mixed && i-b64Start >= 6 {
					f |= fBase64
				}
				b64Start = -1
			}
			prev = -1
			i++
			continue
		}
		if k&pChunk != 0 {
			if rot && !done && pairs >= minRot13Pairs && gain > rot13Margin*pairs {
				f |= fRot13
			}
			gain, pairs, done = 0, 0, false
		}
		prev = -1
		if k&pB64Sym == 0 {
			if b64Start >= 0 && b64Mixed && i-b64Start >= 6 {
				f |= fBase64
			}
			b64Start = -1
		} else {
			if b64Start < 0 {
				b64Start, b64Mixed = i, false
			}
			if c == '+' || c == '/' {
				b64Mixed = true
			}
		}
		if k&pSep == 0 && c != '@' && c != '$' && c != '!' {
			sepOnly = false
		}
		if k&pSpecial != 0 {
			switch {
			case c >= 0x80:
				f |= fNonASCII
				// Skip the rest of the run: to the checks here it is
				// one separator.
				i = skipHigh(s, i+1, n) - 1
			case c == '%':
				if i+2 < n && pclass[s[i+1]]&pHex != 0 && pclass[s[i+2]]&pHex != 0 {
					f |= fPercent
				}
			case c == '&':
				if i+1 < n && (s[i+1] == '#' || pclass[s[i+1]]&(pLower|pUpper) != 0) {
					f |= fHTML
				}
			case c == '\\':
				if i+1 < n && s[i+1] == 'x' {
					f |= fHex
				}
			default: // @ $ !
				before := i > 0 && pclass[s[i-1]]&pAlnum != 0
				after := i+1 < n && pclass[s[i+1]]&pAlnum != 0
				if before || after {
					f |= fLeet
					sepOnly = false
				} else {
					// A lone leet character can be a spaced letter.
					if lastUnit >= 0 && sepOnly && i-lastUnit <= 3 {
						units++
						if units >= 3 {
							f |= fJoin
						}
					} else {
						units = 1
					}
					lastUnit, sepOnly = i+1, true
				}
			}
		}
		i++
	}
	if b64Start >= 0 && b64Mixed && n-b64Start >= 6 {
		f |= fBase64
	}
	if !done && pairs >= minRot13Pairs && gain > rot13Margin*pairs {
		f |= fRot13
	}
	if !rot {
		f &^= fRot13
	}
	return f
}

// Bits of ptrig.
const (
	tAlnum = 1 << iota // a letter or digit
	tTrig              // a byte prescan must look at
)

// ptrig marks the bytes that stop prescan's fast loop: upper-case letters,
// digits, the characters of encodings and leetspeak (% & \ @ $ ! + /),
// rot13 chunk ends and every byte >= 0x80.
var ptrig = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if classes[b]&cAlnum != 0 {
			t[c] |= tAlnum
		}
		switch {
		case b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b >= 0x80, isChunkEnd(b):
			t[c] |= tTrig
		}
		switch b {
		case '%', '&', '\\', '@', '$', '!', '+', '/':
			t[c] |= tTrig
		}
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// prescan reads s and reports which transforms may change it. A fast loop
// skips the bytes of ordinary lower-case text; it stops at trigger bytes
// (see ptrig), whose surrounding token prescanWindow then examines, and at
// letters standing alone, where a run of spaced letters may start. rot13
// is probed once per chunk.
func prescan(s string) scanFlags {
	var f scanFlags
	n := len(s)
	chunk := 0 // start of the current rot13 chunk
	done := 0  // s[:done] has been examined around triggers
	// a1 and a2 say whether s[i-1] and s[i-2] are letters or digits.
	var a1, a2 uint8
	i := 0
	for {
		for i < n {
			t := ptrig[s[i]]
			if t&tTrig != 0 || a1&^a2&^t != 0 {
				break
			}
			a2, a1 = a1, t&tAlnum
			i++
		}
		if i >= n {
			if a1&^a2 != 0 { // a letter alone at the very end
				f |= joinChain(s, n-1)
			}
			break
		}
		if a1&^a2&^ptrig[s[i]]&tAlnum != 0 {
			// s[i-1] stands alone: spaced letters may start there.
			f |= joinChain(s, i-1)
		}
		c := s[i]
		if ptrig[c]&tTrig == 0 {
			a2, a1 = a1, ptrig[c]&tAlnum
			i++
			continue
		}
		next := i + 1
		switch {
		case c >= 0x80:
			f |= fNonASCII | probeRot13(s[chunk:i])
			next = skipHigh(s, next, n)
			chunk = next
		case isChunkEnd(c) && c != '!':
			f |= probeRot13(s[chunk:i])
			chunk = next
		default:
			if c == '!' {
				f |= probeRot13(s[chunk:i])
				chunk = next
			}
			// The whitespace-delimited token around the trigger.
			ws := i
			for ws > done && !isSpace(s[ws-1]) {
				ws--
			}
			we := next
			for we < n && !isSpace(s[we]) {
				we++
			}
			f |= prescanWindow(s[ws:we], false)
			if c >= '0' && c <= '9' {
				f |= hexPairsAround(s, i)
			}
			// Spaced letters starting inside the window.
			for k := ws; k < we && f&fJoin == 0; k++ {
				if joinUnitAt(s, k) {
					f |= joinChain(s, k)
				}
			}
			// Chunk ends inside the window still end rot13 chunks.
			for k := next; k < we; k++ {
				if isChunkEnd(s[k]) {
					f |= probeRot13(s[chunk:k])
					if s[k] >= 0x80 {
						// each byte of the run ends an empty chunk
						k = skipHigh(s, k, we) - 1
					}
					chunk = k + 1
				}
			}
			next = we
		}
		done = next
		i = next
		a1, a2 = 0, 0
		if i >= 1 {
			a1 = ptrig[s[i-1]] & tAlnum
		}
		if i >= 2 {
			a2 = ptrig[s[i-2]] & tAlnum
		}
	}
	return f | probeRot13(s[chunk:])
}

// joinChain returns fJoin when a run of at least three single characters
// (letters, digits or @ $ !, each with no letter or digit beside it) set
// apart by one to three separators starts at s[u].
func joinChain(s string, u int) scanFlags {
	unit := func(k int) bool { return joinUnitAt(s, k) }
	units, last := 1, u
	for units < 3 {
		k := last + 1
		for k < len(s) && k-last-1 < 3 && isJoinSep(s[k]) {
			k++
		}
		if k == last+1 || k >= len(s) || !unit(k) {
			return 0
		}
		units++
		last = k
	}
	return fJoin
}

// joinUnitAt reports whether s[k] is a letter, digit or @ $ ! with no
// letter or digit beside it.
func joinUnitAt(s string, k int) bool {
	c := s[k]
	if ptrig[c]&tAlnum == 0 && c != '@' && c != '$' && c != '!' {
		return false
	}
	return (k == 0 || ptrig[s[k-1]]&tAlnum == 0) && (k+1 == len(s) || ptrig[s[k+1]]&tAlnum == 0)
}

// hexPairsAround returns fHex when the digit at s[p] sits in a run of at
// least four two-digit hex pairs set apart by ' ', ':' or '-'.
func hexPairsAround(s string, p int) scanFlags {
	isHex := func(k int) bool { return k >= 0 && k < len(s) && classes[s[k]]&cHex != 0 }
	isAl := func(k int) bool { return k >= 0 && k < len(s) && classes[s[k]]&cAlnum != 0 }
	// The pair holding p.
	a := p
	if isHex(p - 1) {
		a = p - 1
	}
	if !isHex(a) || !isHex(a+1) || isAl(a-1) || isAl(a+2) {
		return 0
	}
	pairSep := func(k int) bool { return k >= 0 && k < len(s) && (s[k] == ' ' || s[k] == ':' || s[k] == '-') }
	// Four pairs are enough: looking no further keeps a long run of
	// pairs linear.
	count := 1
	for b := a; count < 4 && pairSep(b-1) && isHex(b-3) && isHex(b-2) && !isAl(b-4); b -= 3 {
		count++
	}
	for b := a; count < 4 && pairSep(b+2) && isHex(b+3) && isHex(b+4) && !isAl(b+5); b += 3 {
		count++
	}
	if count >= 4 {
		return fHex
	}
	return 0
}

// probeRot13 returns fRot13 when the chunk reads better rotated (the
// test of rot13Chunk without its English check, so a superset of it).
func probeRot13(s string) scanFlags {
	gain, pairs, prev := 0, 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			prev = -1
			continue
		}
		x := int(c - 'a')
		if prev >= 0 {
			gain += int(rotGain[prev*26+x])
			pairs++
			if pairs >= rot13Probe && gain < 0 {
				return 0
			}
		}
		prev = x
	}
	if pairs >= minRot13Pairs && gain > rot13Margin*pairs {
		return fRot13
	}
	return 0
}
