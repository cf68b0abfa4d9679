package provider

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// FuzzJSON checks the hand-written decoder against encoding/json: the same
// values for valid input, an error for invalid input.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,"x\u00e9\ud83d\ude00",true,false,null,{}]}`, `"\ud800x"`, `[1,]`, `{"a" 1}`,
		` 0 `, `-`, `01`, `"\u12"`, "\"a\xffb\"", `{"a":"b","a":"c"}`, `1e`, `[[[[]]]]`, `"\t"`, "\"\t\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseJSON(b)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var want any
		werr := dec.Decode(&want)
		if werr == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				werr = errTrailing
			}
		}
		if (err == nil) != (werr == nil) {
			// encoding/json has no depth limit below 10000; ours is lower.
			if err != nil && err.Error() == "exceeded max depth" {
				return
			}
			t.Fatalf("%q: ours %v, encoding/json %v", b, err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: ours %#v, encoding/json %#v", b, got, want)
		}
	})
}

var errTrailing = &jsonSyntaxError{msg: "trailing data"}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"model":"m","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"` +
		string(bytes.Repeat([]byte("Please summarise the notes of our garden club meeting. "), 36)) + `"}],"temperature":0.2}`)
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseJSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
