package board

import (
	"context"
	"strings"

	"github.com/warden-safety/warden/audit"
)

// VerifyPolicyDigest decides whether a candidate policy may be applied.
// digest is the candidate's Digest(), version its Version() (may be ""),
// stricter whether policy.Stricter(candidate, current) held and reasons
// what it reported. It allows:
//   - the policy the board approved last (a policy statement with that
//     digest, signed by k trustees), or
//   - any change that only makes the current policy stricter (applied
//     locally, without the board, and recorded).
//
// Anything else, including an approved policy that a newer bundle
// superseded, is refused with an *Error naming what is missing.
func (b *Board) VerifyPolicyDigest(ctx context.Context, digest, version string, stricter bool, reasons []string) error {
	b.mu.RLock()
	head := b.st.policy
	headVer := b.st.policyVer
	oldVer, wasApproved := b.st.policyDigests[digest]
	k := b.st.charter.Thresholds[KindPolicy]
	n := len(b.st.charter.Trustees)
	b.mu.RUnlock()

	rec := audit.Record{Kind: "governance", RequestID: "board-policy-" + shortID(strings.TrimPrefix(digest, "sha256:")),
		Time: b.now().UTC(), PolicyDigest: digest, Action: "enforce",
		Detail: map[string]any{"statement_type": string(KindPolicy), "digest": digest, "policy_version": version}}
	var err *Error
	switch {
	case head != nil && head.Digest == digest:
		if head.PolicyVersion != "" && version != "" && head.PolicyVersion != version {
			err = refuse("policy-unapproved", "policy %s claims version %q but the board approved it as %q", digest, version, head.PolicyVersion)
			break
		}
		rec.Detail["change"] = "policy approved by the board in force"
		rec.Detail["result"] = "allowed"
	case stricter:
		rec.Detail["change"] = "stricter policy applied locally without the board"
		rec.Detail["result"] = "allowed"
		if len(reasons) > 0 {
			rec.Detail["reasons"] = reasons
		}
	case wasApproved:
		err = refuse("policy-unapproved", "policy %s refused: the board approved it in bundle version %d, but it was superseded by version %d (%s); rolling back needs a new policy statement", digest, oldVer, headVer, head.Digest)
	default:
		why := ""
		if len(reasons) > 0 {
			why = " (" + strings.Join(reasons, "; ") + ")"
		}
		err = refuse("policy-unapproved", "policy %s refused: it does not only tighten the current policy%s, so it needs a policy statement with this digest signed by %d of %d trustees; the previous policy stays active", digest, why, k, n)
	}
	if err != nil {
		rec.Action = "refused"
		rec.Detail["result"] = "refused"
		rec.Detail["reason"] = err.Msg
	}
	b.record(ctx, rec)
	if err != nil {
		return err
	}
	return nil
}
