package sse_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/warden-safety/warden/gateway/sse"
)

type ev struct{ Name, Data, ID, Raw string }

func parseAll(t testing.TB, chunks ...[]byte) ([]ev, error) {
	var p sse.Parser
	var out []ev
	fn := func(e sse.Event) error {
		out = append(out, ev{e.Name, e.Data, e.ID, string(e.Raw)})
		return nil
	}
	for _, c := range chunks {
		if err := p.Feed(c, fn); err != nil {
			return out, err
		}
	}
	return out, p.Flush(fn)
}

func TestParser(t *testing.T) {
	in := "event: message_start\ndata: {\"a\":1}\n\n: comment\n\ndata: line1\r\ndata: line2\r\n\r\nid: 7\ndata: x\rdata:y\r\r" +
		"data: [DONE]\n\n" + "data: unterminated"
	want := []ev{
		{"message_start", `{"a":1}`, "", "event: message_start\ndata: {\"a\":1}\n\n"},
		{"", "line1\nline2", "", "data: line1\ndata: line2\n\n"},
		{"", "x\ny", "7", "id: 7\ndata: x\ndata:y\n\n"},
		{"", "[DONE]", "", "data: [DONE]\n\n"},
		{"", "unterminated", "", "data: unterminated\n\n"},
	}
	got, err := parseAll(t, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	// Byte by byte gives the same events.
	var chunks [][]byte
	for i := range len(in) {
		chunks = append(chunks, []byte{in[i]})
	}
	got2, err := parseAll(t, chunks...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got2, want) {
		t.Fatalf("byte-wise got %#v", got2)
	}
}

func TestParserLimit(t *testing.T) {
	p := sse.Parser{Max: 64}
	big := make([]byte, 100)
	for i := range big {
		big[i] = 'a'
	}
	err := p.Feed(append([]byte("data: "), big...), func(sse.Event) error { return nil })
	if !errors.Is(err, sse.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestAppendRoundTrip(t *testing.T) {
	b := sse.Append(nil, "content_block_delta", "{\"x\":\"a\"}\nsecond")
	got, err := parseAll(t, b)
	if err != nil || len(got) != 1 || got[0].Name != "content_block_delta" || got[0].Data != "{\"x\":\"a\"}\nsecond" {
		t.Fatalf("round trip: %v %#v", err, got)
	}
}

// FuzzParser feeds the input whole and split in two chunks at every
// position the fuzzer picks: the events must be the same.
func FuzzParser(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[]}\n\ndata: [DONE]\n\n"), 5)
	f.Add([]byte("event: ping\r\ndata: {}\r\n\r\n"), 13)
	f.Add([]byte("data: a\rdata: b\r\r: c\n"), 7)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		whole, errW := parseAll(t, in)
		if split < 0 {
			split = -split
		}
		if len(in) > 0 {
			split %= len(in) + 1
		} else {
			split = 0
		}
		parts, errP := parseAll(t, in[:split], in[split:])
		if (errW == nil) != (errP == nil) {
			t.Fatalf("errors differ: %v vs %v", errW, errP)
		}
		if !reflect.DeepEqual(whole, parts) {
			t.Fatalf("split at %d: %#v vs %#v", split, whole, parts)
		}
		for _, e := range whole {
			again, err := parseAll(t, []byte(e.Raw))
			if err != nil || len(again) != 1 || again[0].Data != e.Data || again[0].Name != e.Name {
				t.Fatalf("raw %q does not reparse: %v %#v", e.Raw, err, again)
			}
		}
	})
}
