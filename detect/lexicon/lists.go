package lexicon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

// The term-list format, one statement a line ('#' starts a comment line):
//
//	version 2026.11.29
//	set NAME = phrase | phrase* | @OTHER
//	set NAME += phrase | ...
//	rule ID CATEGORY SCORE [window=N] [neg=LIST] [negwindow=N] [after=LIST] [afterwindow=N] : EXPR -- description
//
// EXPR is a LIST (any of its phrases matches), "LIST -> LIST" (a phrase of
// the first list followed within window words by one of the second; chains
// of more lists are allowed) or "LIST ~ LIST" (the two in either order). A LIST is phrases and @set
// references separated by '|' (write a literal '|' as '\\|'); inside a rule the options' LIST (neg=) is
// written with ',' instead of '|' and no spaces. A phrase ending in '*'
// matches as a word prefix ("synthesi*" matches "synthesize" and
// "synthesis"); other Latin phrases match whole words only. Phrases in CJK
// scripts match anywhere. Matching ignores case. neg= names phrases that,
// within negwindow words before or after a match, suppress it: use it for
// topic-only rules ("symptoms of" anthrax), never for production phrases.
// after= names phrases that suppress a match only when they follow it,
// within afterwindow words (default negwindow): a Chinese question states
// its purpose at its end (…有哪些信号要留意), so the words of a protective
// question can be looked for further after a match than the cover-story
// words of neg= (审核, 研究, which precede a request as readily as they
// follow a question) can be.
// The description is shown as the finding's explanation; it must describe
// the rule, not quote text.

type listFile struct {
	name    string
	version string
	sets    []setStmt
	rules   []ruleStmt
}

type setStmt struct {
	name   string
	extend bool
	items  []string
	where  string
}

type ruleStmt struct {
	id        string
	category  hazard.Category
	score     float64
	window    int
	negWindow int
	neg       []string
	after     []string
	afterWin  int        // -1: negWindow
	parts     [][]string // one list: a term rule; more: a context rule
	ordered   bool
	desc      string
	where     string
}

const (
	defaultWindow    = 4
	defaultNegWindow = 4
	maxWindow        = 32
)

func parseList(name string, r io.Reader) (*listFile, error) {
	f := &listFile{name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		where := fmt.Sprintf("%s:%d", name, line)
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		kw, rest, _ := strings.Cut(s, " ")
		rest = strings.TrimSpace(rest)
		if f.version == "" && kw != "version" {
			return nil, fmt.Errorf("%s: the first statement must be \"version X\"", where)
		}
		switch kw {
		case "version":
			if f.version != "" {
				return nil, fmt.Errorf("%s: second version statement", where)
			}
			if rest == "" || strings.ContainsAny(rest, " \t") {
				return nil, fmt.Errorf("%s: version must be one word", where)
			}
			f.version = rest
		case "set":
			st, err := parseSet(rest)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			st.where = where
			f.sets = append(f.sets, st)
		case "rule":
			rs, err := parseRule(rest)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			rs.where = where
			f.rules = append(f.rules, rs)
		default:
			return nil, fmt.Errorf("%s: unknown statement %q (want version, set or rule)", where, kw)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if f.version == "" {
		return nil, fmt.Errorf("%s: no version statement", name)
	}
	return f, nil
}

func parseSet(s string) (setStmt, error) {
	var st setStmt
	name, items, ok := strings.Cut(s, "=")
	if !ok {
		return st, errors.New("set: want \"set NAME = a | b\"")
	}
	name = strings.TrimSpace(name)
	if strings.HasSuffix(name, "+") {
		st.extend = true
		name = strings.TrimSpace(strings.TrimSuffix(name, "+"))
	}
	if !validName(name) {
		return st, fmt.Errorf("set: bad name %q (letters, digits, '_', '.')", name)
	}
	st.name = name
	list, err := splitList(items, "|")
	if err != nil {
		return st, fmt.Errorf("set %s: %w", name, err)
	}
	st.items = list
	return st, nil
}

func parseRule(s string) (ruleStmt, error) {
	r := ruleStmt{window: defaultWindow, negWindow: defaultNegWindow, afterWin: -1}
	head, body, ok := strings.Cut(s, ":")
	if !ok {
		return r, errors.New("rule: missing ':' before the expression")
	}
	fields := strings.Fields(head)
	if len(fields) < 3 {
		return r, errors.New("rule: want \"rule ID CATEGORY SCORE [options] : EXPR -- description\"")
	}
	r.id = fields[0]
	if !validName(r.id) {
		return r, fmt.Errorf("rule: bad id %q", r.id)
	}
	r.category = hazard.Category(fields[1])
	if !r.category.Valid() {
		return r, fmt.Errorf("rule %s: unknown category %q", r.id, fields[1])
	}
	score, err := strconv.ParseFloat(fields[2], 64)
	if err != nil || score <= 0 || score > 1 {
		return r, fmt.Errorf("rule %s: score %q is not in (0,1]", r.id, fields[2])
	}
	r.score = score
	for _, opt := range fields[3:] {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			return r, fmt.Errorf("rule %s: option %q is not key=value", r.id, opt)
		}
		switch k {
		case "window", "negwindow", "afterwindow":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxWindow {
				return r, fmt.Errorf("rule %s: %s=%q is not a number in [0,%d]", r.id, k, v, maxWindow)
			}
			switch k {
			case "window":
				r.window = n
			case "negwindow":
				r.negWindow = n
			default:
				r.afterWin = n
			}
		case "neg", "after":
			list, err := splitList(v, ",")
			if err != nil {
				return r, fmt.Errorf("rule %s: %s: %w", r.id, k, err)
			}
			if k == "neg" {
				r.neg = list
			} else {
				r.after = list
			}
		default:
			return r, fmt.Errorf("rule %s: unknown option %q", r.id, k)
		}
	}
	expr, desc, ok := strings.Cut(body, " -- ")
	desc = strings.TrimSpace(desc)
	if !ok || desc == "" {
		return r, fmt.Errorf("rule %s: missing \" -- description\"", r.id)
	}
	r.desc = desc
	var parts []string
	switch {
	case strings.Contains(expr, "->") && strings.Contains(expr, "~"):
		return r, fmt.Errorf("rule %s: mixes -> and ~", r.id)
	case strings.Contains(expr, "->"):
		parts = strings.Split(expr, "->")
		r.ordered = true
	case strings.Contains(expr, "~"):
		parts = strings.Split(expr, "~")
		if len(parts) > 2 {
			return r, fmt.Errorf("rule %s: ~ joins exactly two lists", r.id)
		}
	default:
		parts = []string{expr}
	}
	for _, p := range parts {
		list, err := splitList(p, "|")
		if err != nil {
			return r, fmt.Errorf("rule %s: %w", r.id, err)
		}
		r.parts = append(r.parts, list)
	}
	return r, nil
}

func splitList(s, sep string) ([]string, error) {
	var out []string
	const esc = "\x00"
	s = strings.ReplaceAll(s, "\\"+sep, esc)
	for _, it := range strings.Split(s, sep) {
		it = strings.Join(strings.Fields(strings.ReplaceAll(it, esc, sep)), " ")
		if it == "" {
			continue
		}
		if strings.HasPrefix(it, "@") && !validName(it[1:]) {
			return nil, fmt.Errorf("bad set reference %q", it)
		}
		out = append(out, it)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
