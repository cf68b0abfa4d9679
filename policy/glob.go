package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// glob is a compiled shell-style pattern matched against a whole string.
// "*" matches any run of characters (including "/"), "?" one character,
// "[abc]", "[a-z]" and "[!a-z]" a character class, and "\x" the character
// x literally. The common shapes (a literal, "*", "prefix*", "*suffix") are
// matched without a regular expression.
type glob struct {
	src  string
	kind globKind
	lit  string         // literal, prefix or suffix
	re   *regexp.Regexp // globRegexp only
}

type globKind uint8

const (
	globAny globKind = iota
	globLiteral
	globPrefix
	globSuffix
	globRegexp
)

func compileGlob(pat string) (glob, error) {
	if pat == "" {
		return glob{}, fmt.Errorf("empty pattern")
	}
	if pat == "*" {
		return glob{src: pat, kind: globAny}, nil
	}
	if !strings.ContainsAny(pat, `*?[]\`) {
		return glob{src: pat, kind: globLiteral, lit: pat}, nil
	}
	if i := strings.IndexAny(pat, `*?[]\`); i == len(pat)-1 && pat[i] == '*' {
		return glob{src: pat, kind: globPrefix, lit: pat[:i]}, nil
	}
	if pat[0] == '*' && !strings.ContainsAny(pat[1:], `*?[]\`) {
		return glob{src: pat, kind: globSuffix, lit: pat[1:]}, nil
	}
	var b strings.Builder
	b.WriteString(`^(?s:`)
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+1 >= len(rs) {
				return glob{}, fmt.Errorf("pattern %q ends in a lone backslash", pat)
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case ']':
			return glob{}, fmt.Errorf("pattern %q has an unmatched ']'", pat)
		case '[':
			j := i + 1
			b.WriteByte('[')
			if j < len(rs) && (rs[j] == '!' || rs[j] == '^') {
				b.WriteByte('^')
				j++
			}
			start := j
			for ; j < len(rs) && rs[j] != ']'; j++ {
				c := rs[j]
				if c == '\\' {
					if j+1 >= len(rs) {
						return glob{}, fmt.Errorf("pattern %q ends in a lone backslash", pat)
					}
					j++
					c = rs[j]
				}
				if c == '-' && j > start && j+1 < len(rs) && rs[j+1] != ']' {
					b.WriteByte('-')
					continue
				}
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
			if j >= len(rs) {
				return glob{}, fmt.Errorf("pattern %q has an unterminated '['", pat)
			}
			if j == start {
				return glob{}, fmt.Errorf("pattern %q has an empty character class", pat)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return glob{}, fmt.Errorf("pattern %q: bad character class", pat)
	}
	return glob{src: pat, kind: globRegexp, re: re}, nil
}

func (g *glob) match(s string) bool {
	switch g.kind {
	case globAny:
		return true
	case globLiteral:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	}
	return g.re.MatchString(s)
}

// globList matches when any of its patterns matches; the empty list
// matches everything.
type globList []glob

func (l globList) match(s string) bool {
	if len(l) == 0 {
		return true
	}
	for i := range l {
		if l[i].match(s) {
			return true
		}
	}
	return false
}

func (l globList) strings() []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, g := range l {
		out[i] = g.src
	}
	return out
}

// literal reports whether every pattern is a literal, so two lists can be
// shown disjoint by comparing their literals.
func (l globList) literals() (map[string]bool, bool) {
	if len(l) == 0 {
		return nil, false
	}
	m := make(map[string]bool, len(l))
	for _, g := range l {
		if g.kind != globLiteral {
			return nil, false
		}
		m[g.lit] = true
	}
	return m, true
}
