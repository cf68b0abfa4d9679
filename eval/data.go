package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

// Example is one labelled text.
type Example struct {
	// Line is the 1-based line number in the file it came from (0 when the
	// example was not read from a file).
	Line int
	Text string
	// Unsafe is the label.
	Unsafe bool
	// Categories are the labelled categories (Warden IDs, parsed from any
	// vocabulary hazard.Parse accepts), without duplicates, in the order
	// given. Only unsafe examples carry categories.
	Categories []hazard.Category
}

// HasCategory reports whether the example is labelled with c or with a
// category below c (a critical_infrastructure example is also a
// cyber_attacks example, as the pipeline scores it).
func (e *Example) HasCategory(c hazard.Category) bool {
	for _, l := range e.Categories {
		if l == c {
			return true
		}
		for _, a := range l.Ancestors() {
			if a == c {
				return true
			}
		}
	}
	return false
}

// rawLine is the wire form of one JSONL line. Other fields (source, lang,
// ids) are ignored.
type rawLine struct {
	Text       *string          `json:"text"`
	Label      *string          `json:"label"`
	Categories *json.RawMessage `json:"categories"`
}

// ParseLine reads one JSONL line of the form
//
//	{"text": "...", "label": "safe"|"unsafe", "categories": ["hate", "S9", "self-harm/intent"]}
//
// The label is case-insensitive. categories is optional (null or absent
// means none) and only allowed on unsafe lines; each name may be a Warden
// ID, a Llama Guard S-code or an OpenAI moderation category. The error says
// what is wrong without quoting the text.
func ParseLine(line []byte) (Example, error) {
	var ex Example
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return ex, errors.New("empty line")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var raw rawLine
	if err := dec.Decode(&raw); err != nil {
		return ex, fmt.Errorf("invalid JSON object: %w", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return ex, errors.New("unexpected data after the JSON object")
	}
	if raw.Text == nil {
		return ex, errors.New(`missing "text"`)
	}
	if strings.TrimSpace(*raw.Text) == "" {
		return ex, errors.New(`empty "text"`)
	}
	ex.Text = *raw.Text
	if raw.Label == nil {
		return ex, errors.New(`missing "label" (want "safe" or "unsafe")`)
	}
	switch strings.ToLower(strings.TrimSpace(*raw.Label)) {
	case "safe":
	case "unsafe":
		ex.Unsafe = true
	default:
		return ex, fmt.Errorf(`label %q is neither "safe" nor "unsafe"`, truncate(*raw.Label, 40))
	}
	if raw.Categories != nil && string(*raw.Categories) != "null" {
		var names []string
		if err := json.Unmarshal(*raw.Categories, &names); err != nil {
			return ex, errors.New(`"categories" must be a list of strings`)
		}
		if len(names) > 0 && !ex.Unsafe {
			return ex, errors.New(`"categories" given on a line labelled "safe"`)
		}
		for _, n := range names {
			c, err := hazard.Parse(n)
			if err != nil {
				return ex, fmt.Errorf("unknown category %q", truncate(n, 40))
			}
			if !containsCat(ex.Categories, c) {
				ex.Categories = append(ex.Categories, c)
			}
		}
	}
	return ex, nil
}

// jsonErr shortens decoder errors that would otherwise quote Go types.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q has the wrong type (%s)", te.Field, te.Value)
	}
	return err
}

func containsCat(cs []hazard.Category, c hazard.Category) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// LineError is a line that could not be read.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// MaxLineBytes bounds one JSONL line.
const MaxLineBytes = 16 << 20

// ReadJSONL reads labelled examples, one JSON object per line; blank lines
// are skipped. With skipBad false the first bad line stops reading with a
// *LineError; with skipBad true bad lines are returned in bad and reading
// continues. A line longer than MaxLineBytes, or a read error, always stops.
func ReadJSONL(r io.Reader, skipBad bool) (examples []Example, bad []LineError, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, rerr := readLine(br)
		if rerr != nil && rerr != io.EOF {
			if errors.Is(rerr, errLineTooLong) {
				return examples, bad, &LineError{Line: n, Err: rerr}
			}
			return examples, bad, fmt.Errorf("read line %d: %w", n, rerr)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			ex, perr := ParseLine(line)
			if perr != nil {
				le := LineError{Line: n, Err: perr}
				if !skipBad {
					return examples, bad, &le
				}
				bad = append(bad, le)
			} else {
				ex.Line = n
				examples = append(examples, ex)
			}
		}
		if rerr == io.EOF {
			return examples, bad, nil
		}
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineBytes)

// readLine returns the next line without its newline; io.EOF comes with the
// last (possibly empty) line.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLineBytes+1 {
			return nil, errLineTooLong
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return buf, err
		}
		return buf[:len(buf)-1], nil
	}
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
