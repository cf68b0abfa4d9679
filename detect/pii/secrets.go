package pii

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// tokenAt reads a credential recognisable by its prefix at i, the start of
// an identifier-like token. It returns the offset to continue from.
func tokenAt(text string, i int, emit func(string, int, int)) int {
	c := text[i]
	if c != 's' && c != 'r' && c != 'A' && c != 'g' && c != 'x' && c != 'e' {
		return i + 1
	}
	if p := before(text, i); tokenByte(p) || p == '.' || p == '/' || p == '+' {
		return i + 1
	}
	{
		rest := text[i:]
		typ, e := "", 0
		switch c {
		case 's', 'r':
			switch {
			case strings.HasPrefix(rest, "sk-ant-"):
				if n := tokenLen(rest, 7); n >= 32 {
					typ, e = AnthropicKey, i+7+n
				}
			case strings.HasPrefix(rest, "sk-"):
				if n := tokenLen(rest, 3); n >= 32 && mixed(rest[3:3+n]) {
					typ, e = OpenAIKey, i+3+n
				}
			case strings.HasPrefix(rest, "sk_live_"), strings.HasPrefix(rest, "rk_live_"), strings.HasPrefix(rest, "sk_test_"):
				if n := alnumLen(rest, 8); n >= 20 {
					typ, e = StripeKey, i+8+n
				}
			}
		case 'A':
			switch {
			case strings.HasPrefix(rest, "AKIA"), strings.HasPrefix(rest, "ASIA"):
				n := 0
				for 4+n < len(rest) && (isUpper(rest[4+n]) || isDigit(rest[4+n])) {
					n++
				}
				if n == 16 && !tokenByte(at(rest, 20)) {
					typ, e = AWSAccessKey, i+20
				}
			case strings.HasPrefix(rest, "AIza"):
				if n := tokenLen(rest, 4); n == 35 {
					typ, e = GoogleAPIKey, i+39
				}
			}
		case 'g':
			switch {
			case strings.HasPrefix(rest, "github_pat_"):
				if n := tokenLen(rest, 11); n >= 50 {
					typ, e = GitHubToken, i+11+n
				}
			case len(rest) > 4 && rest[0:2] == "gh" && strings.IndexByte("pousr", rest[2]) >= 0 && rest[3] == '_':
				if n := alnumLen(rest, 4); n >= 36 && n <= 255 && !tokenByte(at(rest, 4+n)) {
					typ, e = GitHubToken, i+4+n
				}
			}
		case 'x':
			if len(rest) > 5 && strings.HasPrefix(rest, "xox") && strings.IndexByte("baprse", rest[3]) >= 0 && rest[4] == '-' {
				if n := tokenLen(rest, 5); n >= 10 {
					typ, e = SlackToken, i+5+n
				}
			} else if strings.HasPrefix(rest, "xapp-") {
				if n := tokenLen(rest, 5); n >= 20 {
					typ, e = SlackToken, i+5+n
				}
			}
		case 'e':
			if strings.HasPrefix(rest, "eyJ") {
				if n := jwtLen(rest); n > 0 {
					typ, e = JWT, i+n
				}
			}
		}
		if typ != "" {
			emit(typ, i, e)
			return e
		}
		return i + 1
	}
}

// tokenLen counts token bytes ([A-Za-z0-9_-]) of s from offset off.
func tokenLen(s string, off int) int {
	n := 0
	for off+n < len(s) && tokenByte(s[off+n]) {
		n++
	}
	return n
}

func alnumLen(s string, off int) int {
	n := 0
	for off+n < len(s) && isAlnum(s[off+n]) {
		n++
	}
	return n
}

// mixed reports whether s has a digit and a letter: real keys do, while
// long hyphenated words ("sk-learn-compatible-...") do not.
func mixed(s string) bool {
	var d, l bool
	for i := 0; i < len(s); i++ {
		d = d || isDigit(s[i])
		l = l || isAlpha(s[i])
	}
	return d && l
}

// jwtLen returns the length of the JWT at the start of s, or 0: three
// base64url parts separated by dots whose first part decodes to a JSON
// object with an "alg" member.
func jwtLen(s string) int {
	var parts [3]int
	off := 0
	for k := 0; k < 3; k++ {
		n := 0
		for off+n < len(s) && (isAlnum(s[off+n]) || s[off+n] == '_' || s[off+n] == '-') {
			n++
		}
		parts[k] = n
		off += n
		if k < 2 {
			if at(s, off) != '.' {
				return 0
			}
			off++
		}
	}
	if parts[0] < 10 || parts[1] < 2 || parts[0] > 4096 {
		return 0
	}
	if c := at(s, off); c == '=' || c == '.' && isAlnum(at(s, off+1)) {
		return 0
	}
	hdr, err := base64.RawURLEncoding.DecodeString(s[:parts[0]])
	if err != nil {
		return 0
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	if json.Unmarshal(hdr, &h) != nil || h.Alg == nil {
		return 0
	}
	return off
}

// scanPrivateKeys finds PEM private-key blocks, from the BEGIN line to the
// matching END line (or to the end of the text when it is cut off).
func scanPrivateKeys(text string, emit func(string, int, int)) {
	const begin = "-----BEGIN "
	for off := 0; off < len(text); {
		k := strings.Index(text[off:], begin)
		if k < 0 {
			return
		}
		s := off + k
		hdrEnd := strings.Index(text[s+len(begin):], "-----")
		if hdrEnd < 0 || hdrEnd > 40 {
			off = s + len(begin)
			continue
		}
		label := text[s+len(begin) : s+len(begin)+hdrEnd]
		after := s + len(begin) + hdrEnd + 5
		if !strings.HasSuffix(label, "PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK" {
			off = after
			continue
		}
		e := len(text)
		end := "-----END " + label + "-----"
		if j := strings.Index(text[after:], end); j >= 0 {
			e = after + j + len(end)
		}
		emit(PrivateKey, s, e)
		off = e
	}
}

// awsSecretLabels introduce an AWS secret access key in configuration,
// environment files and code.
var awsSecretLabels = []string{"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey", "secretAccessKey", "secret_access_key", "aws_secret_key", "AWS_SECRET_KEY"}

// awsSecretAt reads a 40-character secret key that follows a label such
// as aws_secret_access_key = "..." at i. Unlabelled 40-character strings
// are too common (hashes, base64) to report. It returns the offset to
// continue from.
func awsSecretAt(text string, i int, emit func(string, int, int)) int {
	rest := text[i:]
	if len(rest) < 15 || !(strings.HasPrefix(rest[1:], "ws_") || strings.HasPrefix(rest[1:], "WS_") || strings.HasPrefix(rest[1:], "ecret")) {
		return i + 1
	}
	for _, label := range awsSecretLabels {
		if !strings.HasPrefix(rest, label) {
			continue
		}
		j := i + len(label)
		for n := 0; n < 8 && j < len(text) && strings.IndexByte(" \t\"':=>", text[j]) >= 0; n++ {
			j++
		}
		n := 0
		for j+n < len(text) && (isAlnum(text[j+n]) || text[j+n] == '/' || text[j+n] == '+') {
			n++
		}
		if n == 40 && mixed(text[j:j+n]) {
			emit(AWSSecretKey, j, j+40)
			return j + 40
		}
		return i + len(label)
	}
	return i + 1
}
