package guardmodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// Escalation modes and resolutions.
const (
	EscalateBand   = "band"
	EscalateAlways = "always"
	EscalateNever  = "never"

	ResolveMax   = "max"
	ResolveGuard = "guard"
)

// DefaultBand is the uncertain band used when Lo and Hi are both zero.
var DefaultBand = [2]float64{0.2, 0.8}

// Escalation decides when a Cascade calls its guard.
type Escalation struct {
	// Mode is "band" (default): escalate when the built-in score of some
	// category in Categories falls in [Lo, Hi), or when a category in
	// Always scores above zero; "always": every text; "never": no text.
	// In every mode but "never" a failed built-in detector also escalates.
	Mode string  `json:"mode,omitempty" yaml:"mode,omitempty"`
	Lo   float64 `json:"lo,omitempty" yaml:"lo,omitempty"`
	Hi   float64 `json:"hi,omitempty" yaml:"hi,omitempty"`
	// Categories the band applies to; empty means every category that
	// counts towards "unsafe" (content categories and prompt injection).
	Categories []hazard.Category `json:"categories,omitempty" yaml:"categories,omitempty"`
	// Always lists categories for which any built-in finding, however
	// sure, gets the guard's opinion too.
	Always []hazard.Category `json:"always,omitempty" yaml:"always,omitempty"`
	// Resolve is how the guard's answer combines with the built-in
	// findings: "max" (default) adds the guard's findings, so the
	// pipeline's per-category maximum can only rise; "guard" lets the
	// guard settle uncertain cases both ways: built-in findings scoring in
	// [Lo, Hi) in a category the guard covers are dropped before the
	// guard's findings are added (findings outside the band are kept).
	Resolve string `json:"resolve,omitempty" yaml:"resolve,omitempty"`
}

// Validate checks e; errors name the field.
func (e *Escalation) Validate() error {
	switch e.Mode {
	case "", EscalateBand, EscalateAlways, EscalateNever:
	default:
		return fmt.Errorf("escalation.mode %q: want %q, %q or %q", e.Mode, EscalateBand, EscalateAlways, EscalateNever)
	}
	switch e.Resolve {
	case "", ResolveMax, ResolveGuard:
	default:
		return fmt.Errorf("escalation.resolve %q: want %q or %q", e.Resolve, ResolveMax, ResolveGuard)
	}
	lo, hi := e.band()
	if !(lo >= 0 && lo < hi && hi <= 1) {
		return fmt.Errorf("escalation band [lo=%v, hi=%v) must satisfy 0 <= lo < hi <= 1", e.Lo, e.Hi)
	}
	for _, c := range append(append([]hazard.Category(nil), e.Categories...), e.Always...) {
		if !c.Valid() {
			return fmt.Errorf("escalation: unknown category %q", c)
		}
	}
	return nil
}

func (e *Escalation) band() (lo, hi float64) {
	if e.Lo == 0 && e.Hi == 0 {
		return DefaultBand[0], DefaultBand[1]
	}
	return e.Lo, e.Hi
}

// Judge is a guard as a Cascade uses it: a detector that can say which
// categories it judges. *Guard implements it.
type Judge interface {
	detect.Detector
	Covers(c hazard.Category) bool
}

// Cascade is a detector that runs the built-in detectors and escalates to a
// guard when its Escalation says so. Findings keep their detectors' names;
// the guard's are "guardmodel:<name>".
type Cascade struct {
	builtin []detect.Detector
	guard   Judge
	esc     Escalation
	lo, hi  float64
	// Categories are numbered in hazard.All order; scores are kept in a
	// fixed array so a scan allocates nothing to decide.
	index       map[hazard.Category]int
	bandIdx     []int
	always      []bool
	version     string
	escalations atomic.Uint64
}

var _ detect.Detector = (*Cascade)(nil)

// NewCascade returns a cascade over the built-in detectors and guard.
func NewCascade(esc Escalation, guard Judge, builtin ...detect.Detector) (*Cascade, error) {
	if err := esc.Validate(); err != nil {
		return nil, err
	}
	if guard == nil {
		return nil, errors.New("cascade: no guard")
	}
	all := hazard.All()
	if len(all) > maxCategories {
		return nil, fmt.Errorf("cascade: %d categories exceed %d", len(all), maxCategories)
	}
	c := &Cascade{builtin: builtin, guard: guard, esc: esc, index: map[hazard.Category]int{}, always: make([]bool, len(all))}
	for i, info := range all {
		c.index[info.ID] = i
	}
	c.lo, c.hi = esc.band()
	if c.esc.Mode == "" {
		c.esc.Mode = EscalateBand
	}
	if c.esc.Resolve == "" {
		c.esc.Resolve = ResolveMax
	}
	band := map[hazard.Category]bool{}
	if len(esc.Categories) == 0 {
		for _, info := range all {
			if info.Content || info.ID == hazard.PromptInjection {
				band[info.ID] = true
			}
		}
	}
	for _, k := range esc.Categories {
		band[k] = true
	}
	for i, info := range all {
		if band[info.ID] {
			c.bandIdx = append(c.bandIdx, i)
		}
	}
	for _, k := range esc.Always {
		c.always[c.index[k]] = true
	}
	parts := make([]string, 0, len(builtin)+1)
	for _, d := range builtin {
		parts = append(parts, d.Name()+"@"+d.Version())
	}
	parts = append(parts, guard.Name()+"@"+guard.Version())
	c.version = fmt.Sprintf("%s[%g,%g)/%s:%s", c.esc.Mode, c.lo, c.hi, c.esc.Resolve, strings.Join(parts, ","))
	return c, nil
}

// Name is "cascade".
func (c *Cascade) Name() string { return "cascade" }

// Version lists the escalation settings and every wrapped detector with its
// version, so an audit record says exactly what decided.
func (c *Cascade) Version() string { return c.version }

// Escalations is the number of scans that called the guard so far.
func (c *Cascade) Escalations() uint64 { return c.escalations.Load() }

// Scan runs the built-in detectors, then the guard if the escalation rule
// says so. Errors of the wrapped detectors are joined, each prefixed with
// the detector's name; findings found before an error are kept.
func (c *Cascade) Scan(ctx context.Context, doc *detect.Document, dst []detect.Finding) ([]detect.Finding, error) {
	start := len(dst)
	var errs []error
	for _, d := range c.builtin {
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		var err error
		dst, err = d.Scan(ctx, doc, dst)
		if err != nil {
			if ctx.Err() != nil {
				return dst, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", d.Name(), err))
		}
	}
	if !c.shouldEscalate(dst[start:], len(errs) > 0) {
		return dst, errors.Join(errs...)
	}
	c.escalations.Add(1)
	guardStart := len(dst)
	var err error
	dst, err = c.guard.Scan(ctx, doc, dst)
	if err != nil {
		if ctx.Err() != nil {
			return dst, ctx.Err()
		}
		errs = append(errs, err) // a *Error already names the guard
		return dst, errors.Join(errs...)
	}
	if c.esc.Resolve == ResolveGuard {
		dst = c.resolve(dst, start, guardStart)
	}
	return dst, errors.Join(errs...)
}

// shouldEscalate applies the rule to the built-in findings.
func (c *Cascade) shouldEscalate(fs []detect.Finding, failed bool) bool {
	switch c.esc.Mode {
	case EscalateNever:
		return false
	case EscalateAlways:
		return true
	}
	if failed {
		return true
	}
	var score [maxCategories]float64
	note := func(cat hazard.Category, v float64) bool {
		i, ok := c.index[cat]
		if !ok {
			return false
		}
		if c.always[i] && v > 0 {
			return true
		}
		score[i] = max(score[i], v)
		return false
	}
	for _, f := range fs {
		if note(f.Category, f.Score) {
			return true
		}
		for p, ok := parentOf(f.Category); ok; p, ok = parentOf(p) {
			if note(p, f.Score) {
				return true
			}
		}
	}
	for _, i := range c.bandIdx {
		if s := score[i]; s >= c.lo && s < c.hi {
			return true
		}
	}
	return false
}

// maxCategories bounds the taxonomy size the cascade's fixed arrays hold.
const maxCategories = 64

// parentOf returns c's parent without allocating.
func parentOf(c hazard.Category) (hazard.Category, bool) {
	info, ok := hazard.Lookup(c)
	if !ok || info.Parent == "" {
		return "", false
	}
	return info.Parent, true
}

// resolve drops the built-in findings in dst[start:guardStart] that score
// in the band in a category the guard covers.
func (c *Cascade) resolve(dst []detect.Finding, start, guardStart int) []detect.Finding {
	out := dst[:start]
	for i := start; i < len(dst); i++ {
		f := dst[i]
		if i < guardStart && f.Score >= c.lo && f.Score < c.hi && c.guard.Covers(f.Category) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// CascadeConfig is a guard and its escalation rule, as configuration files
// carry them:
//
//	{"guard": {"name": "lg3", "kind": "llama_guard", ...}, "escalation": {"mode": "band", "lo": 0.2, "hi": 0.8}}
type CascadeConfig struct {
	Guard      Config     `json:"guard" yaml:"guard"`
	Escalation Escalation `json:"escalation" yaml:"escalation"`
}

// Build returns the guard and a cascade from the built-in detectors to it.
func (c CascadeConfig) Build(builtin ...detect.Detector) (*Cascade, *Guard, error) {
	g, err := New(c.Guard)
	if err != nil {
		return nil, nil, err
	}
	cs, err := NewCascade(c.Escalation, g, builtin...)
	if err != nil {
		return nil, nil, err
	}
	return cs, g, nil
}
