package pii

// ibanLengths is the IBAN length of each country in the IBAN registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
	"JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
	"MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
	"NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanAt reads an IBAN at i, written compactly or in groups of four
// ("DE89 3704 0044 0532 0130 00"), checking the country's length and the
// mod-97 check digits. It returns the offset to continue scanning from.
func ibanAt(text string, i int, emit func(string, int, int)) int {
	if i+4 > len(text) || !isUpper(text[i]) || !isUpper(text[i+1]) || !isDigit(text[i+2]) || !isDigit(text[i+3]) || isAlnum(before(text, i)) {
		return i + 1
	}
	want, ok := ibanLengths[text[i:i+2]]
	if !ok {
		return i + 1
	}
	{
		var buf [34]byte
		n, j := 0, i
		for j < len(text) && n < want {
			c := text[j]
			switch {
			case isDigit(c) || isUpper(c):
				buf[n] = c
				n++
				j++
			case c == ' ' && n%4 == 0 && j+1 < len(text) && isAlnum(text[j+1]):
				j++
			default:
				n = -1 // stop
			}
			if n < 0 {
				break
			}
		}
		if n != want || isAlnum(at(text, j)) {
			return i + 1
		}
		if mod97(buf[:n]) == 1 {
			emit(IBAN, i, j)
			return j
		}
		return i + 1
	}
}

// mod97 computes the IBAN check: the first four characters moved to the
// end, letters as 10..35, the whole read as a number modulo 97.
func mod97(b []byte) int {
	r := 0
	add := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for _, c := range b[4:] {
		add(c)
	}
	for _, c := range b[:4] {
		add(c)
	}
	return r
}
