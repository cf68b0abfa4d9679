package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small hand-written JSON decoder into the same values encoding/json
// produces with UseNumber (map[string]any, []any, string, json.Number,
// bool, nil). It is several times faster than encoding/json's interface
// decoding, which dominated the gateway's per-request cost, and reports
// errors with their byte offset. FuzzJSON checks it against encoding/json.

const maxJSONDepth = 512

type jsonParser struct {
	b     []byte
	i     int
	depth int
}

type jsonSyntaxError struct {
	msg    string
	Offset int64
}

func (e *jsonSyntaxError) Error() string { return e.msg }

func (p *jsonParser) errorf(format string, args ...any) error {
	return &jsonSyntaxError{msg: fmt.Sprintf(format, args...), Offset: int64(p.i)}
}

func (p *jsonParser) unexpected(context string) error {
	if p.i >= len(p.b) {
		return &jsonSyntaxError{msg: "unexpected end of JSON input", Offset: int64(p.i)}
	}
	return p.errorf("invalid character %s %s", quoteChar(p.b[p.i]), context)
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// parseJSON decodes one JSON value that must span all of b (surrounding
// whitespace allowed).
func parseJSON(b []byte) (any, error) {
	p := &jsonParser{b: b}
	p.ws()
	if p.i >= len(b) {
		return nil, &jsonSyntaxError{msg: "unexpected end of JSON input", Offset: 0}
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(b) {
		return nil, p.errorf("invalid character %s after top-level value", quoteChar(b[p.i]))
	}
	return v, nil
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.b) {
		return nil, p.unexpected("")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, p.unexpected("looking for beginning of value")
}

func (p *jsonParser) lit(s string) error {
	for k := 0; k < len(s); k++ {
		if p.i >= len(p.b) || p.b[p.i] != s[k] {
			return p.unexpected("in literal " + s + " (expecting " + quoteChar(s[k]) + ")")
		}
		p.i++
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.errorf("exceeded max depth")
	}
	p.i++ // {
	m := make(map[string]any, 8)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return m, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.unexpected("looking for beginning of object key string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.unexpected("after object key")
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.unexpected("")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.depth--
			return m, nil
		default:
			return nil, p.unexpected("after object key:value pair")
		}
	}
}

func (p *jsonParser) array() (any, error) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.errorf("exceeded max depth")
	}
	p.i++ // [
	a := make([]any, 0, 4)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.unexpected("")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a, nil
		default:
			return nil, p.unexpected("after array element")
		}
	}
}

func (p *jsonParser) number() (any, error) {
	s := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, p.unexpected("in numeric literal")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, p.unexpected("after decimal point in numeric literal")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, p.unexpected("in exponent of numeric literal")
		}
	}
	return json.Number(p.b[s:p.i]), nil
}

func (p *jsonParser) str() (string, error) {
	p.i++ // opening quote
	s := p.i
	if q := bytes.IndexByte(p.b[s:], '"'); q >= 0 {
		seg := p.b[s : s+q]
		clean, ascii := true, true
		for _, c := range seg {
			if c < 0x20 || c == '\\' {
				clean = false
				break
			}
			if c >= 0x80 {
				ascii = false
			}
		}
		if clean {
			p.i = s + q + 1
			if ascii || utf8.Valid(seg) {
				return string(seg), nil
			}
			return string([]rune(string(seg))), nil // invalid bytes become U+FFFD, as encoding/json does
		}
	}
	for p.i < len(p.b) && p.b[p.i] >= 0x20 && p.b[p.i] != '\\' && p.b[p.i] != '"' {
		p.i++
	}
	// slow path: escapes
	out := make([]byte, 0, p.i-s+16)
	out = append(out, p.b[s:p.i]...)
	for {
		if p.i >= len(p.b) {
			return "", p.unexpected("")
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(out) {
				return string([]rune(string(out))), nil
			}
			return string(out), nil
		case c < 0x20:
			return "", p.unexpected("in string literal")
		case c == '\\':
			p.i++
			if p.i >= len(p.b) {
				return "", p.unexpected("")
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.unexpected("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						if lo, ok := p.hex4(); ok {
							if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
								r2 = dec
							} else {
								p.i = save
							}
						} else {
							return "", p.unexpected("in \\u hexadecimal character escape")
						}
					}
					r = r2
				}
				out = utf8.AppendRune(out, r)
			default:
				p.i--
				return "", p.unexpected("in string escape code")
			}
		default:
			out = append(out, c)
			p.i++
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		p.i = len(p.b)
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.b[p.i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
		p.i++
	}
	return r, true
}
