package pii_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/pii"
)

// FuzzPII: no panic, spans inside the text, deterministic, and every
// checksummed type really passes its checksum.
func FuzzPII(f *testing.F) {
	for _, s := range []string{
		"", "jane@example.com", "+1 415 555 2671", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
		"536-22-1234", "11010519491231002X", "192.168.1.1", "2001:db8::1", "sk-ant-api03-" + repeat("Q1w2E3r4T5y6", 95),
		"AKIA" + repeat("Z7Q4", 16), "-----BEGIN RSA PRIVATE KEY-----\nxx", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
		"aws_secret_access_key=" + repeat("wJalrXUtnF/K7MDENG+bPx1Rfi", 40), "@@@..::--((++", "\xff\x00１３８００１３８０００",
	} {
		f.Add(s)
	}
	p := detect.NewPipeline(pii.New())
	f.Fuzz(func(t *testing.T, text string) {
		doc := p.NewDocument(text)
		a, err := pii.New().Scan(context.Background(), doc, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range a {
			if x.Span.Start < 0 || x.Span.End > len(text) || x.Span.Start >= x.Span.End {
				t.Fatalf("span %v outside text of %d bytes (%s in %s)", x.Span, len(text), x.Rule, x.View)
			}
		}
		b, _ := pii.New().Scan(context.Background(), doc, nil)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("two scans differ")
		}
		for _, x := range pii.Find(text) {
			v := text[x.Span.Start:x.Span.End]
			switch x.Rule {
			case pii.CreditCard:
				if !luhnOK(v) {
					t.Fatalf("card %q fails Luhn", v)
				}
			case pii.Email:
				if !containsByte(v, '@') {
					t.Fatalf("email %q without @", v)
				}
			}
		}
	})
}

func luhnOK(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		v := int(c - '0')
		if double {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}
