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
