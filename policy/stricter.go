package policy

import (
	"fmt"
	"sort"
	"strings"
)

// Stricter reports whether candidate is at least as strict as current for
// every request and every verdict: wherever current acts on a category,
// candidate acts at least as strongly at the same or a lower score; it
// fails closed wherever current does; it holds back at least as much of a
// stream; and it does not turn content logging on. When it is not, the
// reasons list every difference that makes it weaker.
//
// The check is mechanical and conservative: it compares every candidate
// configuration (rule or defaults) with every current configuration that
// could apply to the same request, and proves two cannot only by literal
// patterns that do not overlap or by an earlier rule that catches every
// request of the other (same condition, patterns that include the other's).
// A rule whose condition fails closed blocks when the condition cannot be
// evaluated; the candidate must keep such a rule, with the same match and
// failing closed, behind rules with the same matches. So Stricter may answer
// false for a change that is in fact stricter (reorder rules, rewrite a
// glob), never true for one that is weaker; TestStricterSound checks that on
// thousands of random policy changes. Refusal text and block style are
// presentation and are not compared.
func Stricter(candidate, current *Policy) (bool, []string) {
	var reasons []string
	seen := map[string]bool{}
	add := func(format string, args ...any) {
		r := fmt.Sprintf(format, args...)
		if !seen[r] {
			seen[r] = true
			reasons = append(reasons, r)
		}
	}
	if candidate.logContent && !current.logContent {
		add("log_content: enabled (content logging is a privacy weakening)")
	}
	// A rule whose condition fails closed blocks every request whose
	// evaluation errors (a missing metadata key, the cost limit). The
	// candidate keeps that only if it has the same rule (same patterns and
	// condition, failing closed) behind the same sequence of rule matches.
	for i := range current.rules {
		k := &current.rules[i]
		if k.cond == nil || k.eff.failMode != FailClosed {
			continue
		}
		if !keepsFailClosed(candidate.rules, current.rules[:i], k) {
			add("current rule %q: its condition fails closed (an evaluation error blocks the request); the candidate must keep a rule with the same match, failing closed, behind the same rules", k.name)
		}
	}
	cands := configsOf(candidate)
	curs := configsOf(current)
	for ci, c := range cands {
		for ki, k := range curs {
			if !mayCoOccur(cands, ci, curs, ki) {
				continue
			}
			where := fmt.Sprintf("%s vs current %s", c.label("candidate"), k.label(""))
			compareSettings(c.eff, k.eff, func(msg string) { add("%s: %s", where, msg) })
		}
	}
	return len(reasons) == 0, reasons
}

// config is one effective configuration of a policy with what selects it.
// A nil r is the defaults (every request that no rule catches).
type config struct {
	r   *rule
	eff *settings
}

func (c config) label(side string) string {
	if c.r == nil {
		if side == "" {
			return "defaults"
		}
		return side + " defaults"
	}
	if side == "" {
		return fmt.Sprintf("rule %q", c.r.name)
	}
	return fmt.Sprintf("%s rule %q", side, c.r.name)
}

func configsOf(p *Policy) []config {
	out := make([]config, 0, len(p.rules)+1)
	for i := range p.rules {
		out = append(out, config{r: &p.rules[i], eff: &p.rules[i].eff})
	}
	return append(out, config{eff: &p.defaults})
}

// mayCoOccur reports whether some request could be decided by a[ai] under
// one policy and by b[bi] under the other.
func mayCoOccur(a []config, ai int, b []config, bi int) bool {
	ra, rb := a[ai].r, b[bi].r
	if ra != nil && rb != nil && disjoint(ra, rb) {
		return false
	}
	// A request decided by a[ai] matches ra; if an earlier rule of b
	// catches every such request, it never reaches b[bi].
	if shadowed(b, bi, ra) || shadowed(a, ai, rb) {
		return false
	}
	return true
}

// shadowed reports whether every request matching r (nil: any request) is
// caught by a rule of cs before index i.
func shadowed(cs []config, i int, r *rule) bool {
	for j := 0; j < i; j++ {
		if covers(cs[j].r, r) {
			return true
		}
	}
	return false
}

// covers reports whether every request matching b also matches a (a nil
// rule matches every request).
func covers(a, b *rule) bool {
	if a == nil {
		return true
	}
	if a.cond != nil && (b == nil || b.cond == nil || b.cond.src != a.cond.src) {
		return false
	}
	if b == nil {
		return coversAll(a.routes) && coversAll(a.models) && coversAll(a.tenants)
	}
	return coversList(a.routes, b.routes) && coversList(a.models, b.models) && coversList(a.tenants, b.tenants)
}

func coversAll(l globList) bool {
	if len(l) == 0 {
		return true
	}
	for _, g := range l {
		if g.kind == globAny {
			return true
		}
	}
	return false
}

// coversList reports whether every string matching b matches a, provably:
// a matches everything, or every pattern of b is a literal a matches, or
// a pattern of a is the very same pattern.
func coversList(a, b globList) bool {
	if coversAll(a) {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, gb := range b {
		ok := false
		for i := range a {
			if a[i].src == gb.src || gb.kind == globLiteral && a[i].match(gb.lit) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// disjoint reports whether no request can match both rules: in some
// dimension both give only literals and they share none.
func disjoint(a, b *rule) bool {
	for _, pair := range [][2]globList{{a.routes, b.routes}, {a.models, b.models}, {a.tenants, b.tenants}} {
		la, oka := pair[0].literals()
		lb, okb := pair[1].literals()
		if !oka || !okb {
			continue
		}
		shared := false
		for s := range la {
			if lb[s] {
				shared = true
				break
			}
		}
		if !shared {
			return true
		}
	}
	return false
}

// compareSettings reports, through weaker, every way c is weaker than k.
func compareSettings(c, k *settings, weaker func(string)) {
	if k.failMode == FailClosed && c.failMode != FailClosed {
		weaker("fail_mode: closed becomes open")
	}
	if c.holdBack < k.holdBack {
		weaker(fmt.Sprintf("hold_back: %d becomes %d", k.holdBack, c.holdBack))
	}
	for si := range c.stages {
		cs, ks := c.stages[si], k.stages[si]
		for ci, cat := range catList {
			for _, msg := range compareLadders(cs.tiers[ci], ks.tiers[ci]) {
				weaker(fmt.Sprintf("%s %s: %s", stageName(si), cat, msg))
			}
		}
	}
}

// compareLadders compares two action ladders at every threshold of
// either (between thresholds both are constant) and lists the scores at
// which c acts more weakly than k.
func compareLadders(c, k []tier) []string {
	if len(k) == 0 {
		return nil
	}
	var points []float64
	for _, t := range c {
		points = append(points, t.Threshold)
	}
	for _, t := range k {
		points = append(points, t.Threshold)
	}
	sort.Float64s(points)
	var out []string
	for i, s := range points {
		if i > 0 && points[i-1] == s {
			continue
		}
		tc, tk := tierAt(c, s), tierAt(k, s)
		ac, ak := actionOf(tc), actionOf(tk)
		// An escalation ends in flag (the guard clears the text) or in its
		// then action (the guard flags it); the same guard gives the same
		// answer under both policies.
		switch {
		case ac == Escalate && ak == Escalate:
			if tc.Guard != tk.Guard {
				out = append(out, fmt.Sprintf("at score %g escalates to guard %q instead of %q", s, tc.Guard, tk.Guard))
			}
			if tc.Then.Strength() < tk.Then.Strength() {
				out = append(out, fmt.Sprintf("at score %g escalation then %s becomes %s", s, tk.Then, tc.Then))
			}
		case ac == Escalate:
			if ak.Strength() > Flag.Strength() {
				out = append(out, fmt.Sprintf("at score %g %s becomes escalate (the guard may clear it)", s, ak))
			}
		case ak == Escalate:
			if ac.Strength() < tk.Then.Strength() {
				out = append(out, fmt.Sprintf("at score %g escalate (then %s) becomes %s", s, tk.Then, ac))
			}
		case ac.Strength() < ak.Strength():
			out = append(out, fmt.Sprintf("at score %g %s becomes %s", s, ak, ac))
		}
	}
	return out
}

func actionOf(t *tier) Action {
	if t == nil {
		return Allow
	}
	return t.Action
}

// Warnings lists problems that do not make the document invalid: rules
// that can never apply because an earlier rule catches every request they
// match.
func (p *Policy) Warnings() []Issue {
	var out []Issue
	for i := range p.rules {
		for j := 0; j < i; j++ {
			if covers(&p.rules[j], &p.rules[i]) {
				out = append(out, Issue{Line: p.rules[i].line, Column: p.rules[i].col,
					Message: fmt.Sprintf("rule %q never applies: rule %q before it matches every request it matches", p.rules[i].name, p.rules[j].name)})
				break
			}
		}
	}
	return out
}

// matchKey identifies what a rule matches.
func matchKey(r *rule) string {
	var b strings.Builder
	for _, l := range []globList{r.routes, r.models, r.tenants} {
		b.WriteString(strings.Join(l.strings(), "\x00"))
		b.WriteByte(0x01)
	}
	if r.cond != nil {
		b.WriteString(r.cond.src)
	}
	return b.String()
}

// keepsFailClosed reports whether cands has a rule matching exactly what k
// matches and failing closed, preceded by rules matching exactly what
// prefix (the current rules before k) match, in order: then every request
// whose evaluation of k's condition errors under current errors the same
// way at that rule under the candidate.
func keepsFailClosed(cands []rule, prefix []rule, k *rule) bool {
	if len(cands) <= len(prefix) {
		return false
	}
	for i := range prefix {
		if matchKey(&cands[i]) != matchKey(&prefix[i]) {
			return false
		}
	}
	c := &cands[len(prefix)]
	return matchKey(c) == matchKey(k) && c.eff.failMode == FailClosed
}
