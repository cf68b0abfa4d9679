package board

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Charter is the board's root of trust: who the trustees are, how many of
// them each act needs, until when the charter holds, and what the
// deployment promises.
type Charter struct {
	Deployment string      `json:"deployment"`
	Trustees   []PublicKey `json:"trustees"`
	// Thresholds maps each Kind to the number of distinct trustees whose
	// signatures it needs.
	Thresholds map[Kind]int `json:"thresholds"`
	// Expires: after it, only halts and charter rotations are accepted.
	Expires time.Time `json:"expires"`
	// MaxReleaseRisk is the highest risk level a release may carry
	// ("high" when empty): a model assessed above it cannot be released.
	MaxReleaseRisk string `json:"max_release_risk,omitempty"`
	// Commitments are promises the deployment's operators made, measured
	// by the board's Meter.
	Commitments []Commitment `json:"commitments,omitempty"`
}

// Commitment promises that at least MinShare of the model tokens go to the
// listed kinds of use (of "served", "guard", "eval").
type Commitment struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Kinds       []string `json:"kinds"`
	MinShare    float64  `json:"min_share"`
}

var meterKinds = [...]string{"served", "guard", "eval"}

// MeterKinds are the kinds of token use the Meter counts.
func MeterKinds() []string { return append([]string(nil), meterKinds[:]...) }

// DefaultThresholds returns k for policy, release, resume and charter and
// 1 for halt (any single trustee can halt).
func DefaultThresholds(k int) map[Kind]int {
	return map[Kind]int{KindPolicy: k, KindRelease: k, KindHalt: 1, KindResume: k, KindCharter: k}
}

// Validate checks the charter on its own.
func (c *Charter) Validate() error {
	if !depRE.MatchString(c.Deployment) {
		return fmt.Errorf("charter: deployment %q: want letters, digits, '.', '_' or '-' (at most 64)", c.Deployment)
	}
	if len(c.Trustees) == 0 {
		return errors.New("charter: no trustees")
	}
	if len(c.Trustees) > 100 {
		return errors.New("charter: more than 100 trustees")
	}
	names, keys := map[string]bool{}, map[string]bool{}
	for _, t := range c.Trustees {
		if err := validName(t.Name); err != nil {
			return fmt.Errorf("charter: %w", err)
		}
		if _, err := t.raw(); err != nil {
			return fmt.Errorf("charter: %w", err)
		}
		if names[t.Name] {
			return fmt.Errorf("charter: trustee %q listed twice", t.Name)
		}
		if keys[t.Key] {
			return fmt.Errorf("charter: trustee %q shares a key with another trustee", t.Name)
		}
		names[t.Name], keys[t.Key] = true, true
	}
	for _, k := range kinds[:] {
		n, ok := c.Thresholds[k]
		if !ok {
			return fmt.Errorf("charter: no threshold for %s", k)
		}
		if n < 1 || n > len(c.Trustees) {
			return fmt.Errorf("charter: threshold for %s is %d, want 1..%d (the number of trustees)", k, n, len(c.Trustees))
		}
	}
	for k := range c.Thresholds {
		if !containsKind(k) {
			return fmt.Errorf("charter: threshold for unknown act %q", k)
		}
	}
	if c.Expires.IsZero() {
		return errors.New("charter: expires is required")
	}
	if c.MaxReleaseRisk != "" && riskRank(c.MaxReleaseRisk) < 0 {
		return fmt.Errorf("charter: max_release_risk %q, want one of %s", c.MaxReleaseRisk, strings.Join(riskLevels[:], ", "))
	}
	cn := map[string]bool{}
	for _, cm := range c.Commitments {
		if strings.TrimSpace(cm.Name) == "" {
			return errors.New("charter: commitment without a name")
		}
		if cn[cm.Name] {
			return fmt.Errorf("charter: commitment %q listed twice", cm.Name)
		}
		cn[cm.Name] = true
		if !(cm.MinShare > 0 && cm.MinShare <= 1) {
			return fmt.Errorf("charter: commitment %q: min_share %v, want a fraction in (0, 1]", cm.Name, cm.MinShare)
		}
		if len(cm.Kinds) == 0 {
			return fmt.Errorf("charter: commitment %q: no kinds (of %s)", cm.Name, strings.Join(meterKinds[:], ", "))
		}
		for _, k := range cm.Kinds {
			if !contains(meterKinds[:], k) {
				return fmt.Errorf("charter: commitment %q: kind %q, want one of %s", cm.Name, k, strings.Join(meterKinds[:], ", "))
			}
		}
	}
	return nil
}

func containsKind(k Kind) bool {
	for _, x := range kinds[:] {
		if x == k {
			return true
		}
	}
	return false
}

func (c *Charter) maxRisk() string {
	if c.MaxReleaseRisk == "" {
		return "high"
	}
	return c.MaxReleaseRisk
}

// TrusteeNames lists the trustees' names in charter order.
func (c *Charter) TrusteeNames() []string {
	out := make([]string, len(c.Trustees))
	for i, t := range c.Trustees {
		out[i] = t.Name
	}
	return out
}

// SignatureReport says who validly signed an envelope under a charter and
// why any other signature did not count.
type SignatureReport struct {
	// Signers are the distinct trustees with a valid signature, sorted.
	Signers []string
	// Valid are the signatures that counted, one per signer, in envelope
	// order.
	Valid []Signature
	// Rejected explains each signature that did not count.
	Rejected []string
}

// CheckSignatures verifies every signature of e against the charter's
// trustees. A trustee who signed twice is counted once; a signature from a
// key not in the charter (a removed trustee, a stranger) or that does not
// verify is listed in Rejected and not counted.
func (c *Charter) CheckSignatures(e *Envelope) SignatureReport {
	var rep SignatureReport
	payload, err := e.DecodePayload()
	if err != nil {
		rep.Rejected = append(rep.Rejected, err.Error())
		return rep
	}
	msg := PAE(e.PayloadType, payload)
	byID := make(map[string]PublicKey, len(c.Trustees))
	for _, t := range c.Trustees {
		byID[t.KeyID()] = t
	}
	signed := map[string]bool{}
	for i, s := range e.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || len(sig) != ed25519.SignatureSize {
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("signature %d: malformed", i+1))
			continue
		}
		var cands []PublicKey
		if t, ok := byID[s.KeyID]; ok {
			cands = []PublicKey{t}
		} else if s.KeyID == "" {
			cands = c.Trustees // no hint: try every trustee
		}
		matched := ""
		for _, t := range cands {
			pub, err := t.raw()
			if err == nil && ed25519.Verify(pub, msg, sig) {
				matched = t.Name
				break
			}
		}
		switch {
		case matched != "" && signed[matched]:
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("signature %d: %s already signed (counted once)", i+1, matched))
		case matched != "":
			signed[matched] = true
			rep.Signers = append(rep.Signers, matched)
			rep.Valid = append(rep.Valid, s)
		case len(cands) == 0:
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("signature %d: key %s is not a trustee of this charter", i+1, shortID(s.KeyID)))
		default:
			rep.Rejected = append(rep.Rejected, fmt.Sprintf("signature %d: does not verify (forged or over another payload)", i+1))
		}
	}
	sort.Strings(rep.Signers)
	return rep
}

func shortID(id string) string {
	if id == "" {
		return "(none)"
	}
	if len(id) > 16 {
		return id[:16]
	}
	return id
}
