package mcp

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// clientTransport carries one caller's gosnowflake session to the gateway.
// It names the front door at login: the gateway records CLIENT_APP_ID and
// CLIENT_APP_VERSION as the session's client (the audit trail's session
// start, the policy's input.session.client), and gosnowflake always sends
// its own ("Go") there, with the application it is given only in
// CLIENT_ENVIRONMENT. And it keeps the session and master tokens the
// gateway hands the driver, for the requests the driver does not make
// (explain).
type clientTransport struct {
	base         http.RoundTripper
	app, version string

	mu              sync.Mutex
	session, master string // the gateway session's token and master token
}

// Gateway paths the transport reads.
const (
	loginPath = "/session/v1/login-request"
	renewPath = "/session/token-request"
)

func (t *clientTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == loginPath {
		return t.login(r)
	}
	if tok := sessionToken(r.Header); tok != "" && r.URL.Path != renewPath {
		t.mu.Lock()
		t.session = tok // the driver renews on its own; its latest token is the session's
		t.mu.Unlock()
	}
	return t.base.RoundTrip(r)
}

// login names the client in the login request and keeps the tokens the
// gateway answers with.
func (t *clientTransport) login(r *http.Request) (*http.Response, error) {
	body, err := readMaybeGzip(r.Body)
	if err != nil {
		return nil, fmt.Errorf("login request: %w", err)
	}
	var req map[string]json.RawMessage
	var data map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("login request: %w", err)
	}
	if err := json.Unmarshal(req["data"], &data); err != nil || data == nil {
		return nil, errors.New("login request without data")
	}
	data["CLIENT_APP_ID"], _ = json.Marshal(t.app)
	data["CLIENT_APP_VERSION"], _ = json.Marshal(t.version)
	req["data"], _ = json.Marshal(data)
	body, _ = json.Marshal(req)

	r2 := r.Clone(r.Context())
	r2.Header.Del("Content-Encoding")
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("login response: %w", err)
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	if plain, err := readMaybeGzip(io.NopCloser(bytes.NewReader(b))); err == nil {
		b = plain // the driver asked for gzip itself: it reads the body as sent
	}
	var env struct {
		Data struct {
			Token       string `json:"token"`
			MasterToken string `json:"masterToken"`
		} `json:"data"`
		Success bool `json:"success"`
	}
	if json.Unmarshal(b, &env) == nil && env.Success {
		t.mu.Lock()
		t.session, t.master = env.Data.Token, env.Data.MasterToken
		t.mu.Unlock()
	}
	return resp, nil
}

// tokens returns the session token and the master token.
func (t *clientTransport) tokens() (session, master string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session, t.master
}

func (t *clientTransport) renewed(session string) {
	t.mu.Lock()
	t.session = session
	t.mu.Unlock()
}

// sessionToken reads `Authorization: Snowflake Token="..."`.
func sessionToken(h http.Header) string {
	v, ok := strings.CutPrefix(h.Get("Authorization"), `Snowflake Token="`)
	if !ok {
		return ""
	}
	v, ok = strings.CutSuffix(v, `"`)
	if !ok || v == "None" {
		return ""
	}
	return v
}

func readMaybeGzip(rc io.ReadCloser) ([]byte, error) {
	if rc == nil {
		return nil, errors.New("no body")
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, 1<<20))
}
