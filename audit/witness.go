package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Witness checks a log served by Handler from the outside: it fetches the
// latest checkpoint from baseURL (the URL the handler is mounted under, so
// that baseURL + "/audit/checkpoint" exists), checks its signature with v,
// and, given the checkpoint the witness saw before (prev, nil the first
// time), checks that the log only grew: a consistency proof from the old
// tree to the new one. It returns the new checkpoint to keep for next time.
// An error means the log could not be checked or misbehaved (a smaller
// tree, a different tree of the same size, a bad proof).
func Witness(ctx context.Context, client *http.Client, baseURL string, v note.Verifier, prev []byte) ([]byte, error) {
	base := strings.TrimSuffix(baseURL, "/")
	msg, err := httpGet(ctx, client, base+"/audit/checkpoint")
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	cur, err := OpenCheckpoint(msg, v)
	if err != nil {
		return nil, fmt.Errorf("witness: served checkpoint: %w", err)
	}
	if prev == nil {
		return msg, nil
	}
	old, err := OpenCheckpoint(prev, v)
	if err != nil {
		return nil, fmt.Errorf("witness: saved checkpoint: %w", err)
	}
	switch {
	case cur.Size < old.Size:
		return nil, fmt.Errorf("witness: the log shrank from %d to %d records (rolled back)", old.Size, cur.Size)
	case cur.Size == old.Size:
		if cur.Hash != old.Hash {
			return nil, fmt.Errorf("witness: two different trees of %d records signed (the log forked)", cur.Size)
		}
		return msg, nil
	case old.Size == 0:
		return msg, nil
	}
	q := url.Values{"old": {fmt.Sprint(old.Size)}, "new": {fmt.Sprint(cur.Size)}}
	body, err := httpGet(ctx, client, base+"/audit/proof/consistency?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	p, err := ParseConsistencyProof(body)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	if p.OldSize != old.Size || p.NewSize != cur.Size || p.OldRoot != old.Hash || p.NewRoot != cur.Hash {
		return nil, fmt.Errorf("witness: the consistency proof is not about the checkpoints of %d and %d records (the log forked)", old.Size, cur.Size)
	}
	if err := VerifyConsistencyProof(p, v); err != nil {
		return nil, fmt.Errorf("witness: the log of %d records does not extend the one of %d (forked or rewritten): %w", cur.Size, old.Size, err)
	}
	return msg, nil
}

func httpGet(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", req.URL.Path, resp.Status, strings.TrimSpace(string(body)))
	}
	if len(body) == 0 {
		return nil, errors.New("GET " + req.URL.Path + ": empty answer")
	}
	return body, nil
}
