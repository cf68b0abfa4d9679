package pii

import (
	"net/netip"
	"strings"
)

// scanEmails finds addr-spec emails: a local part, '@', and a domain of
// dot-separated labels ending in an alphabetic TLD.
func scanEmails(text string, emit func(string, int, int)) {
	for i := 0; i < len(text); i++ {
		k := strings.IndexByte(text[i:], '@')
		if k < 0 {
			return
		}
		i += k
		s := i
		for s > 0 && i-s < 64 && localByte(text[s-1]) {
			s--
		}
		for s < i && (text[s] == '.' || text[s] == '-') {
			s++
		}
		if s == i || text[i-1] == '.' {
			continue
		}
		e := i + 1
		for e < len(text) && e-i <= 253 && (isAlnum(text[e]) || text[e] == '.' || text[e] == '-') {
			e++
		}
		for e > i+1 && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		if validDomain(text[i+1 : e]) {
			emit(Email, s, e)
			i = e - 1
		}
	}
}

func localByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func validDomain(d string) bool {
	labels, last, start := 0, "", 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			continue
		}
		l := d[start:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		last = l
		start = i + 1
	}
	if labels < 2 || len(last) < 2 {
		return false
	}
	for i := 0; i < len(last); i++ {
		if !isAlpha(last[i]) {
			return false
		}
	}
	return true
}

// numRun is a run of digits with single separators between them.
type numRun struct {
	s, e   int
	digits [20]byte
	n      int  // digits, up to 20 counted
	seps   int  // separator count
	sep    byte // the separator when all are the same, else 0xff
	plus   bool // starts with '+'
	paren  bool // has ( or )
	groups [8]int
	ng     int
}

// numberAt reads the digit run starting at i, such as
// "4111 1111-1111 1111", "+86 138 0013 8000" or "(415) 555-2671", and
// classifies it. It returns the offset to continue scanning from.
func numberAt(text string, i int, emit func(string, int, int)) int {
	c := text[i]
	if !isDigit(c) && !((c == '+' || c == '(') && isDigit(at(text, i+1))) {
		return i + 1
	}
	if p := before(text, i); isAlnum(p) || p == '_' || p == '.' || p == '-' || p == '/' || p == '+' || (p == ',' && isDigit(before(text, i-1))) {
		// Inside a longer token: skip to its end.
		for i < len(text) && (isAlnum(text[i]) || text[i] == '.' || text[i] == '-') {
			i++
		}
		return i
	}
	{
		var r numRun
		r.s, r.sep = i, 0
		j := i
		if c == '+' {
			r.plus = true
			j++
		}
		for j < len(text) {
			c := text[j]
			if isDigit(c) {
				if r.n < len(r.digits) {
					r.digits[r.n] = c
				}
				r.n++
				if r.ng == 0 || !isDigit(text[j-1]) {
					if r.ng < len(r.groups) {
						r.ng++
					}
				}
				if r.ng > 0 && r.ng <= len(r.groups) {
					r.groups[r.ng-1]++
				}
				j++
				continue
			}
			// One separator (or "(" / ") ") followed by a digit continues the run.
			k := j
			switch {
			case c == ' ' || c == '-' || c == '.':
				k = j + 1
			case c == '(' || c == ')':
				k = j + 1
				if at(text, k) == ' ' {
					k++
				}
				r.paren = true
			default:
				k = j
			}
			if k == j || !isDigit(at(text, k)) || r.n > 20 {
				break
			}
			if c != '(' && c != ')' {
				if r.sep == 0 {
					r.sep = c
				} else if r.sep != c {
					r.sep = 0xff
				}
			}
			r.seps++
			j = k
		}
		r.e = j
		if r.n == 0 || r.n > 20 {
			return max(j, i+1)
		}
		// The run must end at a boundary.
		if n := at(text, r.e); isAlpha(n) && !((n == 'X' || n == 'x') && r.n == 17 && r.seps == 0) || n == '_' {
			return max(j, i+1)
		}
		classify(text, &r, emit)
		return max(r.e, i+1)
	}
}

func classify(text string, r *numRun, emit func(string, int, int)) {
	d := r.digits[:min(r.n, len(r.digits))]
	// Chinese resident ID: 17 digits and a check character (digit or X).
	if r.seps == 0 && !r.plus && text[r.s] != '(' {
		if r.n == 17 && (at(text, r.e) == 'X' || at(text, r.e) == 'x') && !isAlnum(at(text, r.e+1)) {
			if validCNID(text[r.s : r.e+1]) {
				r.e++
				emit(CNResidentID, r.s, r.e)
			}
			return
		}
		if r.n == 18 && validCNID(text[r.s:r.e]) {
			emit(CNResidentID, r.s, r.e)
			return
		}
	}
	if r.n >= 13 && r.n <= 19 && !r.plus && !r.paren && (r.sep == 0 || r.sep == ' ' || r.sep == '-') && validCard(d) {
		emit(CreditCard, r.s, r.e)
		return
	}
	if r.n == 9 && r.ng == 3 && r.groups[0] == 3 && r.groups[1] == 2 && r.groups[2] == 4 && (r.sep == '-' || r.sep == ' ') && !r.plus && !r.paren && validSSN(d) {
		emit(USSSN, r.s, r.e)
		return
	}
	if isPhone(r, d) {
		s := r.s
		emit(Phone, s, r.e)
	}
}

func isPhone(r *numRun, d []byte) bool {
	if r.sep == '.' && !(r.n == 10 && r.ng == 3 && r.groups[0] == 3 && r.groups[1] == 3 && r.groups[2] == 4) {
		return false
	}
	switch {
	case r.plus:
		// E.164: country code and subscriber number, 8 to 15 digits.
		return r.n >= 8 && r.n <= 15 && d[0] != '0'
	case r.n == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' && r.sep != '.':
		// Chinese mobile, 1[3-9]x xxxx xxxx.
		return r.seps == 0 || r.ng == 3 && r.groups[0] == 3 && r.groups[1] == 4
	case r.n == 13 && string(d[:2]) == "86" && d[2] == '1' && d[3] >= '3' && d[3] <= '9':
		return r.seps == 0 || r.ng >= 2 && r.groups[0] == 2
	case r.n == 10 && r.seps > 0 && d[0] >= '2' && d[3] >= '2':
		// North American: (415) 555-2671, 415-555-2671, 415.555.2671.
		return r.ng == 3 && r.groups[0] == 3 && r.groups[1] == 3 && r.groups[2] == 4
	case r.n == 11 && r.seps > 0 && d[0] == '1' && d[1] >= '2' && d[4] >= '2':
		return r.ng == 4 && r.groups[0] == 1 && r.groups[1] == 3 && r.groups[2] == 3 && r.groups[3] == 4
	case (r.n == 10 || r.n == 11) && d[0] == '0' && d[1] != '0' && (r.seps > 0 || r.n == 11 && d[1] == '7'):
		// National format with a trunk prefix: 07700 900123, 030 1234 5678.
		return !r.paren || r.groups[0] <= 5
	}
	return false
}

// validCard checks the Luhn digit and that the number starts with the
// prefix of a known issuer and has a length that issuer uses.
func validCard(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	ok := false
	switch {
	case d[0] == '4': // Visa
		ok = n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		ok = n == 16
	case p2 == 34 || p2 == 37: // American Express
		ok = n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65: // Discover
		ok = n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		ok = n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39: // Diners Club
		ok = n >= 14 && n <= 19
	case p2 == 62: // UnionPay
		ok = n >= 16 && n <= 19
	case p2 == 50, p2 >= 56 && p2 <= 69: // Maestro
		ok = n >= 13 && n <= 19
	}
	return ok && luhn(d)
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// validSSN excludes the numbers the SSA never issues: area 000, 666 and
// 900-999, group 00, serial 0000, and the well-known advertising numbers.
func validSSN(d []byte) bool {
	area := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	group := int(d[3]-'0')*10 + int(d[4]-'0')
	serial := string(d[5:9])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == "0000" {
		return false
	}
	switch string(d[:9]) {
	case "078051120", "219099999", "123456789":
		return false
	}
	return true
}

// cnRegions are the province-level codes that start a resident ID.
var cnRegions = map[int]bool{
	11: true, 12: true, 13: true, 14: true, 15: true, 21: true, 22: true, 23: true,
	31: true, 32: true, 33: true, 34: true, 35: true, 36: true, 37: true,
	41: true, 42: true, 43: true, 44: true, 45: true, 46: true, 50: true, 51: true,
	52: true, 53: true, 54: true, 61: true, 62: true, 63: true, 64: true, 65: true,
	71: true, 81: true, 82: true, 83: true,
}

// validCNID checks an 18-character resident ID: region, birth date and the
// ISO 7064 MOD 11-2 check character.
func validCNID(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	if !cnRegions[int(s[0]-'0')*10+int(s[1]-'0')] {
		return false
	}
	num := func(a, b int) int {
		v := 0
		for i := a; i < b; i++ {
			v = v*10 + int(s[i]-'0')
		}
		return v
	}
	y, m, d := num(6, 10), num(10, 12), num(12, 14)
	if y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(s[i]-'0') * w
	}
	check := (12 - sum%11) % 11
	last := s[17]
	if check == 10 {
		return last == 'X' || last == 'x'
	}
	return int(last-'0') == check
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ipv4At reads a dotted quad at i that net/netip accepts, skipping those
// that are part of a longer dotted number (1.2.3.4.5) or of a word
// (v1.2.3.4). It returns the offset to continue scanning from.
func ipv4At(text string, i int, emit func(string, int, int)) int {
	if !isDigit(text[i]) {
		return i + 1
	}
	p := before(text, i)
	if isAlnum(p) || p == '.' || p == '_' || p == '-' {
		for i < len(text) && (isAlnum(text[i]) || text[i] == '.') {
			i++
		}
		return i
	}
	{
		j, dots := i, 0
		for j < len(text) && (isDigit(text[j]) || text[j] == '.' && isDigit(at(text, j+1))) {
			if text[j] == '.' {
				dots++
			}
			j++
		}
		n := at(text, j)
		if dots == 3 && !isAlnum(n) && n != '_' && !(n == '.' && isDigit(at(text, j+1))) && j-i <= 15 {
			if a, err := netip.ParseAddr(text[i:j]); err == nil && a.Is4() {
				emit(IPAddress, i, j)
			}
		}
		return max(j, i+1)
	}
}

// scanIPv6 finds colon-separated hex addresses that net/netip accepts and
// that have enough hex digits not to be a Go or C++ scope ("a::b").
func scanIPv6(text string, emit func(string, int, int)) {
	for i := 0; i < len(text); i++ {
		k := strings.IndexByte(text[i:], ':')
		if k < 0 {
			return
		}
		i += k
		s := i
		for s > 0 && i-s < 40 && (isHex(text[s-1]) || text[s-1] == ':' || text[s-1] == '.') {
			s--
		}
		e := i
		for e < len(text) && e-s < 45 && (isHex(text[e]) || text[e] == ':' || text[e] == '.') {
			e++
		}
		for e > i && text[e-1] == '.' {
			e--
		}
		if p := before(text, s); isAlnum(p) || p == '_' || isAlnum(at(text, e)) || at(text, e) == '_' {
			i = e
			continue
		}
		colons, hex := 0, 0
		for k := s; k < e; k++ {
			if text[k] == ':' {
				colons++
			} else if isHex(text[k]) {
				hex++
			}
		}
		if colons >= 2 && hex >= 4 {
			if a, err := netip.ParseAddr(text[s:e]); err == nil && a.Is6() {
				emit(IPAddress, s, e)
			}
		}
		i = e
	}
}
