package board

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Kind is the type of a statement: which act of the board it records.
type Kind string

const (
	KindPolicy  Kind = "policy"  // a policy bundle: the only policy that may weaken the current one
	KindRelease Kind = "release" // a model release with its risk assessment
	KindHalt    Kind = "halt"    // stop a scope now
	KindResume  Kind = "resume"  // lift a halt
	KindCharter Kind = "charter" // the charter itself (first one, or a rotation)
)

var kinds = [...]Kind{KindPolicy, KindRelease, KindHalt, KindResume, KindCharter}

// Kinds lists every statement kind in a stable order.
func Kinds() []Kind { return append([]Kind(nil), kinds[:]...) }

// Statement is the signed payload of every board act. Exactly one of the
// kind-specific fields is set, matching Type.
type Statement struct {
	Type Kind `json:"type"`
	// Deployment binds the statement to one Warden deployment: a statement
	// for another deployment is refused.
	Deployment string `json:"deployment"`
	// Version is one above the version of the head of the statement's chain
	// (see Subject); the first statement of a chain has version 1.
	Version uint64 `json:"version"`
	// Previous is the digest of the chain's head the statement replaces, ""
	// for version 1.
	Previous string    `json:"previous,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
	// Note is free text for the trustees (why this is proposed).
	Note string `json:"note,omitempty"`

	Policy  *PolicyBundle `json:"policy,omitempty"`
	Release *Release      `json:"release,omitempty"`
	Halt    *Control      `json:"halt,omitempty"`
	Resume  *Control      `json:"resume,omitempty"`
	Charter *Charter      `json:"charter,omitempty"`
}

// PolicyBundle approves one policy document.
type PolicyBundle struct {
	// Digest is the policy's Digest() ("sha256:...").
	Digest string `json:"digest"`
	// PolicyVersion is the policy's own Version() string.
	PolicyVersion string `json:"policy_version,omitempty"`
	// PreviousDigest is the digest of the policy this one replaces ("" for
	// the first).
	PreviousDigest string `json:"previous_digest,omitempty"`
	// Source is the policy document itself (optional; base64 in JSON).
	// With it the board knows the approved policy and can let a later
	// change that only tightens it through without signatures, also
	// after a restart; its digest must equal Digest.
	Source []byte `json:"source,omitempty"`
}

// Release allows traffic to one model.
type Release struct {
	Model string `json:"model"`
	// Route limits the release to one gateway route ("" or "*" for all).
	Route string `json:"route,omitempty"`
	// Upstream names the provider endpoint the model is served from.
	Upstream string `json:"upstream"`
	// ScorecardDigest is "sha256:..." of the evaluation scorecard the
	// trustees reviewed.
	ScorecardDigest string `json:"scorecard_digest"`
	// Risks has one assessment for each tracked risk (TrackedRisks).
	Risks []RiskAssessment `json:"risks"`
	// Expires ends the release: after it, requests are refused again.
	Expires time.Time `json:"expires"`
}

// RiskAssessment is the board's judgement of one risk of a model.
type RiskAssessment struct {
	Risk      string    `json:"risk"`  // one of TrackedRisks()
	Level     string    `json:"level"` // low, medium, high, critical
	Rationale string    `json:"rationale"`
	Expires   time.Time `json:"expires"`
}

var trackedRisks = [...]string{"cbrn", "cyber", "persuasion", "autonomy"}

// TrackedRisks are the risks every release must assess: CBRN weapons,
// cyber attack, persuasion and deception, autonomy.
func TrackedRisks() []string { return append([]string(nil), trackedRisks[:]...) }

var riskLevels = [...]string{"low", "medium", "high", "critical"}

// RiskLevels lists the risk levels in increasing order.
func RiskLevels() []string { return append([]string(nil), riskLevels[:]...) }

func riskRank(level string) int {
	for i, l := range riskLevels[:] {
		if l == level {
			return i
		}
	}
	return -1
}

// Control is the body of a halt or a resume.
type Control struct {
	// Scope is "*" (everything), "model:NAME" or "route:PATH".
	Scope  string `json:"scope"`
	Reason string `json:"reason"`
}

// Subject is the chain a statement belongs to: "policy", "charter",
// "release:MODEL" or "control:SCOPE" (halts and resumes of one scope share
// a chain).
func (s *Statement) Subject() string {
	switch s.Type {
	case KindPolicy:
		return "policy"
	case KindCharter:
		return "charter"
	case KindRelease:
		if s.Release != nil {
			return "release:" + s.Release.Model
		}
	case KindHalt:
		if s.Halt != nil {
			return "control:" + s.Halt.Scope
		}
	case KindResume:
		if s.Resume != nil {
			return "control:" + s.Resume.Scope
		}
	}
	return ""
}

// Envelope returns an unsigned envelope carrying the statement.
func (s *Statement) Envelope() (*Envelope, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	p, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return &Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(p), Signatures: []Signature{}}, nil
}

// DecodeStatement decodes a payload strictly: unknown fields are refused,
// and the statement is validated.
func DecodeStatement(payload []byte) (*Statement, error) {
	var s Statement
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode statement: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode statement: trailing data")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Statement decodes and validates the envelope's payload.
func (e *Envelope) Statement() (*Statement, error) {
	p, err := e.DecodePayload()
	if err != nil {
		return nil, err
	}
	return DecodeStatement(p)
}

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// modelRE is deliberately permissive (provider model names contain
	// slashes, dots, colons) but refuses spaces and control characters.
	modelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$`)
	routeRE = regexp.MustCompile(`^/[A-Za-z0-9._/~-]{0,255}$`)
	depRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// ValidDigest reports whether d has the form "sha256:" + 64 hex digits.
func ValidDigest(d string) bool { return digestRE.MatchString(d) }

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DigestBytes returns "sha256:" and the hex SHA-256 of b (for scorecards).
func DigestBytes(b []byte) string { return digestOf(b) }

// ValidScope checks a halt or resume scope.
func ValidScope(scope string) error {
	switch {
	case scope == "*":
		return nil
	case strings.HasPrefix(scope, "model:") && modelRE.MatchString(strings.TrimPrefix(scope, "model:")):
		return nil
	case strings.HasPrefix(scope, "route:") && routeRE.MatchString(strings.TrimPrefix(scope, "route:")):
		return nil
	}
	return fmt.Errorf("scope %q: want \"*\", \"model:NAME\" or \"route:/PATH\"", scope)
}

// Validate checks the statement's shape (not its signatures, chain or
// timeliness, which depend on the board's state).
func (s *Statement) Validate() error {
	if !depRE.MatchString(s.Deployment) {
		return fmt.Errorf("statement: deployment %q: want letters, digits, '.', '_' or '-' (at most 64)", s.Deployment)
	}
	if s.Version == 0 {
		return errors.New("statement: version must be at least 1")
	}
	if s.Version == 1 && s.Previous != "" {
		return errors.New("statement: version 1 has no previous statement")
	}
	if s.Version > 1 && !ValidDigest(s.Previous) {
		return fmt.Errorf("statement: version %d must name its previous statement (sha256:...), got %q", s.Version, s.Previous)
	}
	if s.IssuedAt.IsZero() {
		return errors.New("statement: issued_at is missing")
	}
	if len(s.Note) > 4096 {
		return errors.New("statement: note is longer than 4096 bytes")
	}
	set := 0
	for _, p := range []bool{s.Policy != nil, s.Release != nil, s.Halt != nil, s.Resume != nil, s.Charter != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("statement: exactly one of policy, release, halt, resume, charter must be set (got %d)", set)
	}
	switch s.Type {
	case KindPolicy:
		if s.Policy == nil {
			return errors.New("statement: type policy needs a policy body")
		}
		if !ValidDigest(s.Policy.Digest) {
			return fmt.Errorf("policy: digest %q is not sha256:<64 hex>", s.Policy.Digest)
		}
		if s.Policy.PreviousDigest != "" && !ValidDigest(s.Policy.PreviousDigest) {
			return fmt.Errorf("policy: previous_digest %q is not sha256:<64 hex>", s.Policy.PreviousDigest)
		}
	case KindRelease:
		if s.Release == nil {
			return errors.New("statement: type release needs a release body")
		}
		return s.Release.validate()
	case KindHalt:
		if s.Halt == nil {
			return errors.New("statement: type halt needs a halt body")
		}
		return s.Halt.validate("halt")
	case KindResume:
		if s.Resume == nil {
			return errors.New("statement: type resume needs a resume body")
		}
		return s.Resume.validate("resume")
	case KindCharter:
		if s.Charter == nil {
			return errors.New("statement: type charter needs a charter body")
		}
		if s.Charter.Deployment != s.Deployment {
			return fmt.Errorf("charter: deployment %q differs from the statement's %q", s.Charter.Deployment, s.Deployment)
		}
		return s.Charter.Validate()
	default:
		return fmt.Errorf("statement: unknown type %q", s.Type)
	}
	return nil
}

func (c *Control) validate(what string) error {
	if err := ValidScope(c.Scope); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if strings.TrimSpace(c.Reason) == "" {
		return fmt.Errorf("%s: a reason is required", what)
	}
	if len(c.Reason) > 4096 {
		return fmt.Errorf("%s: reason is longer than 4096 bytes", what)
	}
	return nil
}

func (r *Release) validate() error {
	if !modelRE.MatchString(r.Model) {
		return fmt.Errorf("release: model %q is not a valid model name", r.Model)
	}
	if r.Route != "" && r.Route != "*" && !routeRE.MatchString(r.Route) {
		return fmt.Errorf("release: route %q: want \"*\" or a path starting with /", r.Route)
	}
	if strings.TrimSpace(r.Upstream) == "" {
		return errors.New("release: upstream is required")
	}
	if !ValidDigest(r.ScorecardDigest) {
		return fmt.Errorf("release: scorecard_digest %q is not sha256:<64 hex>", r.ScorecardDigest)
	}
	if r.Expires.IsZero() {
		return errors.New("release: expires is required")
	}
	seen := map[string]bool{}
	for _, a := range r.Risks {
		if !contains(trackedRisks[:], a.Risk) {
			return fmt.Errorf("release: unknown risk %q (tracked: %s)", a.Risk, strings.Join(trackedRisks[:], ", "))
		}
		if seen[a.Risk] {
			return fmt.Errorf("release: risk %q assessed twice", a.Risk)
		}
		seen[a.Risk] = true
		if riskRank(a.Level) < 0 {
			return fmt.Errorf("release: risk %q: level %q, want one of %s", a.Risk, a.Level, strings.Join(riskLevels[:], ", "))
		}
		if strings.TrimSpace(a.Rationale) == "" {
			return fmt.Errorf("release: risk %q: a rationale is required", a.Risk)
		}
		if a.Expires.IsZero() {
			return fmt.Errorf("release: risk %q: expires is required", a.Risk)
		}
	}
	var missing []string
	for _, t := range trackedRisks[:] {
		if !seen[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("release: no assessment for risk %s", strings.Join(missing, ", "))
	}
	return nil
}

// validUntil is the earliest of the release's and its assessments' expiry.
func (r *Release) validUntil() time.Time {
	t := r.Expires
	for _, a := range r.Risks {
		if a.Expires.Before(t) {
			t = a.Expires
		}
	}
	return t
}

// expiredParts names what has expired at now ("release", "risk cbrn").
func (r *Release) expiredParts(now time.Time) []string {
	var out []string
	if !now.Before(r.Expires) {
		out = append(out, "the release (expired "+r.Expires.UTC().Format(time.RFC3339)+")")
	}
	for _, a := range r.Risks {
		if !now.Before(a.Expires) {
			out = append(out, "the "+a.Risk+" risk assessment (expired "+a.Expires.UTC().Format(time.RFC3339)+")")
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Prepare binds a new statement to the deployment and to the head of its
// chain as st reports them: it sets Deployment, Version, Previous (and,
// for a policy bundle, PreviousDigest) and IssuedAt when zero.
func (st Status) Prepare(s *Statement, now time.Time) {
	s.Deployment = st.Deployment
	if s.Type == KindCharter && s.Charter != nil {
		s.Charter.Deployment = st.Deployment
	}
	h := st.Heads[s.Subject()]
	s.Version, s.Previous = h.Version+1, h.Digest
	if s.Type == KindPolicy && s.Policy != nil {
		s.Policy.PreviousDigest = ""
		if st.Policy != nil {
			s.Policy.PreviousDigest = st.Policy.Digest
		}
	}
	if s.IssuedAt.IsZero() {
		s.IssuedAt = now.UTC().Truncate(time.Second)
	}
}

// NewCharterStatement returns the first charter's statement (version 1).
func NewCharterStatement(c *Charter, now time.Time) *Statement {
	return &Statement{Type: KindCharter, Deployment: c.Deployment, Version: 1, IssuedAt: now.UTC().Truncate(time.Second), Charter: c}
}
