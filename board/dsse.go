package board

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PayloadType is the DSSE payload type of every board statement.
const PayloadType = "application/vnd.warden.board.statement+json"

// maxEnvelopeSize bounds what ParseEnvelope accepts.
const maxEnvelopeSize = 1 << 20

// Envelope is a DSSE envelope (https://github.com/secure-systems-lab/dsse,
// protocol v1): the payload, its type, and any number of signatures over
// PAE(payloadType, payload).
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"` // standard base64
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature; KeyID is a hint (the hex SHA-256 of the
// signer's Ed25519 public key), the signature itself is standard base64.
type Signature struct {
	KeyID string `json:"keyid,omitempty"`
	Sig   string `json:"sig"`
}

// PAE is DSSE's pre-authentication encoding:
//
//	"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//
// with lengths in ASCII decimal. Signatures are over PAE, never over the
// payload alone, so a signature cannot be moved to another payload type.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(payloadType) + len(payload) + 32)
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// ParseEnvelope decodes a DSSE envelope in JSON and checks its shape: the
// payload type is Warden's, the payload and every signature are valid
// base64. It does not verify signatures.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > maxEnvelopeSize {
		return nil, fmt.Errorf("parse envelope: %d bytes exceeds the %d byte limit", len(data), maxEnvelopeSize)
	}
	var e Envelope
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse envelope: trailing data after the JSON object")
	}
	if e.PayloadType != PayloadType {
		return nil, fmt.Errorf("parse envelope: payloadType %q, want %q", e.PayloadType, PayloadType)
	}
	if _, err := e.DecodePayload(); err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	for i, s := range e.Signatures {
		if _, err := base64.StdEncoding.DecodeString(s.Sig); err != nil {
			return nil, fmt.Errorf("parse envelope: signature %d: bad base64: %w", i, err)
		}
	}
	return &e, nil
}

// DecodePayload returns the raw payload bytes.
func (e *Envelope) DecodePayload() ([]byte, error) {
	p, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: bad base64: %w", err)
	}
	if len(p) == 0 {
		return nil, errors.New("payload: empty")
	}
	return p, nil
}

// Digest is "sha256:" and the hex SHA-256 of the payload bytes: the identity
// of the statement, independent of who signed it.
func (e *Envelope) Digest() (string, error) {
	p, err := e.DecodePayload()
	if err != nil {
		return "", err
	}
	return digestOf(p), nil
}

// Marshal returns the envelope as indented JSON ending in a newline, the
// form written to statement files.
func (e *Envelope) Marshal() []byte {
	b, _ := json.MarshalIndent(e, "", "  ")
	return append(b, '\n')
}

// AddSignature signs the envelope's PAE with key and appends the signature.
// A second signature by the same key replaces the first, so a file passed
// around twice never carries duplicates.
func (e *Envelope) AddSignature(key *PrivateKey) error {
	p, err := e.DecodePayload()
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	sig := ed25519.Sign(key.private, PAE(e.PayloadType, p))
	s := Signature{KeyID: key.Public.KeyID(), Sig: base64.StdEncoding.EncodeToString(sig)}
	for i := range e.Signatures {
		if e.Signatures[i].KeyID == s.KeyID {
			e.Signatures[i] = s
			return nil
		}
	}
	e.Signatures = append(e.Signatures, s)
	return nil
}

// mergeSignatures adds to e the signatures of o that e does not already
// carry (same payload assumed).
func (e *Envelope) mergeSignatures(o *Envelope) {
	have := make(map[string]bool, len(e.Signatures))
	for _, s := range e.Signatures {
		have[s.KeyID+"\x00"+s.Sig] = true
	}
	for _, s := range o.Signatures {
		if !have[s.KeyID+"\x00"+s.Sig] {
			e.Signatures = append(e.Signatures, s)
			have[s.KeyID+"\x00"+s.Sig] = true
		}
	}
}
