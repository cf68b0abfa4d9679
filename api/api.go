// Package api serves Warden's detection as HTTP APIs that need no upstream
// model: POST /v1/moderations in exactly the shape of OpenAI's moderation
// API (so an existing OpenAI SDK works by changing its base URL), and
// POST /v1/check, which returns Warden's full verdict and the policy's
// decision.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warden-safety/warden/audit"
	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/policy"
)

// DefaultMaxBody is the request body limit when Config.MaxBody is zero.
const DefaultMaxBody = 1 << 20

// MaxInputs bounds the number of strings in one moderation request.
const MaxInputs = 2048

// ModelName is what /v1/moderations reports as its model.
const ModelName = "warden-moderation-1"

// Recorder appends decisions to the audit log; Record returns once the
// record is durable.
type Recorder interface {
	Record(ctx context.Context, r audit.Record) error
}

// Config configures the handlers.
type Config struct {
	// Pipeline scans the text. Required.
	Pipeline *detect.Pipeline
	// Policy, when set, turns verdicts into decisions for /v1/check and
	// supplies per-category thresholds.
	Policy *policy.Store
	// Recorder, when set, receives one record per scanned input.
	Recorder Recorder
	// MaxBody limits request bodies (DefaultMaxBody when zero).
	MaxBody int64
	// Logger for request errors; never receives text.
	Logger *slog.Logger
}

// Server holds the handlers.
type Server struct {
	cfg Config
	log *slog.Logger
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: l}
}

// Register mounts the handlers on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/moderations", s.moderations)
	mux.HandleFunc("POST /v1/check", s.check)
}

// errorBody is OpenAI's error shape.
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Message = msg
	b.Error.Type = "invalid_request_error"
	if status >= 500 {
		b.Error.Type = "server_error"
	}
	if code != "" {
		b.Error.Code = &code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(&b)
}

// readBody reads and decodes a JSON body into v, answering the client and
// returning false on any problem.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request_too_large",
				fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad_request", "reading request body: "+err.Error())
		return false
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_json", "request body is empty; want a JSON object")
		return false
	}
	if err := DecodeJSON(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	return true
}

// DecodeJSON decodes a JSON request body strictly enough to catch mistakes
// (a second value after the object), and names the byte offset of syntax
// errors.
func DecodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte offset %d: %v", se.Offset, se)
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "(top level)"
			}
			return fmt.Errorf("field %s: cannot use JSON %s as %s (byte offset %d)", field, te.Value, te.Type, te.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("malformed JSON: unexpected end of input at byte offset %d", len(body))
		}
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("malformed JSON: unexpected data after the top-level value at byte offset %d", dec.InputOffset())
	}
	return nil
}

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// scan runs the pipeline with the policy's thresholds for req.
func (s *Server) scan(ctx context.Context, p *policy.Policy, req policy.Request, text string) (*detect.Verdict, error) {
	pl := s.cfg.Pipeline
	if p != nil {
		if th := p.Thresholds(req); len(th) > 0 {
			cp := *pl
			cp.Thresholds = th
			pl = &cp
		}
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	return pl.Scan(ctx, text)
}

func (s *Server) record(ctx context.Context, id, route string, stage policy.Stage, p *policy.Policy, text string, v *detect.Verdict, action string) error {
	if s.cfg.Recorder == nil {
		return nil
	}
	rec := audit.Record{
		Kind: "decision", RequestID: id, Time: time.Now().UTC(), Route: route,
		Stage: string(stage), Action: action, InputSHA256: sha(text), InputText: text,
	}
	if p != nil {
		rec.PolicyDigest = p.Digest()
	}
	if v != nil {
		rec.Scores = map[string]float64{}
		for _, c := range v.Categories {
			rec.Scores[string(c.Category)] = c.Score
			if c.Flagged {
				rec.Flagged = append(rec.Flagged, string(c.Category))
			}
		}
		for _, d := range v.Detectors {
			rec.Detectors = append(rec.Detectors, d.Name+"@"+d.Version)
		}
	}
	return s.cfg.Recorder.Record(ctx, rec)
}
