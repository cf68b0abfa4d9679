package board

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/warden-safety/warden/policy"
)

// Head is the latest accepted statement of one chain.
type Head struct {
	Version uint64 `json:"version"`
	Digest  string `json:"digest"`
}

// HistoryEntry is one accepted statement, as `warden board history` shows.
type HistoryEntry struct {
	Seq        int64     `json:"seq"`
	Type       Kind      `json:"type"`
	Subject    string    `json:"subject"`
	Version    uint64    `json:"version"`
	Digest     string    `json:"digest"`
	Previous   string    `json:"previous,omitempty"`
	Signers    []string  `json:"signers"`
	AcceptedAt time.Time `json:"accepted_at"`
	Summary    string    `json:"summary"`
}

type releaseState struct {
	Release
	Digest  string
	Signers []string
}

type haltState struct {
	Control
	Digest  string
	Signers []string
	At      time.Time
}

// state is what the accepted statements decide. It is replaced, never
// mutated in place, except under Board.mu during apply.
type state struct {
	charter       *Charter
	charterDigest string
	charterVer    uint64
	heads         map[string]Head
	policy        *PolicyBundle
	policyDoc     *policy.Policy // parsed Source of the approved bundle, nil without one
	policyVer     uint64
	policyDigests map[string]uint64 // every approved policy digest -> bundle version
	releases      map[string]*releaseState
	haltAll       *haltState
	haltModel     map[string]*haltState
	haltRoute     map[string]*haltState
	history       []HistoryEntry
}

func newState() *state {
	return &state{
		heads:         map[string]Head{},
		policyDigests: map[string]uint64{},
		releases:      map[string]*releaseState{},
		haltModel:     map[string]*haltState{},
		haltRoute:     map[string]*haltState{},
	}
}

// Error is a refusal of the board: a statement that cannot be accepted, or
// a request the board does not admit. Code is a stable machine-readable
// word; HTTPStatus maps it for the gateway and the board's HTTP API.
type Error struct {
	Code string // "invalid", "wrong-deployment", "stale", "unauthorized", "expired", "not-released", "halted", "policy-unapproved"
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// HTTPStatus maps the refusal to an HTTP status code.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case "invalid", "wrong-deployment":
		return http.StatusBadRequest
	case "stale":
		return http.StatusConflict
	case "unauthorized", "not-released", "halted", "policy-unapproved":
		return http.StatusForbidden
	case "expired":
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

func refuse(code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// verified is a statement that passed every check but possibly the
// signature threshold.
type verified struct {
	env     *Envelope
	stmt    *Statement
	digest  string
	signers []string
	// rejected explains signatures that did not count.
	rejected []string
	// valid are the signatures that counted (under the current charter
	// and, for a rotation, the new one), without duplicates.
	valid []Signature
	// need and needNew are the thresholds (needNew only for a rotation:
	// the new charter's own threshold over its own trustees).
	need, needNew   int
	haveNew         []string
	missing         int
	missingNewCount int
}

func (v *verified) enough() bool { return v.missing == 0 && v.missingNewCount == 0 }

// pruned returns the envelope with only the signatures that counted, so
// junk signatures are never stored or merged.
func (v *verified) pruned() *Envelope {
	return &Envelope{PayloadType: v.env.PayloadType, Payload: v.env.Payload, Signatures: append([]Signature{}, v.valid...)}
}

// verify checks env against the state at time now. genesis allows the
// first charter (only when the state has none), which every one of its
// trustees must sign.
func (s *state) verify(env *Envelope, now time.Time) (*verified, error) {
	if env.PayloadType != PayloadType {
		return nil, refuse("invalid", "statement refused: payloadType %q, want %q", env.PayloadType, PayloadType)
	}
	stmt, err := env.Statement()
	if err != nil {
		return nil, refuse("invalid", "statement refused: %v", err)
	}
	digest, _ := env.Digest()
	v := &verified{env: env, stmt: stmt, digest: digest}

	if s.charter == nil {
		if stmt.Type != KindCharter || stmt.Version != 1 {
			return nil, refuse("unauthorized", "statement refused: no charter is installed; the first statement must be a charter of version 1")
		}
		rep := stmt.Charter.CheckSignatures(env)
		v.signers, v.rejected, v.valid = rep.Signers, rep.Rejected, rep.Valid
		v.need = len(stmt.Charter.Trustees)
		v.missing = max(0, v.need-len(v.signers))
		if !now.Before(stmt.Charter.Expires) {
			return nil, refuse("expired", "charter refused: it expired at %s", stmt.Charter.Expires.UTC().Format(time.RFC3339))
		}
		return v, nil
	}

	c := s.charter
	if stmt.Deployment != c.Deployment {
		return nil, refuse("wrong-deployment", "%s statement refused: it is for deployment %q, this is %q", stmt.Type, stmt.Deployment, c.Deployment)
	}
	subject := stmt.Subject()
	head := s.heads[subject]
	switch {
	case stmt.Version <= head.Version && digest == head.Digest:
		return nil, refuse("stale", "%s statement refused: already applied (%s version %d)", stmt.Type, subject, stmt.Version)
	case stmt.Version <= head.Version:
		return nil, refuse("stale", "%s statement refused as a replay or rollback: %s version %d is not above the current version %d", stmt.Type, subject, stmt.Version, head.Version)
	case stmt.Version != head.Version+1:
		return nil, refuse("stale", "%s statement refused: %s version %d skips versions (current %d, next must be %d)", stmt.Type, subject, stmt.Version, head.Version, head.Version+1)
	case stmt.Previous != head.Digest:
		return nil, refuse("stale", "%s statement refused: it names predecessor %q but the current %s is %q", stmt.Type, stmt.Previous, subject, head.Digest)
	}
	if !now.Before(c.Expires) && stmt.Type != KindHalt && stmt.Type != KindCharter {
		return nil, refuse("expired", "%s statement refused: the charter expired at %s; only halts and a charter rotation are accepted until the trustees renew it", stmt.Type, c.Expires.UTC().Format(time.RFC3339))
	}

	switch stmt.Type {
	case KindPolicy:
		cur := ""
		if s.policy != nil {
			cur = s.policy.Digest
		}
		if stmt.Policy.PreviousDigest != cur {
			return nil, refuse("stale", "policy statement refused: previous_digest %q, but the approved policy is %q", stmt.Policy.PreviousDigest, cur)
		}
		if len(stmt.Policy.Source) > 0 {
			doc, err := policy.Parse("policy-bundle", stmt.Policy.Source)
			if err != nil {
				return nil, refuse("invalid", "policy statement refused: its source does not parse: %v", err)
			}
			if doc.Digest() != stmt.Policy.Digest {
				return nil, refuse("invalid", "policy statement refused: its source has digest %s, not %s", doc.Digest(), stmt.Policy.Digest)
			}
		}
	case KindRelease:
		r := stmt.Release
		if exp := r.expiredParts(now); len(exp) > 0 {
			return nil, refuse("expired", "release of %s refused: %s", r.Model, strings.Join(exp, "; "))
		}
		for _, a := range r.Risks {
			if riskRank(a.Level) > riskRank(c.maxRisk()) {
				return nil, refuse("unauthorized", "release of %s refused: %s risk is %s, above the charter's maximum %s", r.Model, a.Risk, a.Level, c.maxRisk())
			}
		}
	case KindResume:
		if s.haltOf(stmt.Resume.Scope) == nil {
			return nil, refuse("invalid", "resume refused: scope %q is not halted", stmt.Resume.Scope)
		}
	case KindCharter:
		nc := stmt.Charter
		if !now.Before(nc.Expires) {
			return nil, refuse("expired", "charter refused: it expired at %s", nc.Expires.UTC().Format(time.RFC3339))
		}
	}

	rep := c.CheckSignatures(env)
	v.signers, v.rejected, v.valid = rep.Signers, rep.Rejected, rep.Valid
	v.need = c.Thresholds[stmt.Type]
	v.missing = max(0, v.need-len(v.signers))
	if stmt.Type == KindCharter {
		nrep := stmt.Charter.CheckSignatures(env)
		v.haveNew = nrep.Signers
		for _, s := range nrep.Valid {
			if !slices.Contains(v.valid, s) {
				v.valid = append(v.valid, s)
			}
		}
		v.needNew = stmt.Charter.Thresholds[KindCharter]
		v.missingNewCount = max(0, v.needNew-len(v.haveNew))
	}
	if len(v.signers) == 0 && len(v.haveNew) == 0 {
		why := "it carries no signature"
		if len(v.rejected) > 0 {
			why = strings.Join(v.rejected, "; ")
		}
		return nil, refuse("unauthorized", "%s statement refused: no valid signature of a trustee (%s)", stmt.Type, why)
	}
	return v, nil
}

func (s *state) haltOf(scope string) *haltState {
	switch {
	case scope == "*":
		return s.haltAll
	case strings.HasPrefix(scope, "model:"):
		return s.haltModel[strings.TrimPrefix(scope, "model:")]
	case strings.HasPrefix(scope, "route:"):
		return s.haltRoute[strings.TrimPrefix(scope, "route:")]
	}
	return nil
}

func (s *state) setHalt(scope string, h *haltState) {
	switch {
	case scope == "*":
		s.haltAll = h
	case strings.HasPrefix(scope, "model:"):
		if h == nil {
			delete(s.haltModel, strings.TrimPrefix(scope, "model:"))
		} else {
			s.haltModel[strings.TrimPrefix(scope, "model:")] = h
		}
	case strings.HasPrefix(scope, "route:"):
		if h == nil {
			delete(s.haltRoute, strings.TrimPrefix(scope, "route:"))
		} else {
			s.haltRoute[strings.TrimPrefix(scope, "route:")] = h
		}
	}
}

// apply records an accepted statement. It returns a description of the
// change of enforcement.
func (s *state) apply(v *verified, seq int64, at time.Time) string {
	st := v.stmt
	s.heads[st.Subject()] = Head{Version: st.Version, Digest: v.digest}
	signers := v.signers
	var change string
	switch st.Type {
	case KindCharter:
		s.charter, s.charterDigest, s.charterVer = st.Charter, v.digest, st.Version
		change = fmt.Sprintf("charter version %d in force: %d trustees (%s)", st.Version, len(st.Charter.Trustees), strings.Join(st.Charter.TrusteeNames(), ", "))
	case KindPolicy:
		p := *st.Policy
		s.policy, s.policyVer, s.policyDoc = &p, st.Version, nil
		if len(p.Source) > 0 {
			s.policyDoc, _ = policy.Parse("policy-bundle", p.Source) // checked in verify
		}
		s.policyDigests[p.Digest] = st.Version
		change = fmt.Sprintf("policy %s approved (bundle version %d)", p.Digest, st.Version)
	case KindRelease:
		s.releases[st.Release.Model] = &releaseState{Release: *st.Release, Digest: v.digest, Signers: signers}
		change = fmt.Sprintf("model %s released until %s", st.Release.Model, st.Release.validUntil().UTC().Format(time.RFC3339))
	case KindHalt:
		s.setHalt(st.Halt.Scope, &haltState{Control: *st.Halt, Digest: v.digest, Signers: signers, At: at})
		change = fmt.Sprintf("halted %s: %s", st.Halt.Scope, st.Halt.Reason)
	case KindResume:
		s.setHalt(st.Resume.Scope, nil)
		change = fmt.Sprintf("resumed %s", st.Resume.Scope)
	}
	s.history = append(s.history, HistoryEntry{Seq: seq, Type: st.Type, Subject: st.Subject(), Version: st.Version,
		Digest: v.digest, Previous: st.Previous, Signers: signers, AcceptedAt: at, Summary: change})
	return change
}

// admit decides a request under the state at now.
func (s *state) admit(model, route, upstream, upstreamURL string, now time.Time) *Error {
	if h := s.haltAll; h != nil {
		return refuse("halted", "all traffic is halted by the safety board: %s", h.Reason)
	}
	if h := s.haltModel[model]; h != nil {
		return refuse("halted", "model %q is halted by the safety board: %s", model, h.Reason)
	}
	if h := s.haltRoute[route]; h != nil {
		return refuse("halted", "route %s is halted by the safety board: %s", route, h.Reason)
	}
	r := s.releases[model]
	if r == nil {
		return refuse("not-released", "model %q has no release signed by the safety board (a release statement with %d trustee signatures is missing)", model, s.charter.Thresholds[KindRelease])
	}
	if r.Route != "" && r.Route != "*" && r.Route != route {
		return refuse("not-released", "model %q is released for route %s only, not %s", model, r.Route, route)
	}
	if !UpstreamMatches(r.Upstream, upstream, upstreamURL) {
		via := upstream
		if upstreamURL != "" {
			via = fmt.Sprintf("%s (%s)", upstream, upstreamURL)
		}
		if via == "" {
			via = "an unnamed upstream"
		}
		return refuse("not-released", "model %q is released for upstream %s only, not %s", model, r.Upstream, via)
	}
	if exp := r.expiredParts(now); len(exp) > 0 {
		return refuse("not-released", "release of model %q is no longer valid: %s; the board must sign a new release", model, strings.Join(exp, " and "))
	}
	return nil
}

// halted reports whether a halt covers (model, route).
func (s *state) halted(model, route string) bool {
	return s.haltAll != nil || s.haltModel[model] != nil || s.haltRoute[route] != nil
}

// UpstreamMatches reports whether a release's signed upstream covers a
// request sent to the upstream named name at base URL url: "*" covers
// every upstream; otherwise signed must equal the name, or the base URL
// ignoring case, a trailing slash and a trailing "/v1" (so a release for
// "https://api.openai.com/v1" covers an upstream configured as
// "https://api.openai.com").
func UpstreamMatches(signed, name, url string) bool {
	signed = strings.TrimSpace(signed)
	switch {
	case signed == "*":
		return true
	case signed == "":
		return false
	case name != "" && signed == name:
		return true
	case url == "":
		return false
	}
	norm := func(u string) string {
		u = strings.ToLower(strings.TrimRight(strings.TrimSpace(u), "/"))
		return strings.TrimRight(strings.TrimSuffix(u, "/v1"), "/")
	}
	return norm(signed) == norm(url)
}
