// Package lexicon is Warden's term-list detector: curated, versioned lists
// of high-precision English and Chinese phrases (weapon production, CSAM,
// explicit sexual terms, slurs, self-harm intent, prompt injection, attacks
// on critical infrastructure, cyber attacks, violent crimes, deepfakes and
// impersonation), with context rules — a verb within a few words of an
// object, and educational frames that suppress topic-only matches — plus
// instruction-override and prompt-extraction patterns in seven more
// languages (lists/multi.txt).
//
// All phrases of all lists are compiled once into one Aho-Corasick automaton
// (Automaton, written here: a dense byte-class DFA that does not allocate
// while matching). Every view of a detect.Document is scanned, so a term
// hidden by look-alike letters, spacing or an encoding is still found once
// package normalize has produced the view that undoes it; findings always
// point at the ORIGINAL text. A derived view is read only around where it
// differs from the original, in regions wide enough to make the findings a
// whole read would make (delta.go).
//
// The built-in lists live in lists/*.txt and are embedded in the binary;
// WithExtraLists adds lists from files named in configuration. The list
// format is described in lists.go.
package lexicon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/hazard"
)

//go:embed lists/*.txt
var builtinFS embed.FS

// Name is the detector's name in findings.
const Name = "lexicon"

// maxFindingsPerRule bounds the findings one rule makes in one view, so a
// hostile text repeating a term cannot make the verdict grow without limit.
const maxFindingsPerRule = 16

// maxPooledHits bounds the match and change buffers kept for reuse
// between scans.
const maxPooledHits = 1 << 14

// maxNeighbours bounds how many neighbouring matches a context rule looks at
// on each side of a match.
const maxNeighbours = 64

type config struct {
	noBuiltin bool
	sources   []source
	err       error
}

type source struct {
	name string
	data []byte
	path string
}

// Option configures New.
type Option func(*config)

// WithExtraLists adds term lists read from files (for example named in the
// gateway configuration). They may use and extend the built-in sets.
func WithExtraLists(paths ...string) Option {
	return func(c *config) {
		for _, p := range paths {
			c.sources = append(c.sources, source{name: p, path: p})
		}
	}
}

// WithList adds a term list read from r; name is used in error messages.
func WithList(name string, r io.Reader) Option {
	return func(c *config) {
		data, err := io.ReadAll(r)
		if err != nil {
			if c.err == nil {
				c.err = fmt.Errorf("lexicon: read list %s: %w", name, err)
			}
			return
		}
		c.sources = append(c.sources, source{name: name, data: data})
	}
}

// WithoutBuiltin leaves out the built-in lists (for tests of custom lists).
func WithoutBuiltin() Option { return func(c *config) { c.noBuiltin = true } }

// Detector is the lexicon detector. It is safe for concurrent use.
type Detector struct {
	ac       *Automaton
	patSets  [][]int32 // pattern -> sets containing it
	patFlags []uint8
	sets     []string // set names ("" for anonymous)
	rules    []rule
	bySet    [][]int32 // set -> rules triggered by a match of it
	version  string
	pool     sync.Pool
	// nb and reach let Scan read derived views only around their
	// changes (delta.go).
	nb    *neighbours
	reach int
	// reachWide is reach in text with full-width forms.
	reachWide int
	// wholeViews reads every view whole (tests compare the two).
	wholeViews bool
	// runeReach is the length of the longest pattern holding each
	// non-ASCII rune (copy.go).
	runeReach map[rune]int32
	// wholeCopies runs the automaton over every simplified copy instead
	// of taking its matches from the text's (tests compare the two).
	wholeCopies bool
	patterns    []string // by id, for tests
}

const (
	flagLeft  uint8 = 1 << iota // needs a word boundary before
	flagRight                   // needs a word boundary after
)

type rule struct {
	id          string
	category    hazard.Category
	score       float64
	a           int32   // the set whose matches trigger the rule
	next        []int32 // sets that must follow (or, unordered, be near)
	ordered     bool
	window      int
	neg         int32 // set; < 0 for none
	negWindow   int
	after       int32 // set suppressing only after a match; < 0 for none
	afterWindow int
	explanation string
}

type hit struct {
	set        int32
	start, end int32
}

type scratch struct {
	hits   []hit
	hitsB  []hit // matches of the automaton's second stream
	counts []int
	// changes and regions hold a view's changes and the regions to scan.
	changes []normalize.Change
	regions []region
	bySet   setIndex
	// raw holds the automaton's matches of a text whose simplified copy
	// is scanned next; rawB, rawC, copied and windows are scratch for
	// copyMatches.
	raw, rawB, rawC []Match
	copied          []copiedRune
	windows         []region
}

// setIndex lists the hits of each set in order, so that partner visits
// only the hits of the set it looks for.
type setIndex struct {
	start []int32 // the hits of set s are idx[start[s]:start[s+1]]
	fill  []int32
	idx   []int32
}

// build indexes hits, of sets below nsets.
func (x *setIndex) build(hits []hit, nsets int) {
	x.start = slices.Grow(x.start[:0], nsets+1)[:nsets+1]
	clear(x.start)
	for _, h := range hits {
		x.start[h.set+1]++
	}
	for s := 1; s <= nsets; s++ {
		x.start[s] += x.start[s-1]
	}
	x.fill = append(x.fill[:0], x.start[:nsets]...)
	x.idx = slices.Grow(x.idx[:0], len(hits))[:len(hits)]
	for j, h := range hits {
		x.idx[x.fill[h.set]] = int32(j)
		x.fill[h.set]++
	}
}

// of returns the indices of the hits of set s, in order.
func (x *setIndex) of(s int32) []int32 { return x.idx[x.start[s]:x.start[s+1]] }

var _ detect.Detector = (*Detector)(nil)

// New builds a detector from the built-in lists and any extra lists.
func New(opts ...Option) (*Detector, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.err != nil {
		return nil, c.err
	}
	var srcs []source
	if !c.noBuiltin {
		b, err := builtinSources()
		if err != nil {
			return nil, err
		}
		srcs = b
	}
	for _, s := range c.sources {
		if s.path != "" {
			data, err := os.ReadFile(s.path)
			if err != nil {
				return nil, fmt.Errorf("lexicon: read list: %w", err)
			}
			s.data = data
		}
		srcs = append(srcs, s)
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("lexicon: no term lists")
	}
	return compile(srcs)
}

func builtinSources() ([]source, error) {
	names, err := fs.Glob(builtinFS, "lists/*.txt")
	if err != nil {
		return nil, fmt.Errorf("lexicon: built-in lists: %w", err)
	}
	sort.Strings(names)
	var out []source
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("lexicon: built-in lists: %w", err)
		}
		out = append(out, source{name: path.Base(n), data: data})
	}
	return out, nil
}

// Version returns the version of the built-in term lists and a digest of
// their contents, such as "2026.11.29+3f2a9c1b7d04".
func Version() string {
	srcs, err := builtinSources()
	if err != nil {
		return "unknown"
	}
	var files []*listFile
	for _, s := range srcs {
		f, err := parseList(s.name, bytes.NewReader(s.data))
		if err != nil {
			return "invalid"
		}
		files = append(files, f)
	}
	return versionOf(srcs, files)
}

func versionOf(srcs []source, files []*listFile) string {
	h := sha256.New()
	var vs []string
	for i, s := range srcs {
		fmt.Fprintf(h, "%s\x00%d\x00", s.name, len(s.data))
		h.Write(s.data)
		if !slices.Contains(vs, files[i].version) {
			vs = append(vs, files[i].version)
		}
	}
	sort.Strings(vs)
	return strings.Join(vs, ",") + "+" + hex.EncodeToString(h.Sum(nil))[:12]
}

type compiler struct {
	patIDs   map[string]int32
	patterns []string
	flags    []uint8
	patSets  [][]int32
	setIDs   map[string]int32
	setItems map[string][]string
	setWhere map[string]string
	sets     []string
	resolved map[string]int32
}

func compile(srcs []source) (*Detector, error) {
	cp := &compiler{
		patIDs: map[string]int32{}, setIDs: map[string]int32{},
		setItems: map[string][]string{}, setWhere: map[string]string{},
		resolved: map[string]int32{},
	}
	var files []*listFile
	for _, s := range srcs {
		f, err := parseList(s.name, bytes.NewReader(s.data))
		if err != nil {
			return nil, fmt.Errorf("lexicon: %w", err)
		}
		files = append(files, f)
		for _, st := range f.sets {
			_, exists := cp.setItems[st.name]
			switch {
			case st.extend && !exists:
				return nil, fmt.Errorf("lexicon: %s: set %s extended before it is defined", st.where, st.name)
			case !st.extend && exists:
				return nil, fmt.Errorf("lexicon: %s: set %s already defined at %s", st.where, st.name, cp.setWhere[st.name])
			}
			if !exists {
				cp.setWhere[st.name] = st.where
			}
			cp.setItems[st.name] = append(cp.setItems[st.name], st.items...)
		}
	}
	d := &Detector{version: versionOf(srcs, files)}
	seen := map[string]string{}
	for _, f := range files {
		for _, rs := range f.rules {
			if w, dup := seen[rs.id]; dup {
				return nil, fmt.Errorf("lexicon: %s: rule %s already defined at %s", rs.where, rs.id, w)
			}
			seen[rs.id] = rs.where
			r := rule{id: rs.id, category: rs.category, score: rs.score, ordered: rs.ordered,
				window: rs.window, negWindow: rs.negWindow, neg: -1, after: -1, afterWindow: rs.afterWin,
				explanation: fmt.Sprintf("%s (%s rule %s)", rs.desc, rs.category, rs.id)}
			if r.afterWindow < 0 {
				r.afterWindow = r.negWindow
			}
			var err error
			for k, part := range rs.parts {
				set, err := cp.list(part, 0)
				if err != nil {
					return nil, fmt.Errorf("lexicon: %s: %w", rs.where, err)
				}
				if k == 0 {
					r.a = set
				} else {
					r.next = append(r.next, set)
				}
			}
			if rs.neg != nil {
				if r.neg, err = cp.list(rs.neg, 0); err != nil {
					return nil, fmt.Errorf("lexicon: %s: %w", rs.where, err)
				}
			}
			if rs.after != nil {
				if r.after, err = cp.list(rs.after, 0); err != nil {
					return nil, fmt.Errorf("lexicon: %s: %w", rs.where, err)
				}
			}
			d.rules = append(d.rules, r)
		}
	}
	if len(d.rules) == 0 {
		names := make([]string, len(srcs))
		for i, s := range srcs {
			names[i] = s.name
		}
		return nil, fmt.Errorf("lexicon: the lists %s define no rules", strings.Join(names, ", "))
	}
	ac, err := Build(cp.patterns)
	if err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	d.ac, d.patSets, d.patFlags, d.sets = ac, cp.patSets, cp.flags, cp.sets
	d.bySet = make([][]int32, len(d.sets))
	for i, r := range d.rules {
		d.bySet[r.a] = append(d.bySet[r.a], int32(i))
	}
	d.nb = newNeighbours(cp.patterns)
	d.reach = reachOf(cp.patterns, cp.patSets, d.rules, maxGapBytes)
	d.reachWide = reachOf(cp.patterns, cp.patSets, d.rules, maxGapSpan)
	d.patterns = cp.patterns
	d.runeReach = runeReachOf(cp.patterns)
	d.pool.New = func() any { return &scratch{counts: make([]int, len(d.rules))} }
	return d, nil
}

// list returns the set holding the union of items. A list that is exactly
// one @reference is that set.
func (cp *compiler) list(items []string, depth int) (int32, error) {
	if depth > 16 {
		return -1, fmt.Errorf("sets nested too deeply (a cycle?)")
	}
	if len(items) == 1 && strings.HasPrefix(items[0], "@") {
		return cp.named(items[0][1:], depth)
	}
	id := int32(len(cp.sets))
	cp.sets = append(cp.sets, "")
	if err := cp.addItems(id, items, depth); err != nil {
		return -1, err
	}
	return id, nil
}

func (cp *compiler) named(name string, depth int) (int32, error) {
	if id, ok := cp.resolved[name]; ok {
		return id, nil
	}
	items, ok := cp.setItems[name]
	if !ok {
		return -1, fmt.Errorf("unknown set @%s", name)
	}
	id := int32(len(cp.sets))
	cp.sets = append(cp.sets, name)
	cp.resolved[name] = id
	if err := cp.addItems(id, items, depth); err != nil {
		return -1, fmt.Errorf("set %s: %w", name, err)
	}
	return id, nil
}

func (cp *compiler) addItems(set int32, items []string, depth int) error {
	if depth > 16 {
		return fmt.Errorf("sets nested too deeply (a cycle?)")
	}
	for _, it := range items {
		if strings.HasPrefix(it, "@") {
			items, ok := cp.setItems[it[1:]]
			if !ok {
				return fmt.Errorf("unknown set %s", it)
			}
			if err := cp.addItems(set, items, depth+1); err != nil {
				return err
			}
			continue
		}
		p, err := cp.pattern(it)
		if err != nil {
			return err
		}
		if !slices.Contains(cp.patSets[p], set) {
			cp.patSets[p] = append(cp.patSets[p], set)
		}
	}
	return nil
}

func (cp *compiler) pattern(phrase string) (int32, error) {
	prefix := strings.HasSuffix(phrase, "*")
	text := strings.Join(strings.Fields(strings.ToLower(strings.TrimSuffix(phrase, "*"))), " ")
	if text == "" {
		return -1, fmt.Errorf("empty phrase %q", phrase)
	}
	if len(text) > MaxPatternLen {
		return -1, fmt.Errorf("phrase longer than %d bytes", MaxPatternLen)
	}
	if !utf8.ValidString(text) {
		return -1, fmt.Errorf("phrase is not valid UTF-8")
	}
	key := text
	if prefix {
		key += "*"
	}
	if id, ok := cp.patIDs[key]; ok {
		return id, nil
	}
	var fl uint8
	first, _ := utf8.DecodeRuneInString(text)
	last, _ := utf8.DecodeLastRuneInString(text)
	if wordRune(first) {
		fl |= flagLeft
	}
	if wordRune(last) && !prefix {
		fl |= flagRight
	}
	id := int32(len(cp.patterns))
	cp.patIDs[key] = id
	cp.patterns = append(cp.patterns, text)
	cp.flags = append(cp.flags, fl)
	cp.patSets = append(cp.patSets, nil)
	return id, nil
}

// wordRune reports whether r is part of a word that needs boundaries: a
// letter or digit of a script that separates words with spaces.
func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return false
	}
	return !cjk(r)
}

func cjk(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// Version implements detect.Detector: the versions of the lists in use and
// a digest of their contents.
func (d *Detector) Version() string { return d.version }

// Rules returns the number of rules and of distinct phrases compiled.
func (d *Detector) Rules() (rules, phrases int) { return len(d.rules), len(d.patSets) }

// Automaton returns the compiled matcher (for benchmarks and statistics).
func (d *Detector) Automaton() *Automaton { return d.ac }

// Scan implements detect.Detector: it scans every view of doc.
func (d *Detector) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	sc := d.pool.Get().(*scratch)
	defer func() {
		// Do not keep the buffers of one huge text alive in the pool.
		if cap(sc.hits) > maxPooledHits {
			sc.hits, sc.hitsB = nil, nil
		}
		if cap(sc.changes) > maxPooledHits {
			sc.changes = nil
		}
		if cap(sc.raw) > maxPooledHits || cap(sc.rawB) > maxPooledHits || cap(sc.rawC) > maxPooledHits {
			sc.raw, sc.rawB, sc.rawC = nil, nil, nil
		}
		d.pool.Put(sc)
	}()
	views := doc.Views
	if len(views) == 0 {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		return d.scanText(sc, doc.Text, doc.Text, 0, 0, len(doc.Text), "original", nil, dst), nil
	}
	for i := range views {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		v := &views[i]
		if i > 0 && normalize.CaseOnly(v) {
			// The automaton already ignores ASCII case.
			continue
		}
		orig := v.Original
		if v.Identity() {
			orig = nil
		}
		if i > 0 && !d.wholeViews {
			// A derived view is read only around its changes (delta.go).
			if regs, whole := d.regions(sc, doc.Text, v); !whole {
				for _, r := range regs {
					dst = d.scanVariants(sc, doc.Text, v.Text[r.from:r.to], r.from, r.keepFrom-r.from, r.keepTo-r.from, v.Name, orig, dst)
				}
				continue
			}
		}
		dst = d.scanVariants(sc, doc.Text, v.Text, 0, 0, len(v.Text), v.Name, orig, dst)
	}
	return dst, nil
}

// scanVariants scans text, which is view[off:off+len(text)], and the
// copies of it the lists need, keeping findings that meet text[keepFrom:keepTo].
func (d *Detector) scanVariants(sc *scratch, original, text string, off, keepFrom, keepTo int, view string, orig func(int, int) (int, int), dst []detect.Finding) []detect.Finding {
	// The Chinese lists are written in simplified characters: text in
	// traditional script (Taiwan, Hong Kong, or an evasion) is also
	// scanned read as simplified. The copy keeps every byte offset, so
	// the view's own mapping to the original still holds. Its matches
	// mostly are the text's: they are taken from there (copy.go).
	st, simplified := normalize.SimplifiedText(text)
	dst = d.scanMatches(sc, original, text, off, keepFrom, keepTo, view, orig, nil, simplified, dst)
	if simplified {
		if raw, ok := d.copyMatches(sc, text, st); ok {
			dst = d.scanMatches(sc, original, st, off, keepFrom, keepTo, view+">simplified", orig, raw, false, dst)
		} else {
			dst = d.scanText(sc, original, st, off, keepFrom, keepTo, view+">simplified", orig, dst)
		}
	}
	// The automaton ignores ASCII case only, and the lists are in
	// lower case: text with capitals in other scripts ("Игнорируй")
	// is also scanned lowered, in the same byte layout.
	if lt, ok := normalize.LowerText(text); ok {
		dst = d.scanText(sc, original, lt, off, keepFrom, keepTo, view+">lower", orig, dst)
	}
	return dst
}

// scanText scans text, which is view[off:off+len(text)], keeping the
// findings that meet text[keepFrom:keepTo]. orig maps view offsets to the
// original text (nil when the view's offsets are the original's).
func (d *Detector) scanText(sc *scratch, original, text string, off, keepFrom, keepTo int, view string, orig func(int, int) (int, int), dst []detect.Finding) []detect.Finding {
	return d.scanMatches(sc, original, text, off, keepFrom, keepTo, view, orig, nil, false, dst)
}

// scanMatches is scanText given the automaton's matches of text in raw
// (in the order Scan reports them within each of its streams), or, when
// raw is nil, finding them; record then keeps them in sc.raw.
func (d *Detector) scanMatches(sc *scratch, original, text string, off, keepFrom, keepTo int, view string, orig func(int, int) (int, int), raw []Match, record bool, dst []detect.Finding) []detect.Finding {
	toOrig := func(s, e int) (int, int) {
		if orig == nil {
			return s + off, e + off
		}
		return orig(s+off, e+off)
	}
	glued := strings.Contains(view, "joined")
	hits, hitsB := sc.hits[:0], sc.hitsB[:0]
	// The automaton matches a long text as two streams split at k; keeping
	// their matches apart and joining them after keeps hits nearly sorted.
	k := d.ac.split(text)
	if k < 0 {
		k = len(text)
	}
	add := func(p, s, e int) {
		fl := d.patFlags[p]
		if fl&(flagLeft|flagRight) != 0 && !bounded(text, s, e, fl) {
			// A view that joins spaced or dotted letters may glue words
			// together ("make a b.o.m.b" joined reads "make abomb"):
			// there, accept the match when its original bytes stand on
			// word boundaries. Other views (decoded text) keep their own.
			if orig == nil || !glued {
				return
			}
			os, oe := toOrig(s, e)
			if !bounded(original, os, oe, fl) {
				return
			}
		}
		for _, set := range d.patSets[p] {
			if e <= k {
				hits = append(hits, hit{set, int32(s), int32(e)})
			} else {
				hitsB = append(hitsB, hit{set, int32(s), int32(e)})
			}
		}
	}
	switch {
	case raw != nil:
		for _, m := range raw {
			add(int(m.Pattern), int(m.Start), int(m.End))
		}
	case record:
		sc.raw = sc.raw[:0]
		d.ac.Scan(text, func(p, s, e int) {
			sc.raw = append(sc.raw, Match{int32(p), int32(s), int32(e)})
			add(p, s, e)
		})
	default:
		d.ac.Scan(text, add)
	}
	hits = append(hits, hitsB...)
	sc.hits, sc.hitsB = hits, hitsB
	if len(hits) == 0 {
		return dst
	}
	slices.SortFunc(hits, func(x, y hit) int {
		if x.start != y.start {
			return int(x.start - y.start)
		}
		return int(x.end - y.end)
	})
	for i := range sc.counts {
		sc.counts[i] = 0
	}
	// How far apart, in bytes, a rule's words can lie: farther in text
	// with full-width forms, which within counts as one byte each.
	gap := maxGapBytes
	if hasFullWidth(text) {
		gap = maxGapSpan
	}
	indexed := false
	for i, h := range hits {
		for _, ri := range d.bySet[h.set] {
			r := &d.rules[ri]
			if sc.counts[ri] >= maxFindingsPerRule {
				continue
			}
			s, e := int(h.start), int(h.end)
			cur, ok := i, true
			if len(r.next) > 0 && !indexed {
				sc.bySet.build(hits, len(d.sets))
				indexed = true
			}
			for _, set := range r.next {
				j := partner(text, hits, sc.bySet.of(set), cur, r, gap)
				if j < 0 {
					ok = false
					break
				}
				s, e = min(s, int(hits[j].start)), max(e, int(hits[j].end))
				cur = j
			}
			if !ok {
				continue
			}
			if s >= keepTo || e <= keepFrom {
				continue // made whole by the scan of another view or region
			}
			if (r.neg >= 0 || r.after >= 0) && d.suppressed(text, hits, i, s, e, r, gap) {
				continue
			}
			os, oe := toOrig(s, e)
			sc.counts[ri]++
			dst = append(dst, detect.Finding{
				Category: r.category, Score: r.score, Span: detect.Span{Start: os, End: oe},
				Detector: Name, View: view, Rule: r.id, Explanation: r.explanation,
			})
		}
	}
	return dst
}

// bounded reports whether text[s:e] starts and ends on word boundaries
// where the flags require them.
func bounded(text string, s, e int, fl uint8) bool {
	if fl&flagLeft != 0 && s > 0 && s <= len(text) {
		if r, _ := utf8.DecodeLastRuneInString(text[:s]); wordRune(r) {
			return false
		}
	}
	if fl&flagRight != 0 && e >= 0 && e < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[e:]); wordRune(r) {
			return false
		}
	}
	return true
}

// partner finds a match of a set within r.window words of hits[i] (after
// it when r is ordered, on either side otherwise); of lists the indices of
// that set's hits in order. It looks at most maxNeighbours hits away on
// each side, and stops at the first hit, of any set, too far away to be
// within reach (hits are sorted by start, so every hit after that one in
// that direction is too far as well).
func partner(text string, hits []hit, of []int32, i int, r *rule, gap func(int) int) int {
	h := hits[i]
	limit := gap(r.window)
	// k is the first of the set's hits after hits[i].
	k, hi := 0, len(of)
	for k < hi {
		m := int(uint(k+hi) >> 1)
		if int(of[m]) <= i {
			k = m + 1
		} else {
			hi = m
		}
	}
	for _, j := range of[k:] {
		if int(j)-i > maxNeighbours {
			break
		}
		o := hits[j]
		if o.start < h.end {
			continue // overlaps
		}
		if int(o.start-h.end) > limit {
			break
		}
		if within(text, int(h.end), int(o.start), r.window) {
			return int(j)
		}
	}
	if r.ordered {
		return -1
	}
	for p := k - 1; p >= 0; p-- {
		j := int(of[p])
		if j == i {
			continue
		}
		if i-j > maxNeighbours {
			break
		}
		o := hits[j]
		if int(h.start-o.start) > limit+MaxPatternLen {
			break
		}
		if o.end <= h.start && within(text, int(o.end), int(h.start), r.window) {
			return j
		}
	}
	return -1
}

// suppressed reports whether a match of r's negative set lies within
// r.negWindow words of [s, e) or overlaps it, or one of its after set
// follows it within r.afterWindow words.
func (d *Detector) suppressed(text string, hits []hit, i, s, e int, r *rule, gap func(int) int) bool {
	limit := gap(r.negWindow)
	if r.after >= 0 {
		limit = max(limit, gap(r.afterWindow))
	}
	for j, n := i, 0; j < len(hits) && n < maxNeighbours; j, n = j+1, n+1 {
		o := hits[j]
		if int(o.start)-e > limit {
			break
		}
		if o.set == r.neg && (int(o.start) < e || within(text, e, int(o.start), r.negWindow)) {
			return true
		}
		if o.set == r.after && int(o.start) >= e && gapWithin(text, e, int(o.start), r.afterWindow, false) {
			return true
		}
	}
	limit = gap(r.negWindow)
	for j, n := i-1, 0; j >= 0 && n < maxNeighbours; j, n = j-1, n+1 {
		o := hits[j]
		if s-int(o.start) > limit+MaxPatternLen {
			break
		}
		if o.set == r.neg && (int(o.end) > s || within(text, int(o.end), s, r.negWindow)) {
			return true
		}
	}
	return false
}

// maxGapBytes bounds the length of a gap of words words, as gapLength
// measures it.
func maxGapBytes(words int) int { return 24*words + 16 }

// maxGapSpan bounds the bytes a gap of words words may span: a full-width
// form (U+FF01..U+FF5E) counts as one byte of its three.
func maxGapSpan(words int) int { return 3 * maxGapBytes(words) }

// hasFullWidth reports whether text holds a full-width form of an ASCII
// character (U+FF01..U+FF5E).
func hasFullWidth(text string) bool {
	for i := 0; i < len(text); {
		k := strings.IndexByte(text[i:], 0xEF)
		if k < 0 {
			return false
		}
		if normalize.FullWidthAt(text, i+k) {
			return true
		}
		i += k + 1
	}
	return false
}

// gapLength is the length of s as within measures it: bytes, but a
// full-width form counts as the one byte folding makes of it, so a gap
// measures the same in the original text and in its folded view.
func gapLength(s string) int {
	n := len(s)
	// A full-width form starts with 0xEF: jump from one to the next.
	for i := 0; i+2 < len(s); {
		k := strings.IndexByte(s[i:len(s)-2], 0xEF)
		if k < 0 {
			break
		}
		i += k
		if normalize.FullWidthAt(s, i) {
			n -= 2
			i += 3
			continue
		}
		i++
	}
	return n
}

// within reports whether text[from:to] holds at most n words and no
// sentence end, and is no longer than maxGapBytes(n) (gapLength). A word is
// a run of letters or digits of a spaced script or a single CJK character.
func within(text string, from, to, n int) bool { return gapWithin(text, from, to, n, true) }

// gapWithin is within, where a sentence end ends the gap only if ends.
// The after= words of a rule may be in the next sentence: a question's
// purpose often is (…遭受性侵？有没有统计数据).
func gapWithin(text string, from, to, n int, ends bool) bool {
	if to < from {
		return false
	}
	if to-from > maxGapSpan(n) {
		return false
	}
	length := to - from
	if length > maxGapBytes(n) && gapLength(text[from:to]) > maxGapBytes(n) {
		return false
	}
	words := 0
	inWord := false
	for i := from; i < to; {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\'':
				if !inWord {
					words++
					inWord = true
				}
			case ends && (c == '.' || c == '!' || c == '?' || c == ';'):
				return false
			default:
				inWord = false
			}
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			i += size
			switch {
			case ends && (r == '。' || r == '！' || r == '？' || r == '；'):
				return false
			case cjk(r):
				words++
				inWord = false
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				if !inWord {
					words++
					inWord = true
				}
			default:
				inWord = false
			}
		}
		if words > n {
			return false
		}
	}
	return true
}
