package redteam

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

// WriteHTML writes a self-contained report (no external assets): the
// category × mutator heat map, rates with 95% intervals, and the worst
// examples. Prompts and responses appear only when the log kept them.
func WriteHTML(w io.Writer, sc *Scorecard, digest string, attempts []Attempt) error {
	cats := map[string]bool{}
	muts := map[string]bool{}
	cell := map[[2]string]Cell{}
	for _, c := range sc.Cells {
		cats[c.Category] = true
		muts[c.Mutator] = true
		cell[[2]string{c.Category, c.Mutator}] = c
	}
	type td struct {
		Text, Title, Style string
	}
	type row struct {
		Category string
		Cells    []td
		ASR      string
	}
	catList, mutList := keys(cats), keys(muts)
	var rows []row
	for _, c := range catList {
		r := row{Category: c, ASR: pct(sc.ASR[c])}
		for _, m := range mutList {
			x, ok := cell[[2]string{c, m}]
			if !ok {
				r.Cells = append(r.Cells, td{Text: "–"})
				continue
			}
			r.Cells = append(r.Cells, td{
				Text:  pct(x.Rate.Rate),
				Title: fmt.Sprintf("%d/%d, 95%% CI %s–%s", x.Successes, x.N, pct(x.Low), pct(x.High)),
				Style: fmt.Sprintf("background: hsl(%d, 75%%, 80%%)", int(120*(1-x.Rate.Rate))),
			})
		}
		rows = append(rows, r)
	}
	type example struct {
		CaseID, Category, Mutator, Prompt, Response, Why string
	}
	var worst []example
	for _, a := range attempts {
		if !a.Success || a.Error != "" {
			continue
		}
		why := "attack succeeded"
		if a.Expect == "comply" {
			why = "over-refusal of a benign request"
		}
		for _, j := range a.Judgements {
			if j.Reason != "" {
				why = j.Reason
			}
		}
		worst = append(worst, example{a.CaseID, a.Category, a.Mutator, trunc(a.Mutated, 300), trunc(a.Response, 300), why})
		if len(worst) == 25 {
			break
		}
	}
	kind := "Attack success rate"
	if sc.Builtin {
		kind = "Detection miss rate"
	}
	return reportTmpl.Execute(w, map[string]any{
		"S": sc, "Digest": digest, "Muts": mutList, "Rows": rows, "Worst": worst, "Kind": kind,
		"Overall": fmt.Sprintf("%s (95%% CI %s–%s, n=%d)", pct(sc.Overall.Rate), pct(sc.Overall.Low), pct(sc.Overall.High), sc.Overall.N),
		"Over":    fmt.Sprintf("%s (95%% CI %s–%s, n=%d)", pct(sc.OverRefusalRate.Rate), pct(sc.OverRefusalRate.Low), pct(sc.OverRefusalRate.High), sc.OverRefusalRate.N),
	})
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

var reportTmpl = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warden red-team report: {{.S.Target}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:center}
th{background:#f4f4f4}td.l{text-align:left}code{font-size:12px}.ex td{text-align:left;vertical-align:top;max-width:40em;white-space:pre-wrap}
</style></head><body>
<h1>Red-team report: {{.S.Target}}</h1>
<p>Scorecard <code>{{.Digest}}</code> ({{.S.Schema}}), created {{.S.Created.Format "2006-01-02 15:04 UTC"}}, seed {{.S.Seed}}{{if .S.Judge}}, judge {{.S.Judge}}{{end}}.
{{.S.Attempts}} attempts, {{.S.Errors}} errors{{if .S.Stopped}}, stopped early: {{.S.Stopped}}{{end}}.
Tokens: {{.S.Tokens.Prompt}} prompt, {{.S.Tokens.Completion}} completion.</p>
<h2>{{.Kind}}: {{.Overall}}</h2>
<p>Over-refusal on benign look-alikes{{if .S.Builtin}} (false-positive rate){{end}}: {{.Over}}</p>
{{if .S.Agreement}}<p>Judge agreement: {{printf "%.1f" .S.Agreement.Agree}} (fraction), Cohen's κ {{printf "%.2f" .S.Agreement.Kappa}} over {{.S.Agreement.N}} attempts.</p>{{end}}
<h2>Category × mutator</h2>
<table><tr><th>category</th><th>all</th>{{range .Muts}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td class="l">{{.Category}}</td><td>{{.ASR}}</td>{{range .Cells}}<td title="{{.Title}}" style="{{.Style}}">{{.Text}}</td>{{end}}</tr>
{{end}}</table>
<p>Hover a cell for counts and the 95% Wilson interval. Green is safe, red is failing.</p>
<h2>Worst examples</h2>
{{if .Worst}}<table class="ex"><tr><th>case</th><th>category</th><th>mutator</th><th>prompt sent</th><th>response</th><th>why</th></tr>
{{range .Worst}}<tr><td>{{.CaseID}}</td><td>{{.Category}}</td><td>{{.Mutator}}</td><td>{{.Prompt}}</td><td>{{.Response}}</td><td>{{.Why}}</td></tr>
{{end}}</table>{{else}}<p>None: no attack succeeded and nothing benign was refused.</p>{{end}}
</body></html>
`))

// WriteJUnit writes JUnit XML for CI: one test suite per category, one
// test case per attempt, failing when the attack succeeded (or a benign
// request was refused).
func WriteJUnit(w io.Writer, sc *Scorecard, attempts []Attempt) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type tc struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      float64  `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Error     *failure `xml:"error,omitempty"`
	}
	type ts struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []tc   `xml:"testcase"`
	}
	type root struct {
		XMLName xml.Name `xml:"testsuites"`
		Name    string   `xml:"name,attr"`
		Suites  []ts     `xml:"testsuite"`
	}
	by := map[string]*ts{}
	var order []string
	for _, a := range attempts {
		name := a.Category
		if a.Expect == "comply" {
			name = "benign/" + name
		}
		if name == "" {
			name = "uncategorized"
		}
		s := by[name]
		if s == nil {
			s = &ts{Name: "redteam." + name}
			by[name] = s
			order = append(order, name)
		}
		c := tc{Name: a.CaseID + " [" + a.Mutator + "]", Classname: "redteam." + strings.ReplaceAll(name, "/", "."), Time: a.LatencyMS / 1000}
		s.Tests++
		switch {
		case a.Error != "":
			c.Error = &failure{Message: "attempt failed", Text: a.Error}
			s.Errors++
		case a.Success && a.Expect == "comply":
			c.Failure = &failure{Message: "benign request refused (over-refusal)"}
			s.Failures++
		case a.Success:
			c.Failure = &failure{Message: "attack succeeded"}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	sort.Strings(order)
	r := root{Name: "warden redteam " + sc.Target}
	for _, n := range order {
		r.Suites = append(r.Suites, *by[n])
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
