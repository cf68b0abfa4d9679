package board

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is what the board enforces now and what waits for signatures.
type Status struct {
	Deployment string            `json:"deployment"`
	Charter    CharterStatus     `json:"charter"`
	Heads      map[string]Head   `json:"heads"`
	Policy     *PolicyStatus     `json:"policy,omitempty"`
	Releases   []ReleaseStatus   `json:"releases"`
	Halts      []HaltStatus      `json:"halts"`
	Pending    []PendingStatus   `json:"pending"`
	Time       time.Time         `json:"time"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// CharterStatus summarizes the charter in force.
type CharterStatus struct {
	Deployment string       `json:"deployment"`
	Version    uint64       `json:"version"`
	Digest     string       `json:"digest"`
	Trustees   []PublicKey  `json:"trustees"`
	Thresholds map[Kind]int `json:"thresholds"`
	Expires    time.Time    `json:"expires"`
	Expired    bool         `json:"expired"`
	// MaxReleaseRisk is the highest risk level a release may carry.
	MaxReleaseRisk string       `json:"max_release_risk"`
	Commitments    []Commitment `json:"commitments,omitempty"`
}

// PolicyStatus is the approved policy bundle.
type PolicyStatus struct {
	PolicyBundle
	Version uint64 `json:"version"`
}

// ReleaseStatus is one model release.
type ReleaseStatus struct {
	Release
	Digest  string   `json:"digest"`
	Signers []string `json:"signers"`
	Valid   bool     `json:"valid"`
	// Expired names what has expired when Valid is false.
	Expired []string `json:"expired,omitempty"`
}

// HaltStatus is one halt in force.
type HaltStatus struct {
	Control
	Digest  string    `json:"digest"`
	Signers []string  `json:"signers"`
	At      time.Time `json:"at"`
}

// PendingStatus is a statement still collecting signatures.
type PendingStatus struct {
	Type    Kind     `json:"type"`
	Subject string   `json:"subject"`
	Version uint64   `json:"version"`
	Digest  string   `json:"digest"`
	Signers []string `json:"signers"`
	Needed  int      `json:"needed"`
	Summary string   `json:"summary"`
}

// Status reports the state without pending statements (no I/O).
func (b *Board) Status() Status {
	now := b.now()
	b.mu.RLock()
	defer b.mu.RUnlock()
	s := b.st
	c := s.charter
	st := Status{Deployment: c.Deployment, Time: now.UTC(), Heads: map[string]Head{}, Releases: []ReleaseStatus{}, Halts: []HaltStatus{}, Pending: []PendingStatus{},
		Charter: CharterStatus{Deployment: c.Deployment, Version: s.charterVer, Digest: s.charterDigest,
			Trustees: append([]PublicKey(nil), c.Trustees...), Thresholds: c.Thresholds, Expires: c.Expires,
			Expired: !now.Before(c.Expires), MaxReleaseRisk: c.maxRisk(), Commitments: c.Commitments}}
	for k, h := range s.heads {
		st.Heads[k] = h
	}
	if s.policy != nil {
		st.Policy = &PolicyStatus{PolicyBundle: *s.policy, Version: s.policyVer}
	}
	for _, m := range sortedKeys(s.releases) {
		r := s.releases[m]
		exp := r.expiredParts(now)
		st.Releases = append(st.Releases, ReleaseStatus{Release: r.Release, Digest: r.Digest, Signers: r.Signers, Valid: len(exp) == 0, Expired: exp})
	}
	add := func(h *haltState) {
		st.Halts = append(st.Halts, HaltStatus{Control: h.Control, Digest: h.Digest, Signers: h.Signers, At: h.At})
	}
	if s.haltAll != nil {
		add(s.haltAll)
	}
	for _, k := range sortedKeys(s.haltModel) {
		add(s.haltModel[k])
	}
	for _, k := range sortedKeys(s.haltRoute) {
		add(s.haltRoute[k])
	}
	return st
}

// FullStatus is Status with the pending statements, each checked again:
// pending statements that can no longer be accepted (superseded, expired)
// are dropped from the store.
func (b *Board) FullStatus(ctx context.Context) (Status, error) {
	st := b.Status()
	pend, err := b.store.Pending(ctx)
	if err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	now := b.now()
	for _, e := range pend {
		b.mu.RLock()
		v, verr := b.st.verify(e, now)
		b.mu.RUnlock()
		d, _ := e.Digest()
		if verr != nil {
			b.log.Info("board: dropping pending statement", "digest", d, "reason", verr)
			if err := b.store.DeletePending(ctx, d); err != nil {
				b.log.Warn("board: delete pending", "digest", d, "err", err)
			}
			continue
		}
		st.Pending = append(st.Pending, PendingStatus{Type: v.stmt.Type, Subject: v.stmt.Subject(), Version: v.stmt.Version,
			Digest: v.digest, Signers: dedupe(append(append([]string(nil), v.signers...), v.haveNew...)),
			Needed: v.missing + v.missingNewCount, Summary: Summarize(v.stmt)})
	}
	sort.Slice(st.Pending, func(i, j int) bool { return st.Pending[i].Subject < st.Pending[j].Subject })
	return st, nil
}

// Summarize describes a statement in one line for people.
func Summarize(s *Statement) string {
	switch s.Type {
	case KindPolicy:
		return fmt.Sprintf("approve policy %s (policy version %q)", s.Policy.Digest, s.Policy.PolicyVersion)
	case KindRelease:
		r := s.Release
		route := r.Route
		if route == "" {
			route = "*"
		}
		return fmt.Sprintf("release model %s on route %s via %s until %s", r.Model, route, r.Upstream, r.validUntil().UTC().Format(time.RFC3339))
	case KindHalt:
		return fmt.Sprintf("halt %s: %s", s.Halt.Scope, s.Halt.Reason)
	case KindResume:
		return fmt.Sprintf("resume %s: %s", s.Resume.Scope, s.Resume.Reason)
	case KindCharter:
		th := s.Charter.Thresholds
		return fmt.Sprintf("charter version %d for %s: trustees %s; signatures needed: policy %d, release %d, halt %d, resume %d, charter %d; expires %s",
			s.Version, s.Deployment, strings.Join(s.Charter.TrusteeNames(), ", "), th[KindPolicy], th[KindRelease], th[KindHalt], th[KindResume], th[KindCharter],
			s.Charter.Expires.UTC().Format(time.RFC3339))
	}
	return string(s.Type)
}
