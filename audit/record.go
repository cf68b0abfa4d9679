// Package audit keeps Warden's tamper-evident record of every decision: an
// append-only log whose entries are the leaves of an RFC 6962 Merkle tree,
// with signed checkpoints (C2SP signed notes) that let anyone holding one
// prove that history was not rewritten.
package audit

import "time"

// Record is one decision as it is written to the log. Text fields are set
// only as the privacy mode allows; hashes are always set.
type Record struct {
	// Index is the record's position in the log. The log sets it when it
	// appends the record, so a record moved to another row no longer
	// verifies; callers leave it zero.
	Index int64 `json:"index"`
	// Kind is "decision" for gateway and API decisions, "governance" for
	// safety-board events.
	Kind      string    `json:"kind"`
	RequestID string    `json:"request_id"`
	Time      time.Time `json:"time"`
	Tenant    string    `json:"tenant,omitempty"`
	Route     string    `json:"route,omitempty"`
	Model     string    `json:"model,omitempty"`
	// Stage is "input", "output" or "" for single-text APIs.
	Stage string `json:"stage,omitempty"`
	// PolicyDigest is the SHA-256 of the policy in force.
	PolicyDigest string `json:"policy_digest,omitempty"`
	// Action taken: allow, flag, redact, escalate, block (or a governance verb).
	Action string `json:"action"`
	// Scores per flagged or scored category.
	Scores map[string]float64 `json:"scores,omitempty"`
	// Flagged lists the categories that were flagged.
	Flagged []string `json:"flagged,omitempty"`
	// Detectors lists "name@version" of every detector that ran.
	Detectors []string `json:"detectors,omitempty"`
	// InputSHA256 and OutputSHA256 are hex SHA-256 of the scanned text.
	InputSHA256  string `json:"input_sha256,omitempty"`
	OutputSHA256 string `json:"output_sha256,omitempty"`
	// InputText and OutputText are present only in the "redacted" or "full"
	// privacy modes.
	InputText  string `json:"input_text,omitempty"`
	OutputText string `json:"output_text,omitempty"`
	// Detail carries kind-specific data (a governance statement's digest,
	// the reason for a refusal) as a JSON object.
	Detail map[string]any `json:"detail,omitempty"`
	// Privacy is the privacy mode the log applied ("none", "redacted",
	// "full"); the log sets it.
	Privacy string `json:"privacy,omitempty"`
}
