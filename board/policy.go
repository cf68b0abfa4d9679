package board

import (
	"context"
	"errors"

	"github.com/warden-safety/warden/policy"
)

var _ policy.Verifier = (*Board)(nil)

// VerifyPolicy implements policy.Verifier: the policy Loader calls it
// before a candidate replaces the current policy (current is nil on the
// first load). A candidate is accepted when
//   - its Digest() is the one the board approved last (a policy statement
//     signed by k trustees), or
//   - policy.Stricter says it only tightens the policy in force, or the
//     approved policy (when its bundle carried the source), or, before the
//     board approved any policy, Warden's built-in default policy.
//
// Anything else is refused with an error naming what is missing; the
// Loader then keeps the previous policy.
func (b *Board) VerifyPolicy(ctx context.Context, candidate, current *policy.Policy) error {
	if candidate == nil {
		return errors.New("board: no candidate policy")
	}
	b.mu.RLock()
	approved := b.st.policy
	baseline := b.st.policyDoc
	b.mu.RUnlock()
	if approved != nil && approved.Digest == candidate.Digest() {
		return b.VerifyPolicyDigest(ctx, candidate.Digest(), candidate.Version(), false, nil)
	}
	if approved == nil {
		baseline = policy.Default()
	}
	var stricter bool
	var reasons []string
	for _, base := range []*policy.Policy{current, baseline} {
		if base == nil {
			continue
		}
		ok, r := policy.Stricter(candidate, base)
		if ok {
			stricter, reasons = true, nil
			break
		}
		if reasons == nil {
			reasons = r
		}
	}
	return b.VerifyPolicyDigest(ctx, candidate.Digest(), candidate.Version(), stricter, reasons)
}
