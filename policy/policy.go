// Package policy decides what Warden does with a verdict: allow, flag,
// redact, block, or escalate to a guard model, per route, model and tenant,
// on the input and on the output of a model.
//
// A policy is a YAML document (docs/policy.md): defaults give, per stage
// and per hazard category, a ladder of thresholds and actions; rules,
// matched by route, model and tenant globs and an optional CEL condition
// over the request and the verdict, override parts of the defaults; the
// first rule that matches decides. Parse validates a document completely
// (every problem with its line and column, as a *ValidationError) and
// compiles it: globs, CEL programs and the effective configuration of every
// rule are built once, so Decide is a few hundred nanoseconds without CEL.
//
// A Policy is immutable once loaded. The gateway reads the current one from a
// Store at the start of each request, so a reload (SIGHUP, file change, a
// board-approved bundle) swaps it atomically and requests in flight finish
// on the policy they started with. Every policy enters the Store through a
// Loader, whose Verifiers (the safety board's signature check) must accept
// it; Stricter tells mechanically whether a change only tightens.
package policy

import (
	"github.com/warden-safety/warden/hazard"
)

// Stage says whether a scan is of what goes to the model or what comes back.
type Stage string

const (
	Input  Stage = "input"
	Output Stage = "output"
)

// Action is what the gateway does with content. Actions are ordered by
// strength: Allow < Flag < Redact < Escalate < Block.
type Action string

const (
	Allow    Action = "allow"
	Flag     Action = "flag"
	Redact   Action = "redact"
	Escalate Action = "escalate"
	Block    Action = "block"
)

// Strength orders actions; unknown actions are strongest (fail closed).
func (a Action) Strength() int {
	switch a {
	case Allow:
		return 0
	case Flag:
		return 1
	case Redact:
		return 2
	case Escalate:
		return 3
	case Block:
		return 4
	}
	return 5
}

// Request is what the policy knows about a request when it decides.
type Request struct {
	Route    string            // "/v1/chat/completions", "/v1/moderations", ...
	Model    string            // requested model name
	Tenant   string            // tenant ID, "" for anonymous
	Stage    Stage             // input or output
	Metadata map[string]string // extra request metadata (headers the operator chose, user id)
}

// Decision is the policy's answer for one scan.
type Decision struct {
	Action Action `json:"action"`
	// Categories that led to the action (flagged under this policy).
	Categories []hazard.Category `json:"categories,omitempty"`
	// Rule names the policy rule that decided ("default" when none matched).
	Rule string `json:"rule,omitempty"`
	// Refusal is the text shown to the client when the action is Block.
	Refusal string `json:"refusal,omitempty"`
	// BlockStyle is "error" (the provider's error shape) or "completion"
	// (a normal completion with finish_reason content_filter).
	BlockStyle string `json:"block_style,omitempty"`
	// Escalate lists categories to send to a guard model.
	Escalate []hazard.Category `json:"escalate,omitempty"`
	// Guard names the guard-model configuration to escalate to when Action
	// is Escalate.
	Guard string `json:"guard,omitempty"`
	// Redact lists the categories whose findings (spans) the gateway must
	// replace with placeholders before the text goes on. It is set whenever
	// some flagged category's action is redact, whatever the final Action.
	Redact []hazard.Category `json:"redact,omitempty"`
	// Reason explains a decision that was not made by category scores: a
	// detector failure or a condition that could not be evaluated, handled
	// by the fail mode. It never quotes the scanned text.
	Reason string `json:"reason,omitempty"`
}

// FailMode says what happens when a detector or guard model fails.
type FailMode string

const (
	FailClosed FailMode = "closed"
	FailOpen   FailMode = "open"
)
