package normalize_test

import (
	"testing"

	"github.com/warden-safety/warden/detect/normalize"
)

func TestEqualFoldASCII(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"Hello, World! 12345678", "hello, world! 12345678", true},
		{"Hello, World! 12345678", "hello, world! 12345679", false},
		{"@@@@@@@@", "````````", false},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", true},
		{"[\\]^_", "{|}~\x7f", false},
		{"short", "shorT", true},
		{"short", "shor", false},
		{"ｈello", "ｈELLO", true},
	}
	for _, c := range cases {
		if got := normalize.EqualFoldASCII(c.a, c.b); got != c.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestCaseOnly(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"Hello World, How Are You", true},
		{"ＨＥＬＬＯ full width", false},
		{"Cyrillic Ьomb here", false},
		{"plain lower case has no folded view", false},
	} {
		views := normalize.Views(tc.text, normalize.Options{})
		got := false
		for i := range views[1:] {
			v := &views[i+1]
			if normalize.CaseOnly(v) {
				got = true
				if !normalize.EqualFoldASCII(v.Text, views[0].Text) {
					t.Errorf("%q: CaseOnly view %q differs beyond ASCII case", tc.text, v.Text)
				}
			}
		}
		if got != tc.want {
			t.Errorf("%q: CaseOnly = %v, want %v", tc.text, got, tc.want)
		}
	}
}
