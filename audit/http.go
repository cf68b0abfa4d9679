package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/warden-safety/warden/audit/store"
)

// Handler serves the log to witnesses and auditors:
//
//	GET /audit/checkpoint                          latest signed checkpoint (text/plain signed note)
//	GET /audit/proof/inclusion?index=N[&size=M]    inclusion proof (JSON, InclusionProof)
//	GET /audit/proof/inclusion?request_id=X[&size=M]   (the request's first record;
//	                                               header Audit-Record-Indexes lists all)
//	GET /audit/proof/consistency?old=A[&new=B]     consistency proof (JSON, ConsistencyProof)
//	GET /audit/records/N                           record N (JSON, Entry)
//
// A missing size or new means the latest checkpoint. Records carry only the
// text the privacy mode kept, but still say who asked what and when: use
// HandlerWith to guard them.
func (r *Reader) Handler() http.Handler { return r.HandlerWith(HandlerOptions{}) }

// HandlerOptions guard the parts of the handler that reveal records.
type HandlerOptions struct {
	// Authorize, when set, is asked before a record is served
	// (/audit/records/N) or looked up by request ID; a non-nil error
	// refuses the request with its message and status (HTTPStatus() when
	// the error has that method, else 403). Checkpoints and proofs by
	// index carry only hashes and stay public, so witnesses need no key.
	Authorize func(*http.Request) error
}

// HandlerWith is Handler with records guarded by opt.
func (r *Reader) HandlerWith(opt HandlerOptions) http.Handler {
	guard := func(w http.ResponseWriter, req *http.Request) bool {
		if opt.Authorize == nil {
			return true
		}
		err := opt.Authorize(req)
		if err == nil {
			return true
		}
		status := http.StatusForbidden
		var hs interface{ HTTPStatus() int }
		if errors.As(err, &hs) {
			status = hs.HTTPStatus()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "forbidden", "message": err.Error()}})
		return false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /audit/checkpoint", func(w http.ResponseWriter, req *http.Request) {
		note, err := r.Checkpoint(req.Context())
		if err != nil {
			httpError(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(note)
	})
	mux.HandleFunc("GET /audit/proof/inclusion", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		size, err := intParam(q.Get("size"), "size", 0)
		if err != nil {
			badRequest(w, err)
			return
		}
		var index int64
		switch {
		case q.Get("index") != "" && q.Get("request_id") != "":
			badRequest(w, errors.New("give index or request_id, not both"))
			return
		case q.Get("index") != "":
			if index, err = intParam(q.Get("index"), "index", -1); err != nil {
				badRequest(w, err)
				return
			}
		case q.Get("request_id") != "":
			if !guard(w, req) {
				return
			}
			idx, err := r.FindRequest(req.Context(), q.Get("request_id"))
			if err != nil {
				httpError(w, err)
				return
			}
			index = idx[0]
			if len(idx) > 1 { // e.g. an input and an output record
				parts := make([]string, len(idx))
				for i, x := range idx {
					parts[i] = strconv.FormatInt(x, 10)
				}
				w.Header().Set("Audit-Record-Indexes", strings.Join(parts, ","))
			}
		default:
			badRequest(w, errors.New("missing index or request_id"))
			return
		}
		p, err := r.ProveInclusion(req.Context(), index, size)
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, p)
	})
	mux.HandleFunc("GET /audit/proof/consistency", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		old, err := intParam(q.Get("old"), "old", -1)
		if err != nil {
			badRequest(w, err)
			return
		}
		nw, err := intParam(q.Get("new"), "new", 0)
		if err != nil {
			badRequest(w, err)
			return
		}
		p, err := r.ProveConsistency(req.Context(), old, nw)
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, p)
	})
	mux.HandleFunc("GET /audit/records/{index}", func(w http.ResponseWriter, req *http.Request) {
		if !guard(w, req) {
			return
		}
		index, err := intParam(req.PathValue("index"), "index", -1)
		if err != nil {
			badRequest(w, err)
			return
		}
		e, err := r.Entry(req.Context(), index)
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, e)
	})
	return mux
}

// intParam parses a non-negative integer query parameter; def is returned
// for an empty one, and -1 as def makes it required.
func intParam(s, name string, def int64) (int64, error) {
	if s == "" {
		if def < 0 {
			return 0, fmt.Errorf("missing %s", name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, s)
	}
	return n, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func badRequest(w http.ResponseWriter, err error) {
	http.Error(w, "audit: "+err.Error(), http.StatusBadRequest)
}

func httpError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	msg := "audit: internal error"
	switch {
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case isClientError(err):
		status, msg = http.StatusBadRequest, err.Error()
	}
	http.Error(w, msg, status)
}

// clientError marks errors caused by the request (a size beyond the log).
type clientError struct{ error }

func (e clientError) Unwrap() error { return e.error }

func isClientError(err error) bool {
	var c clientError
	return errors.As(err, &c)
}
