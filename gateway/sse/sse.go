// Package sse parses and writes Server-Sent Events as LLM providers stream
// them (OpenAI's "data: {...}" chunks ending in "data: [DONE]", Anthropic's
// "event: NAME" + "data: {...}" pairs).
//
// The Parser is incremental: feed it bytes as they arrive from the network,
// in chunks of any size, and it yields complete events together with their
// raw bytes, so a proxy can forward an event unchanged once it has decided
// to. Lines and events are bounded so a hostile upstream cannot grow memory
// without limit.
package sse

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// Event is one dispatched event.
type Event struct {
	// Name is the "event:" field ("" when absent).
	Name string
	// Data joins the "data:" lines with "\n".
	Data string
	// ID is the last "id:" field.
	ID string
	// Retry is the "retry:" field in milliseconds, -1 when absent.
	Retry int
	// Raw is the event exactly as received, including its blank-line
	// terminator, normalized to "\n" line endings.
	Raw []byte
}

// ErrTooLarge reports an event larger than the parser's limit.
var ErrTooLarge = errors.New("sse: event too large")

// DefaultMaxEvent bounds one event's size (bytes) when Parser.Max is zero.
const DefaultMaxEvent = 1 << 20

// Parser turns a byte stream into events. The zero value is ready to use.
type Parser struct {
	// Max bounds one event in bytes (DefaultMaxEvent when zero).
	Max int

	buf     []byte // unconsumed input: a partial line
	raw     []byte // raw bytes of the event being assembled
	name    string
	data    strings.Builder
	hasData bool
	id      string
	retry   int
	started bool
	skipLF  bool // the previous chunk ended with '\r'; drop a leading '\n'
}

// Feed appends p to the input and calls fn for every event completed by it.
// fn's Event.Raw is only valid during the call. Feed stops and returns the
// first error fn returns, or ErrTooLarge.
func (p *Parser) Feed(b []byte, fn func(Event) error) error {
	if p.skipLF && len(b) > 0 {
		if b[0] == '\n' {
			b = b[1:]
		}
		p.skipLF = false
	}
	max := p.Max
	if max <= 0 {
		max = DefaultMaxEvent
	}
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			if len(p.buf)+len(b)+len(p.raw) > max {
				p.reset()
				p.buf = p.buf[:0]
				return ErrTooLarge
			}
			p.buf = append(p.buf, b...)
			return nil
		}
		var line []byte
		if len(p.buf) > 0 {
			p.buf = append(p.buf, b[:i]...)
			line = p.buf
		} else {
			line = b[:i]
		}
		if b[i] == '\r' {
			if i+1 < len(b) {
				if b[i+1] == '\n' {
					i++
				}
			} else {
				p.skipLF = true
			}
		}
		b = b[i+1:]
		if len(p.raw)+len(line) > max {
			p.reset()
			p.buf = p.buf[:0]
			return ErrTooLarge
		}
		err := p.line(line, fn)
		p.buf = p.buf[:0]
		if err != nil {
			return err
		}
	}
	return nil
}

// Flush dispatches a final event that was not terminated by a blank line
// (a stream that ended without one) and resets the parser.
func (p *Parser) Flush(fn func(Event) error) error {
	if len(p.buf) > 0 {
		if err := p.line(p.buf, fn); err != nil {
			return err
		}
		p.buf = p.buf[:0]
	}
	if p.started {
		return p.line(nil, fn)
	}
	return nil
}

func (p *Parser) reset() {
	p.raw = p.raw[:0]
	p.name = ""
	p.data.Reset()
	p.hasData = false
	p.id = ""
	p.retry = -1
	p.started = false
}

func (p *Parser) line(line []byte, fn func(Event) error) error {
	if !p.started {
		p.retry = -1
	}
	p.raw = append(p.raw, line...)
	p.raw = append(p.raw, '\n')
	if len(line) == 0 {
		if !p.started {
			p.raw = p.raw[:0]
			return nil
		}
		ev := Event{Name: p.name, Data: p.data.String(), ID: p.id, Retry: p.retry, Raw: p.raw}
		dispatch := p.hasData || p.name != ""
		var err error
		if dispatch {
			err = fn(ev)
		}
		p.reset()
		return err
	}
	p.started = true
	if line[0] == ':' { // comment
		return nil
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		p.name = string(value)
	case "data":
		if p.hasData {
			p.data.WriteByte('\n')
		}
		p.data.Write(value)
		p.hasData = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			p.id = string(value)
		}
	case "retry":
		if n, err := strconv.Atoi(string(value)); err == nil && n >= 0 {
			p.retry = n
		}
	}
	return nil
}

// Append writes one event in wire form to dst: an optional "event:" line,
// one "data:" line per line of data, and the blank-line terminator.
func Append(dst []byte, name, data string) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	for {
		i := strings.IndexByte(data, '\n')
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		data = data[i+1:]
	}
	return append(dst, '\n')
}
