// Package board is Warden's independent safety board: a charter names the
// trustees (Ed25519 public keys) and how many of them must sign each act,
// and the gateway enforces only what the trustees signed.
//
// # Powers
//
// Whoever runs the servers cannot weaken the policy, release a model or
// resume a halted one without k of n trustees; any single trustee can halt.
// The charter itself changes only with k signatures of the current charter
// (and k of the new one), as TUF rotates its root.
//
// # Statements
//
// Every act is a Statement (policy bundle, model release, halt, resume,
// charter) carried in a DSSE envelope (the signing envelope in-toto and
// Sigstore use). Each statement is bound to one deployment ID, belongs to a
// chain (its subject: "policy", "charter", "release:MODEL",
// "control:SCOPE"), carries a version one above the chain's head and names
// the digest of its predecessor, so replays and rollbacks are refused.
//
// # Enforcement
//
// A Board loads the accepted statements from a Store (files in a data
// directory, or PostgreSQL with LISTEN/NOTIFY across replicas) and exposes
// what they decide through small interfaces: Admit and HaltSignal for the
// gateway, VerifyPolicy for the policy loader, AddTokens for metering
// commitments, Handler for the HTTP endpoints /board/statements,
// /board/status, /board/history and /board/commitments. Every statement
// accepted or refused, and every change of what is enforced, is written to
// the audit log (Kind "governance").
//
// The server never holds a trustee's private key: trustees sign offline
// with `warden board sign` and anyone may carry the signed file to the
// server.
package board
