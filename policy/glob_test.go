package policy

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pat   string
		match []string
		miss  []string
	}{
		{"*", []string{"", "x", "/v1/chat"}, nil},
		{"acme", []string{"acme"}, []string{"acme-1", "Acme", ""}},
		{"acme-*", []string{"acme-", "acme-eu/prod"}, []string{"acme", "xacme-1"}},
		{"*-prod", []string{"eu-prod", "-prod"}, []string{"eu-prod2"}},
		{"/v1/*/completions", []string{"/v1/chat/completions", "/v1/a/b/completions"}, []string{"/v1/completions"}},
		{"gpt-4?", []string{"gpt-4o"}, []string{"gpt-4", "gpt-4o-mini"}},
		{"model-[0-9]", []string{"model-7"}, []string{"model-x", "model-10"}},
		{"model-[!0-9]*", []string{"model-x1"}, []string{"model-1x"}},
		{`a\*b`, []string{"a*b"}, []string{"axb"}},
		{"a.b", []string{"a.b"}, []string{"axb"}},
		{"[.]x", []string{".x"}, []string{"ax"}},
		{"[a-]", []string{"a", "-"}, []string{"b"}},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pat)
		if err != nil {
			t.Errorf("%q: %v", tt.pat, err)
			continue
		}
		for _, s := range tt.match {
			if !g.match(s) {
				t.Errorf("%q does not match %q", tt.pat, s)
			}
		}
		for _, s := range tt.miss {
			if g.match(s) {
				t.Errorf("%q matches %q", tt.pat, s)
			}
		}
	}
	for _, bad := range []string{"", "a[", `a\`, "a]", "[]", "[z-a]", `[a\`} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
