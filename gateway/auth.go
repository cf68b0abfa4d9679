package gateway

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/warden-safety/warden/gateway/provider"
	"github.com/warden-safety/warden/internal/keyhash"
)

type tenantKeys struct {
	name string
	keys []keyhash.Hash
}

func parseTenants(ts []Tenant) ([]tenantKeys, error) {
	var out []tenantKeys
	for i, t := range ts {
		if t.Name == "" {
			return nil, fmt.Errorf("gateway: tenants[%d]: name is empty", i)
		}
		tk := tenantKeys{name: t.Name}
		for j, h := range t.KeySHA256 {
			kh, err := keyhash.Parse(h)
			if err != nil {
				return nil, fmt.Errorf("gateway: tenant %q: key_sha256[%d] %v", t.Name, j, err)
			}
			tk.keys = append(tk.keys, kh)
		}
		if len(tk.keys) == 0 {
			return nil, fmt.Errorf("gateway: tenant %q has no keys", t.Name)
		}
		out = append(out, tk)
	}
	return out, nil
}

// HashKey returns the hex SHA-256 of an API key, as tenants store it.
func HashKey(key string) string { return keyhash.Of(key).String() }

// clientKey returns the key the client presented: Authorization Bearer,
// x-api-key (Anthropic) or api-key (Azure).
func clientKey(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if k, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(k)
		}
	}
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	return r.Header.Get("api-key")
}

// authResult is who the client is.
type authResult struct {
	tenant      string
	forwardKey  string // passthrough: the key to send upstream
	passthrough bool
}

// authenticate checks the client's key. Every stored hash is compared in
// constant time, and all of them are compared, so timing tells nothing
// about which tenant or key came close.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request, f provider.Format) (authResult, bool) {
	switch g.cfg.Auth {
	case AuthNone:
		return authResult{}, true
	case AuthPassthrough:
		k := clientKey(r)
		if k == "" {
			g.fail(w, f, http.StatusUnauthorized, "invalid_api_key", "missing API key: passthrough mode forwards the client's key to the upstream", "")
			return authResult{}, false
		}
		return authResult{forwardKey: k, passthrough: true}, true
	}
	k := clientKey(r)
	if k == "" {
		g.fail(w, f, http.StatusUnauthorized, "invalid_api_key", "missing API key: send it as Authorization: Bearer KEY or x-api-key", "")
		return authResult{}, false
	}
	found := -1
	for i, t := range g.tenants {
		if keyhash.Match(k, t.keys) >= 0 {
			found = i
		}
	}
	if found < 0 {
		g.fail(w, f, http.StatusUnauthorized, "invalid_api_key", "invalid API key", "")
		return authResult{}, false
	}
	return authResult{tenant: g.tenants[found].name}, true
}

// fail writes an error in the provider's shape.
func (g *Gateway) fail(w http.ResponseWriter, f provider.Format, status int, code, msg, param string) {
	writeJSON(w, status, provider.ErrorBody(f, status, code, msg, param))
}
