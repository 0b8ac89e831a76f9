package bundles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
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
	// LongPollTimeout, when set, asks the server to hold a request for an
	// unchanged bundle up to this long (OPA's `Prefer: wait=N`). Servers
	// that support it answer with Content-Type
	// application/vnd.openpolicyagent.bundles; then the Poller asks again at
	// once instead of waiting for its interval. Default 0: plain polling.
	LongPollTimeout time.Duration

	unsupported atomic.Bool // the server ignored long polling
}

// MediaTypeLongPoll is the Content-Type with which a bundle server says it
// supports long polling.
const MediaTypeLongPoll = "application/vnd.openpolicyagent.bundles"

// LongPolling reports whether the next Fetch is a long poll, so that the
// Poller need not wait between requests.
func (h *HTTP) LongPolling() bool { return h.LongPollTimeout > 0 && !h.unsupported.Load() }

var _ Source = (*HTTP)(nil)

// String is the URL without its query, which may hold a token.
func (h *HTTP) String() string {
	u, _, _ := strings.Cut(h.URL, "?")
	return u
}

var (
	defaultHTTPClient = &http.Client{Timeout: 60 * time.Second}
	longPollClient    = &http.Client{} // bounded per request by LongPollTimeout
)

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
	req.Header.Set("Accept", "application/gzip, "+MediaTypeLongPoll+", */*")
	if version != "" {
		req.Header.Set("If-None-Match", version)
	}
	c := h.Client
	if c == nil {
		c = defaultHTTPClient
	}
	if h.LongPolling() {
		wait := int64(h.LongPollTimeout.Round(time.Second) / time.Second)
		req.Header.Set("Prefer", fmt.Sprintf("modes=snapshot;wait=%d", max(wait, 1)))
		if h.Client == nil {
			c = longPollClient
		}
		ctx, cancel := context.WithTimeout(ctx, h.LongPollTimeout+30*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bundle server %s: %w", h, err)
	}
	defer resp.Body.Close()
	if h.LongPollTimeout > 0 && resp.StatusCode == http.StatusOK {
		h.unsupported.Store(resp.Header.Get("Content-Type") != MediaTypeLongPoll)
	}
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
