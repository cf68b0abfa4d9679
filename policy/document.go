package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// MaxDocumentSize bounds a policy document.
const MaxDocumentSize = 1 << 20

// maxRules bounds the number of rules in a document.
const maxRules = 1000

// maxHoldBack bounds the streaming hold-back window.
const maxHoldBack = 1 << 20

// DefaultRefusal is the refusal message when a document sets none.
const DefaultRefusal = "This request was blocked by the safety policy."

// Block styles.
const (
	BlockStyleError      = "error"
	BlockStyleCompletion = "completion"
)

// Issue is one problem in a policy document, at a 1-based line and column.
type Issue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// ValidationError lists every problem found in a document.
type ValidationError struct {
	Name   string  // file name or other label of the document
	Issues []Issue // sorted by position
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s", e.Name, is.Line, is.Column, is.Message)
	}
	return b.String()
}

// tier is one step of a category's action ladder: at or above Threshold,
// the action is Action (unless a higher tier applies).
type tier struct {
	Threshold float64 `json:"threshold"`
	Action    Action  `json:"action"`
	Guard     string  `json:"guard,omitempty"`
	Then      Action  `json:"then,omitempty"`
}

// stageConfig is the effective configuration of one stage.
type stageConfig struct {
	tiers      [][]tier // by category index; nil: not checked
	checks     []hazard.Category
	thresholds map[hazard.Category]float64
	esc        *EscalationRule
}

// settings is an effective configuration: the defaults, or the defaults
// overlaid with one rule.
type settings struct {
	refusal    string
	blockStyle string
	failMode   FailMode
	holdBack   int
	stages     [2]*stageConfig // input, output
}

func (s *settings) stage(st Stage) *stageConfig { return s.stages[stageIndex(st)] }

// rule is a compiled rule with its effective settings.
type rule struct {
	name                    string
	line, col               int
	routes, models, tenants globList
	cond                    *condition
	eff                     settings
}

// Policy is an immutable, validated policy document.
type Policy struct {
	name       string
	version    string
	source     []byte
	canonical  []byte
	digest     string
	logContent bool
	defaults   settings
	rules      []rule
}

// categories in table order, and their indexes.
var (
	catList  = hazard.IDs()
	catIndex = func() map[hazard.Category]int {
		m := make(map[hazard.Category]int, len(catList))
		for i, c := range catList {
			m[c] = i
		}
		return m
	}()
)

func stageIndex(s Stage) int {
	if s == Output {
		return 1
	}
	return 0
}

// stageOf maps a request's stage to the stage whose configuration applies:
// anything other than output (including "" for single-text APIs) is input.
func stageOf(s Stage) Stage {
	if s == Output {
		return Output
	}
	return Input
}

// Parse reads and validates a policy document. name labels the document in
// errors (usually the file name). A document with problems returns a
// *ValidationError listing all of them with their positions.
func Parse(name string, data []byte) (*Policy, error) {
	p := &parser{name: name, src: data}
	pol := p.parse()
	if len(p.issues) > 0 {
		sort.SliceStable(p.issues, func(i, j int) bool {
			a, b := p.issues[i], p.issues[j]
			return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
		})
		return nil, &ValidationError{Name: name, Issues: p.issues}
	}
	pol.name = name
	pol.source = append([]byte(nil), data...)
	pol.canonical = pol.canonicalJSON()
	sum := sha256.Sum256(pol.canonical)
	pol.digest = "sha256:" + hex.EncodeToString(sum[:])
	return pol, nil
}

type parser struct {
	name   string
	src    []byte
	issues []Issue
}

func (p *parser) errAt(line, col int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	p.issues = append(p.issues, Issue{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errAt(n.Line, n.Column, format, args...)
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// rawSection is one stage section as written: explicit entries by
// category index and an optional "*" entry.
type rawSection struct {
	present bool
	star    []tier
	entries map[int][]tier
	node    *yaml.Node
}

// rawSettings is a defaults block or a rule as written; nil pointers are
// fields not given.
type rawSettings struct {
	refusal    *string
	blockStyle *string
	failMode   *FailMode
	holdBack   *int
	guard      *string
	input      rawSection
	output     rawSection
}

func (p *parser) parse() *Policy {
	if len(p.src) > MaxDocumentSize {
		p.errAt(1, 1, "document is %d bytes; the limit is %d", len(p.src), MaxDocumentSize)
		return nil
	}
	if !utf8.Valid(p.src) {
		p.errAt(1, 1, "document is not valid UTF-8")
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(p.src))
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		p.errAt(1, 1, "empty document: want a mapping with version, defaults and rules")
		return nil
	}
	if err == nil {
		// A second document would be silently ignored: refuse it.
		var extra yaml.Node
		if err2 := dec.Decode(&extra); err2 == nil {
			p.errAt(extra.Line, 1, "more than one YAML document; a policy file holds exactly one")
			return nil
		} else if !errors.Is(err2, io.EOF) {
			err = err2
		}
	}
	if err != nil {
		line := 1
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimPrefix(msg, m[0]+": ")
		}
		p.errAt(line, 1, "yaml: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errAt(1, 1, "empty document: want a mapping with version, defaults and rules")
		return nil
	}
	root := doc.Content[0]
	if !p.noAliases(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "document must be a mapping with version, defaults and rules, not %s", kindName(root))
		return nil
	}
	pol := &Policy{}
	var defaults rawSettings
	var ruleNodes *yaml.Node
	var haveVersion bool
	p.fields(root, "document", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "version":
			if s, ok := p.str(v, "version"); ok {
				if strings.TrimSpace(s) == "" {
					p.errorf(v, "version must not be empty")
				}
				pol.version = s
			}
			haveVersion = true
		case "defaults":
			defaults = p.settingsBlock(v, "defaults", true, &pol.logContent)
		case "rules":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "rules must be a list, not %s", kindName(v))
			} else if len(v.Content) > maxRules {
				p.errorf(v, "%d rules; the limit is %d", len(v.Content), maxRules)
			} else {
				ruleNodes = v
			}
		default:
			return false
		}
		return true
	}, "version", "defaults", "rules")
	if !haveVersion {
		p.errorf(root, "missing required field version")
	}
	pol.defaults = p.effective(nil, &defaults, firstNonNil(defaults.guard, nil), root)
	if ruleNodes != nil {
		names := map[string]int{}
		for _, rn := range ruleNodes.Content {
			r, ok := p.rule(rn, &pol.defaults, defaults.guard)
			if !ok {
				continue
			}
			if prev, dup := names[r.name]; dup {
				p.errorf(rn, "duplicate rule name %q (first at line %d)", r.name, prev)
				continue
			}
			names[r.name] = r.line
			pol.rules = append(pol.rules, r)
		}
	}
	return pol
}

func (p *parser) noAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.errorf(n, "anchors and aliases are not allowed in a policy document")
		return false
	}
	for _, c := range n.Content {
		if !p.noAliases(c) {
			return false
		}
	}
	return true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("the scalar %q", truncate(n.Value, 40))
	}
	return "an unexpected node"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// fields walks a mapping, rejecting non-string keys, duplicate keys and
// keys that f does not accept (f returns false for an unknown key).
func (p *parser) fields(n *yaml.Node, what string, f func(key string, k, v *yaml.Node) bool, known ...string) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be strings", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: duplicate field %q (first at line %d)", what, k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		if !f(k.Value, k, v) {
			p.errorf(k, "%s: unknown field %q (want %s)", what, k.Value, strings.Join(known, ", "))
		}
	}
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, not %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) settingsBlock(n *yaml.Node, what string, isDefaults bool, logContent *bool) rawSettings {
	var s rawSettings
	known := []string{"refusal", "block_style", "fail_mode", "hold_back", "guard", "input", "output"}
	if isDefaults {
		known = append(known, "log_content")
	} else {
		known = append([]string{"name", "match"}, known...)
	}
	p.fields(n, what, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name", "match":
			return !isDefaults // handled by rule
		case "refusal":
			if str, ok := p.str(v, "refusal"); ok {
				if strings.TrimSpace(str) == "" {
					p.errorf(v, "refusal must not be empty")
				}
				s.refusal = &str
			}
		case "block_style":
			if str, ok := p.str(v, "block_style"); ok {
				if str != BlockStyleError && str != BlockStyleCompletion {
					p.errorf(v, "block_style must be %q or %q, not %q", BlockStyleError, BlockStyleCompletion, truncate(str, 40))
				} else {
					s.blockStyle = &str
				}
			}
		case "fail_mode":
			if str, ok := p.str(v, "fail_mode"); ok {
				fm := FailMode(str)
				if fm != FailClosed && fm != FailOpen {
					p.errorf(v, "fail_mode must be %q or %q, not %q", FailClosed, FailOpen, truncate(str, 40))
				} else {
					s.failMode = &fm
				}
			}
		case "hold_back":
			var hb int
			if v.Kind != yaml.ScalarNode || v.Decode(&hb) != nil || hb < 0 || hb > maxHoldBack {
				p.errorf(v, "hold_back must be a whole number of characters in [0, %d]", maxHoldBack)
			} else {
				s.holdBack = &hb
			}
		case "guard":
			if str, ok := p.str(v, "guard"); ok {
				if strings.TrimSpace(str) == "" {
					p.errorf(v, "guard must name a guard-model configuration")
				} else {
					s.guard = &str
				}
			}
		case "log_content":
			if !isDefaults {
				return false
			}
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(logContent) != nil {
				p.errorf(v, "log_content must be true or false")
			}
		case "input":
			s.input = p.section(v, what+".input")
		case "output":
			s.output = p.section(v, what+".output")
		default:
			return false
		}
		return true
	}, known...)
	return s
}

// section reads a stage section: a mapping from category (or "*") to an
// entry.
func (p *parser) section(n *yaml.Node, what string) rawSection {
	sec := rawSection{present: true, entries: map[int][]tier{}, node: n}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return sec
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping from category to action, not %s", what, kindName(n))
		return sec
	}
	firstLine := map[hazard.Category]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be category names", what)
			continue
		}
		if k.Value == "*" {
			if sec.star != nil {
				p.errorf(k, "%s: duplicate \"*\" entry", what)
				continue
			}
			sec.star = p.entry(v, what+`["*"]`)
			if sec.star == nil {
				sec.star = []tier{}
			}
			continue
		}
		c, err := hazard.Parse(k.Value)
		if err != nil {
			p.errorf(k, "%s: unknown category %q (want a hazard category such as cbrn_weapons, a Llama Guard S-code, an OpenAI moderation name, or \"*\")", what, truncate(k.Value, 60))
			continue
		}
		if prev, dup := firstLine[c]; dup {
			p.errorf(k, "%s: category %s given twice (first at line %d)", what, c, prev)
			continue
		}
		firstLine[c] = k.Line
		ts := p.entry(v, fmt.Sprintf("%s.%s", what, c))
		if ts == nil {
			ts = []tier{}
		}
		sec.entries[catIndex[c]] = ts
	}
	return sec
}

// entry reads a category entry: an action ("block"), a mapping
// ({action, threshold, guard, then}) or a list of such mappings (tiers).
func (p *parser) entry(n *yaml.Node, what string) []tier {
	switch n.Kind {
	case yaml.ScalarNode:
		a, ok := p.action(n, what, false)
		if !ok {
			return nil
		}
		return []tier{{Threshold: detect.DefaultThreshold, Action: a}}
	case yaml.MappingNode:
		t, ok := p.tier(n, what)
		if !ok {
			return nil
		}
		return []tier{t}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n, "%s: empty list of tiers", what)
			return nil
		}
		var ts []tier
		bad := false
		for _, tn := range n.Content {
			if tn.Kind != yaml.MappingNode {
				p.errorf(tn, "%s: each tier must be a mapping with action and threshold, not %s", what, kindName(tn))
				bad = true
				continue
			}
			t, ok := p.tier(tn, what)
			if !ok {
				bad = true
				continue
			}
			for _, o := range ts {
				if o.Threshold == t.Threshold {
					p.errorf(tn, "%s: two tiers with threshold %g", what, t.Threshold)
					bad = true
				}
			}
			ts = append(ts, t)
		}
		if bad {
			return nil
		}
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Threshold < ts[j].Threshold })
		return ts
	}
	p.errorf(n, "%s: want an action, a mapping or a list of tiers, not %s", what, kindName(n))
	return nil
}

func (p *parser) action(n *yaml.Node, what string, then bool) (Action, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return "", false
	}
	a := Action(strings.ToLower(strings.TrimSpace(s)))
	if then {
		switch a {
		case Flag, Redact, Block:
			return a, true
		}
		p.errorf(n, "%s: then must be flag, redact or block, not %q", what, truncate(s, 40))
		return "", false
	}
	switch a {
	case Allow, Flag, Redact, Escalate, Block:
		return a, true
	}
	p.errorf(n, "%s: unknown action %q (want allow, flag, redact, escalate or block)", what, truncate(s, 40))
	return "", false
}

func (p *parser) tier(n *yaml.Node, what string) (tier, bool) {
	t := tier{Threshold: detect.DefaultThreshold}
	ok := true
	var haveAction bool
	var guardNode, thenNode *yaml.Node
	p.fields(n, what, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "action":
			a, good := p.action(v, what, false)
			ok = ok && good
			t.Action, haveAction = a, true
		case "threshold":
			var f float64
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!float" && v.Tag != "!!int") || v.Decode(&f) != nil || math.IsNaN(f) || f < 0 || f > 1 {
				p.errorf(v, "%s: threshold must be a number in [0, 1], not %s", what, kindName(v))
				ok = false
			} else {
				t.Threshold = f
			}
		case "guard":
			guardNode = v
			if s, good := p.str(v, what+".guard"); good && strings.TrimSpace(s) != "" {
				t.Guard = s
			} else {
				if good {
					p.errorf(v, "%s: guard must name a guard-model configuration", what)
				}
				ok = false
			}
		case "then":
			thenNode = v
			a, good := p.action(v, what, true)
			ok = ok && good
			t.Then = a
		default:
			return false
		}
		return true
	}, "action", "threshold", "guard", "then")
	if !haveAction {
		p.errorf(n, "%s: missing action", what)
		ok = false
	}
	if t.Action != Escalate && t.Action != "" {
		if guardNode != nil {
			p.errorf(guardNode, "%s: guard is only valid with action escalate", what)
			ok = false
		}
		if thenNode != nil {
			p.errorf(thenNode, "%s: then is only valid with action escalate", what)
			ok = false
		}
	}
	if t.Action == Escalate && t.Then == "" {
		t.Then = Block
	}
	return t, ok
}

func (p *parser) rule(n *yaml.Node, defaults *settings, defaultsGuard *string) (rule, bool) {
	r := rule{line: n.Line, col: n.Column}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "each rule must be a mapping, not %s", kindName(n))
		return r, false
	}
	ok := true
	var haveName bool
	var matchNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			haveName = true
			if s, good := p.str(v, "rule name"); good {
				if strings.TrimSpace(s) == "" || s == "default" {
					p.errorf(v, "rule name must be non-empty and not \"default\"")
					ok = false
				}
				r.name = s
			} else {
				ok = false
			}
		case "match":
			matchNode = v
		}
	}
	what := "rule"
	if r.name != "" {
		what = fmt.Sprintf("rule %q", truncate(r.name, 40))
	}
	if !haveName {
		p.errorf(n, "rule: missing required field name")
		ok = false
	}
	raw := p.settingsBlock(n, what, false, nil)
	if matchNode != nil {
		p.match(matchNode, what+".match", &r)
	}
	r.eff = p.effective(defaults, &raw, firstNonNil(raw.guard, defaultsGuard), n)
	return r, ok
}

func firstNonNil(a, b *string) string {
	if a != nil {
		return *a
	}
	if b != nil {
		return *b
	}
	return ""
}

func (p *parser) match(n *yaml.Node, what string, r *rule) {
	p.fields(n, what, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "route":
			r.routes = p.globs(v, what+".route")
		case "model":
			r.models = p.globs(v, what+".model")
		case "tenant":
			r.tenants = p.globs(v, what+".tenant")
		case "when":
			src, ok := p.str(v, what+".when")
			if !ok {
				return true
			}
			if strings.TrimSpace(src) == "" {
				p.errorf(v, "%s.when must not be empty", what)
				return true
			}
			c, issues := compileCondition(src)
			for _, is := range issues {
				line, col := p.celPosition(v, is.line, is.col)
				p.errAt(line, col, "%s.when: %s", what, is.msg)
			}
			r.cond = c
		default:
			return false
		}
		return true
	}, "route", "model", "tenant", "when")
}

// celPosition maps a position inside a condition (line 1-based, column
// 0-based in runes) to a position in the file. It is exact for plain and
// quoted one-line scalars and for literal block scalars; for folded and
// multi-line flow scalars it points at the line the expression starts on.
func (p *parser) celPosition(n *yaml.Node, line, col int) (int, int) {
	switch n.Style {
	case 0, yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if line != 1 {
			return n.Line, n.Column
		}
		off := 0
		if n.Style != 0 {
			off = 1
		}
		return n.Line, n.Column + off + col
	case yaml.LiteralStyle:
		// The block's content starts on the line after the indicator; its
		// indentation is that of the first content line, and the columns
		// of the expression are relative to it.
		fileLine := n.Line + line
		lines := strings.Split(string(p.src), "\n")
		if n.Line < len(lines) && fileLine-1 < len(lines) {
			first := lines[n.Line]
			indent := len(first) - len(strings.TrimLeft(first, " "))
			return fileLine, indent + 1 + col
		}
		return n.Line, n.Column
	}
	return n.Line, n.Column
}

func (p *parser) globs(n *yaml.Node, what string) globList {
	var pats []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		pats = []*yaml.Node{n}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n, "%s: empty list of patterns", what)
			return nil
		}
		pats = n.Content
	default:
		p.errorf(n, "%s must be a pattern or a list of patterns, not %s", what, kindName(n))
		return nil
	}
	var out globList
	for _, pn := range pats {
		s, ok := p.str(pn, what)
		if !ok {
			continue
		}
		g, err := compileGlob(s)
		if err != nil {
			p.errorf(pn, "%s: bad pattern: %v", what, err)
			continue
		}
		out = append(out, g)
	}
	return out
}

// effective overlays raw on base (nil for the built-in empty base) and
// resolves guards, per-stage check lists, thresholds and escalation.
func (p *parser) effective(base *settings, raw *rawSettings, guard string, at *yaml.Node) settings {
	var s settings
	if base != nil {
		s = settings{refusal: base.refusal, blockStyle: base.blockStyle, failMode: base.failMode, holdBack: base.holdBack}
	} else {
		s = settings{refusal: DefaultRefusal, blockStyle: BlockStyleError, failMode: FailClosed, holdBack: 200}
	}
	if raw.refusal != nil {
		s.refusal = *raw.refusal
	}
	if raw.blockStyle != nil {
		s.blockStyle = *raw.blockStyle
	}
	if raw.failMode != nil {
		s.failMode = *raw.failMode
	}
	if raw.holdBack != nil {
		s.holdBack = *raw.holdBack
	}
	for i, sec := range []*rawSection{&raw.input, &raw.output} {
		var tiers [][]tier
		if base != nil {
			tiers = append([][]tier(nil), base.stages[i].tiers...)
		} else {
			tiers = make([][]tier, len(catList))
		}
		node := sec.node
		if node == nil {
			node = at
		}
		resolve := func(ts []tier, name string) []tier {
			out := make([]tier, len(ts))
			copy(out, ts)
			for j := range out {
				if out[j].Action == Escalate && out[j].Guard == "" {
					out[j].Guard = guard
					if guard == "" && node != nil {
						p.errorf(node, "%s: %s escalates but no guard is named (set guard: on the tier, the rule or the defaults)", stageName(i), name)
					}
				}
			}
			return out
		}
		if sec.star != nil {
			r := resolve(sec.star, `"*"`)
			for c := range tiers {
				if _, explicit := sec.entries[c]; !explicit {
					tiers[c] = r
				}
			}
		}
		for c := range tiers {
			if ts, ok := sec.entries[c]; ok {
				tiers[c] = resolve(ts, string(catList[c]))
			}
		}
		sc := &stageConfig{tiers: tiers, thresholds: map[hazard.Category]float64{}}
		var guards []string
		for c, ts := range tiers {
			min, checked := 2.0, false
			for _, t := range ts {
				if t.Action == Allow {
					continue
				}
				checked = true
				if t.Threshold < min {
					min = t.Threshold
				}
				if t.Action == Escalate {
					if t.Guard == "" {
						continue // reported by resolve
					}
					if sc.esc == nil {
						sc.esc = &EscalationRule{Guard: t.Guard, Then: t.Then}
						guards = append(guards, t.Guard)
					} else if sc.esc.Guard != t.Guard {
						if !contains(guards, t.Guard) {
							guards = append(guards, t.Guard)
						}
					} else if t.Then.Strength() > sc.esc.Then.Strength() {
						sc.esc.Then = t.Then
					}
					if !containsCat(sc.esc.Categories, catList[c]) {
						sc.esc.Categories = append(sc.esc.Categories, catList[c])
					}
				}
			}
			if checked {
				sc.checks = append(sc.checks, catList[c])
				sc.thresholds[catList[c]] = min
			}
		}
		// A conflict in a section the rule does not touch is the defaults'
		// own, reported there.
		if len(guards) > 1 && node != nil && (base == nil || sec.present) {
			p.errorf(node, "%s: escalation to more than one guard (%s); one stage may escalate to one guard", stageName(i), strings.Join(guards, ", "))
		}
		s.stages[i] = sc
	}
	return s
}

func stageName(i int) string {
	if i == 1 {
		return "output"
	}
	return "input"
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func containsCat(l []hazard.Category, c hazard.Category) bool {
	for _, x := range l {
		if x == c {
			return true
		}
	}
	return false
}

// The canonical form of a policy: its effective configuration as JSON with
// categories under their IDs and every default made explicit. Two
// documents that differ only in comments, key order, spelling of category
// names or defaults left implicit have the same canonical form and digest.
type canonDoc struct {
	Version    string      `json:"version"`
	LogContent bool        `json:"log_content"`
	Defaults   canonConfig `json:"defaults"`
	Rules      []canonRule `json:"rules"`
}

type canonConfig struct {
	Refusal    string            `json:"refusal"`
	BlockStyle string            `json:"block_style"`
	FailMode   FailMode          `json:"fail_mode"`
	HoldBack   int               `json:"hold_back"`
	Input      map[string][]tier `json:"input"`
	Output     map[string][]tier `json:"output"`
}

type canonRule struct {
	Name   string      `json:"name"`
	Route  []string    `json:"route,omitempty"`
	Model  []string    `json:"model,omitempty"`
	Tenant []string    `json:"tenant,omitempty"`
	When   string      `json:"when,omitempty"`
	Config canonConfig `json:"config"`
}

func canonSettings(s *settings) canonConfig {
	c := canonConfig{Refusal: s.refusal, BlockStyle: s.blockStyle, FailMode: s.failMode, HoldBack: s.holdBack}
	for i, dst := range []*map[string][]tier{&c.Input, &c.Output} {
		m := map[string][]tier{}
		for ci, ts := range s.stages[i].tiers {
			if ts != nil {
				m[string(catList[ci])] = ts
			}
		}
		*dst = m
	}
	return c
}

func (pol *Policy) canonicalJSON() []byte {
	d := canonDoc{Version: pol.version, LogContent: pol.logContent, Defaults: canonSettings(&pol.defaults), Rules: []canonRule{}}
	for i := range pol.rules {
		r := &pol.rules[i]
		cr := canonRule{Name: r.name, Route: r.routes.strings(), Model: r.models.strings(), Tenant: r.tenants.strings(), Config: canonSettings(&r.eff)}
		if r.cond != nil {
			cr.When = r.cond.src
		}
		d.Rules = append(d.Rules, cr)
	}
	b, err := json.Marshal(d)
	if err != nil {
		// Only plain strings, numbers and maps: Marshal cannot fail.
		panic("policy: canonical form: " + err.Error())
	}
	return b
}
