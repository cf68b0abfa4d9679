package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// PrivacyMode says how much prompt and answer text the log keeps. The log
// enforces it itself, before a record is hashed, so no caller can write text
// the operator did not allow.
type PrivacyMode string

const (
	// PrivacyNone keeps no text, only its SHA-256 (the default).
	PrivacyNone PrivacyMode = "none"
	// PrivacyRedacted keeps text after redaction of personal data and
	// secrets (Config.Redact, or RedactText when none is set).
	PrivacyRedacted PrivacyMode = "redacted"
	// PrivacyFull keeps the text as given.
	PrivacyFull PrivacyMode = "full"
)

// ParsePrivacyMode parses "none" (or ""), "redacted" or "full".
func ParsePrivacyMode(s string) (PrivacyMode, error) {
	switch m := PrivacyMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return PrivacyNone, nil
	case PrivacyNone, PrivacyRedacted, PrivacyFull:
		return m, nil
	}
	return "", fmt.Errorf("unknown privacy mode %q (want none, redacted or full)", s)
}

// apply fills missing text hashes from the text, checks the hashes are hex
// SHA-256, and strips or redacts the text as the mode says.
func (m PrivacyMode) apply(r *Record, redact func(string) string) error {
	for _, f := range []struct {
		name       string
		text, hash *string
	}{{"input", &r.InputText, &r.InputSHA256}, {"output", &r.OutputText, &r.OutputSHA256}} {
		if *f.hash == "" && *f.text != "" {
			sum := sha256.Sum256([]byte(*f.text))
			*f.hash = hex.EncodeToString(sum[:])
		}
		if *f.hash != "" {
			if b, err := hex.DecodeString(*f.hash); err != nil || len(b) != sha256.Size {
				return fmt.Errorf("%s_sha256 is not a hex SHA-256", f.name)
			}
			*f.hash = strings.ToLower(*f.hash)
		}
		switch m {
		case PrivacyFull:
		case PrivacyRedacted:
			if *f.text != "" {
				*f.text = redact(*f.text)
			}
		default:
			*f.text = ""
		}
	}
	r.Privacy = string(m)
	return nil
}

var redactPatterns = []struct {
	re  *regexp.Regexp
	rep string // "" for the long-token rule, see RedactText
}{
	{regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}`), "[EMAIL]"},
	{regexp.MustCompile(`(?i)\b(?:sk|pk|rk|ghp|gho|xox[abp]|AKIA|AIza)[A-Za-z0-9_\-]{12,}`), "[SECRET]"},
	{regexp.MustCompile(`(?i)\b(?:bearer|token|password|passwd|secret|api[_-]?key)\s*[:=]\s*\S+`), "[SECRET]"},
	{regexp.MustCompile(`[A-Za-z0-9+/_=\-]{20,}`), ""},
	{regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b`), "[IP]"},
	{regexp.MustCompile(`\+?\d[\d \-().]{6,}\d`), "[NUMBER]"},
}

// RedactText is the built-in redactor of PrivacyRedacted: it replaces e-mail
// addresses, API keys and credentials, tokens of 20 or more characters that
// mix letters and digits, IPv4 addresses and numbers of 8 or more digits
// (phone, card, account and ID numbers) with placeholders. It errs towards
// removing too much.
func RedactText(s string) string {
	for _, p := range redactPatterns {
		if p.rep != "" {
			s = p.re.ReplaceAllString(s, p.rep)
			continue
		}
		s = p.re.ReplaceAllStringFunc(s, func(tok string) string {
			if strings.ContainsAny(tok, "0123456789") && strings.IndexFunc(tok, isLetter) >= 0 {
				return "[TOKEN]"
			}
			return tok
		})
	}
	return s
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
