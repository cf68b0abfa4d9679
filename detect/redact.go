package detect

import (
	"sort"
	"strconv"
	"strings"
)

// Redaction records which placeholders replaced which original strings, so
// a response that repeats a placeholder can be restored for the caller when
// policy allows. It holds the secret values: never log or serialize it.
type Redaction struct {
	// Placeholders maps "[EMAIL_1]" to the original text.
	Placeholders map[string]string
	byValue      map[string]string
	counts       map[string]int
}

// NewRedaction returns an empty redaction. One Redaction may be used across
// several texts of one request so the same value gets the same placeholder.
func NewRedaction() *Redaction {
	return &Redaction{Placeholders: map[string]string{}, byValue: map[string]string{}, counts: map[string]int{}}
}

// Redact replaces the spans of the findings that keep selects (all of them
// when keep is nil) with typed placeholders such as "[EMAIL_1]". The type is
// the finding's Rule upper-cased (its category when Rule is empty).
// Overlapping spans are merged under the type of the first. Whole-text
// findings are not redactable and are skipped.
func (r *Redaction) Redact(text string, findings []Finding, keep func(Finding) bool) string {
	type span struct {
		s, e int
		typ  string
	}
	var spans []span
	for _, f := range findings {
		if f.Whole || (keep != nil && !keep(f)) {
			continue
		}
		if f.Span.Start < 0 || f.Span.End > len(text) || f.Span.Start >= f.Span.End {
			continue
		}
		typ := f.Rule
		if typ == "" {
			typ = string(f.Category)
		}
		spans = append(spans, span{f.Span.Start, f.Span.End, placeholderType(typ)})
	}
	if len(spans) == 0 {
		return text
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].s < spans[j].s || spans[i].s == spans[j].s && spans[i].e > spans[j].e
	})
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s.s < last.e {
			if s.e > last.e {
				last.e = s.e
			}
			continue
		}
		merged = append(merged, s)
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, s := range merged {
		b.WriteString(text[prev:s.s])
		b.WriteString(r.placeholder(s.typ, text[s.s:s.e]))
		prev = s.e
	}
	b.WriteString(text[prev:])
	return b.String()
}

func (r *Redaction) placeholder(typ, value string) string {
	if p, ok := r.byValue[value]; ok {
		return p
	}
	r.counts[typ]++
	p := "[" + typ + "_" + strconv.Itoa(r.counts[typ]) + "]"
	r.byValue[value] = p
	r.Placeholders[p] = value
	return p
}

// Restore puts the original values back in place of placeholders.
func (r *Redaction) Restore(text string) string {
	if len(r.Placeholders) == 0 || !strings.Contains(text, "[") {
		return text
	}
	pairs := make([]string, 0, 2*len(r.Placeholders))
	for p, v := range r.Placeholders {
		pairs = append(pairs, p, v)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// Len returns the number of distinct values redacted.
func (r *Redaction) Len() int { return len(r.Placeholders) }

func placeholderType(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
