package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/warden-safety/warden/gateway/provider"
)

type upstream struct {
	Upstream
	base   *url.URL
	client *http.Client
}

func newUpstream(u Upstream) (*upstream, error) {
	if u.Name == "" {
		return nil, errors.New("gateway: an upstream has no name")
	}
	switch u.Kind {
	case KindOpenAI, KindAnthropic, KindAzure, KindCompatible, KindEcho:
	default:
		return nil, fmt.Errorf("gateway: upstream %q: kind %q: want openai, anthropic, azure, openai-compatible or echo", u.Name, u.Kind)
	}
	if u.BaseURL == "" {
		switch u.Kind {
		case KindOpenAI:
			u.BaseURL = "https://api.openai.com"
		case KindAnthropic:
			u.BaseURL = "https://api.anthropic.com"
		default:
			return nil, fmt.Errorf("gateway: upstream %q: base_url is required for kind %s", u.Name, u.Kind)
		}
	}
	base, err := url.Parse(strings.TrimSuffix(strings.TrimSuffix(u.BaseURL, "/"), "/v1"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("gateway: upstream %q: base_url must be an http(s) URL", u.Name)
	}
	if u.Kind == KindAzure && u.APIVersion == "" {
		return nil, fmt.Errorf("gateway: upstream %q: azure needs api_version", u.Name)
	}
	if u.AnthropicVersion == "" {
		u.AnthropicVersion = "2023-06-01"
	}
	if u.Timeout <= 0 {
		u.Timeout = 120 * time.Second
	}
	if u.StreamIdle <= 0 {
		u.StreamIdle = 120 * time.Second
	}
	tr := u.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: u.Timeout,
		}
	}
	return &upstream{Upstream: u, base: base, client: &http.Client{Transport: tr}}, nil
}

// serves reports whether the upstream speaks route's format.
func (u *upstream) serves(r provider.Route) bool {
	switch u.Kind {
	case KindEcho:
		return true
	case KindAnthropic:
		return r.Format() == provider.Anthropic
	}
	return r.Format() == provider.OpenAI
}

// resolve finds the upstream for a model: routes (exact, then globs in
// order), then the upstreams' model lists (exact, then globs).
func (g *Gateway) resolve(model string) *upstream {
	byName := func(name string) *upstream {
		for _, u := range g.upstreams {
			if u.Name == name {
				return u
			}
		}
		return nil
	}
	for _, r := range g.routes {
		if r.Model == model {
			return byName(r.Upstream)
		}
	}
	for _, r := range g.routes {
		if isGlob(r.Model) && globMatch(r.Model, model) {
			return byName(r.Upstream)
		}
	}
	for _, u := range g.upstreams {
		for _, m := range u.Models {
			if m == model {
				return u
			}
		}
		if _, ok := u.Deployments[model]; ok {
			return u
		}
	}
	for _, u := range g.upstreams {
		for _, m := range u.Models {
			if isGlob(m) && globMatch(m, model) {
				return u
			}
		}
	}
	return nil
}

// forwardedHeaders are client request headers passed to the upstream.
var forwardedHeaders = []string{"Accept", "User-Agent", "OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta",
	"anthropic-beta", "Idempotency-Key", "X-Stainless-Retry-Count"}

// newRequest builds the upstream request. clientKey is forwarded in
// passthrough mode.
func (u *upstream) newRequest(ctx context.Context, route provider.Route, model string, body []byte, in *http.Request, clientKey, requestID string) (*http.Request, error) {
	target := *u.base
	switch u.Kind {
	case KindAzure:
		dep := model
		if d, ok := u.Deployments[model]; ok {
			dep = d
		}
		target.Path = strings.TrimSuffix(target.Path, "/") + "/openai/deployments/" + url.PathEscape(dep) + route.Suffix()
		q := target.Query()
		q.Set("api-version", u.APIVersion)
		target.RawQuery = q.Encode()
	default:
		target.Path = strings.TrimSuffix(target.Path, "/") + route.Path()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("upstream request: %w", err)
	}
	req.GetBody = func() (io_ReadCloser, error) { return nopCloser{bytes.NewReader(body)}, nil }
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Warden-Request-Id", requestID)
	for _, h := range forwardedHeaders {
		if v := in.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	key := u.APIKey
	if clientKey != "" {
		key = clientKey
	}
	switch u.Kind {
	case KindAnthropic:
		v := in.Header.Get("anthropic-version")
		if v == "" {
			v = u.AnthropicVersion
		}
		req.Header.Set("anthropic-version", v)
		if key != "" {
			req.Header.Set("x-api-key", key)
		}
	case KindAzure:
		if key != "" {
			req.Header.Set("api-key", key)
		}
	case KindEcho:
	default:
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
	}
	return req, nil
}

// do sends the request, retrying when that is safe: a connection that could
// not be made (nothing was sent), and for idempotent embeddings a 502, 503 or
// 504 answer.
func (u *upstream) do(req *http.Request, route provider.Route) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := u.client.Do(req)
		retry := false
		if err != nil {
			var op *net.OpError
			retry = errors.As(err, &op) && op.Op == "dial"
		} else if route == provider.Embeddings && (resp.StatusCode == 502 || resp.StatusCode == 503 || resp.StatusCode == 504) {
			retry = true
		}
		if !retry || attempt >= u.Retries || req.Context().Err() != nil {
			return resp, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, gerr
		}
		req = req.Clone(req.Context())
		req.Body = body
		select {
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
}

// copied upstream response headers.
func copyResponseHeaders(dst, src http.Header) {
	for k, vs := range src {
		lk := strings.ToLower(k)
		if lk == "retry-after" || lk == "request-id" || lk == "x-request-id" || lk == "openai-processing-ms" ||
			lk == "openai-version" || strings.HasPrefix(lk, "x-ratelimit-") || strings.HasPrefix(lk, "anthropic-ratelimit-") ||
			lk == "apim-request-id" || lk == "azureml-model-session" {
			dst[k] = vs
		}
	}
}
