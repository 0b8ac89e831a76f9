package bundles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// HTTP is a bundle on a plain HTTP bundle server, as OPA's bundle plugin
// downloads it: GET URL, with If-None-Match carrying the last ETag so an
// unchanged bundle costs a 304.
type HTTP struct {
	// URL of the bundle tarball. Required.
	URL string
	// Header is added to every request, e.g. Authorization.
	Header http.Header
	// Client is the HTTP client. Default: one with a 60s timeout.
	Client *http.Client
	// MaxSize bounds the download. Default DefaultMaxSize.
	MaxSize int64
}

var _ Source = (*HTTP)(nil)

// String is the URL without its query, which may hold a token.
func (h *HTTP) String() string {
	u, _, _ := strings.Cut(h.URL, "?")
	return u
}

var defaultHTTPClient = &http.Client{Timeout: 60 * time.Second}

// Fetch downloads the bundle unless the server answers 304 to version.
func (h *HTTP) Fetch(ctx context.Context, version string) (*Download, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("bundle server: %w", err)
	}
	for k, vs := range h.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/gzip, application/vnd.openpolicyagent.bundles, */*")
	if version != "" {
		req.Header.Set("If-None-Match", version)
	}
	c := h.Client
	if c == nil {
		c = defaultHTTPClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bundle server %s: %w", h, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, ErrNotModified
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("bundle server %s: %s: %s", h, resp.Status, strings.TrimSpace(string(msg)))
	}
	limit := h.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("bundle server %s: %w", h, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("bundle server %s: %w", h, ErrTooLarge)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("bundle server %s: %w", h, errors.New("empty response"))
	}
	v := resp.Header.Get("ETag")
	if v == "" {
		v = Digest(raw)
	}
	return &Download{Raw: raw, Version: v}, nil
}
