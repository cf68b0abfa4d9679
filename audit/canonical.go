package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// EncodeRecord returns the canonical JSON of r: the exact bytes that become
// a leaf of the Merkle tree (leaf hash = SHA-256(0x00 || bytes), RFC 6962).
//
// The encoding is deterministic: Go's encoding/json with the fields in the
// order Record declares them, optional fields omitted when empty, map keys
// sorted bytewise, no insignificant whitespace, no HTML escaping, invalid
// UTF-8 replaced by U+FFFD, the time in UTC as RFC 3339 with trailing zeros
// of the fraction trimmed, numbers in Detail kept as written and floats in
// Scores in their shortest round-trip form. Encoding the decoding of a
// canonical record gives the same bytes.
func EncodeRecord(r Record) ([]byte, error) {
	if r.Kind == "" {
		return nil, errors.New("encode record: empty kind")
	}
	if r.Action == "" {
		return nil, errors.New("encode record: empty action")
	}
	if r.Index < 0 {
		return nil, errors.New("encode record: negative index")
	}
	for c, s := range r.Scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("encode record: score of %q is not a finite number", c)
		}
	}
	r.Time = r.Time.UTC().Round(0)
	if y := r.Time.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("encode record: time %v out of range", r.Time)
	}
	if r.Detail != nil {
		// Bring Detail to JSON's own types so the encoding does not depend
		// on which Go types the caller used.
		b, err := marshal(r.Detail)
		if err != nil {
			return nil, fmt.Errorf("encode record: detail: %w", err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("encode record: detail: %w", err)
		}
		r.Detail = m
	}
	b, err := marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DecodeRecord parses a record's JSON strictly: one object, known fields
// only, nothing after it.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("decode record: %w", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return Record{}, errors.New("decode record: data after the record")
	}
	if r.Kind == "" {
		return Record{}, errors.New("decode record: missing kind")
	}
	if r.Action == "" {
		return Record{}, errors.New("decode record: missing action")
	}
	if r.Time.Location() != time.UTC {
		r.Time = r.Time.UTC()
	}
	return r, nil
}
