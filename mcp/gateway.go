package mcp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
)

// caller is one caller's session at the gateway: a gosnowflake connection
// logged in with the caller's own token, as the client application
// ClientApp. Its tool calls use it one at a time.
type caller struct {
	key string
	db  *sql.DB
	tr  *clientTransport
	gw  *gatewayClient

	busy     int       // tool calls using it; guarded by pool.mu
	lastUsed time.Time // guarded by pool.mu
}

// pool holds the callers' sessions: one per token (and MCP session, over
// HTTP), closed when idle.
type pool struct {
	cfg *Config
	gw  *gatewayClient

	mu      sync.Mutex
	callers map[string]*caller
	closed  bool
}

func newPool(cfg *Config) *pool {
	return &pool{cfg: cfg, gw: &gatewayClient{base: cfg.Gateway, http: &http.Client{Transport: cfg.transport(), Timeout: 2 * time.Minute}}, callers: map[string]*caller{}}
}

// acquire returns the caller's session, opening it when there is none;
// release it when the tool call is done.
func (p *pool) acquire(token, mcpSession string) (*caller, bool, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:])
	if mcpSession != "" {
		key += "/" + mcpSession
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false, errors.New("snowgate mcp is shutting down")
	}
	c, ok := p.callers[key]
	if !ok {
		var err error
		if c, err = p.open(key, token); err != nil {
			return nil, false, err
		}
		p.callers[key] = c
	}
	c.busy++
	c.lastUsed = time.Now()
	return c, !ok, nil
}

func (p *pool) release(c *caller) {
	p.mu.Lock()
	c.busy--
	c.lastUsed = time.Now()
	p.mu.Unlock()
}

// open prepares a caller's session; gosnowflake logs in on first use.
func (p *pool) open(key, token string) (*caller, error) {
	u, err := url.Parse(p.cfg.Gateway)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("gateway URL %q: want http(s)://HOST:PORT", p.cfg.Gateway)
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if s := u.Port(); s != "" {
		if port, err = strconv.Atoi(s); err != nil {
			return nil, fmt.Errorf("gateway URL %q: bad port", p.cfg.Gateway)
		}
	}
	tr := &clientTransport{base: p.cfg.transport(), app: ClientApp, version: p.cfg.Version}
	jsonFormat := "json"
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: p.cfg.Account, Host: u.Hostname(), Port: port, Protocol: u.Scheme,
		Authenticator: sf.AuthTypeOAuth, Token: token,
		Database: p.cfg.Database, Schema: p.cfg.Schema,
		Application: ClientApp, Transporter: tr, LoginTimeout: 30 * time.Second,
		// JSON results keep decimals exact, as the gateway sent them.
		Params:           map[string]*string{"GO_QUERY_RESULT_FORMAT": &jsonFormat},
		DisableTelemetry: true, DisableQueryContextCache: true, DisableConsoleLogin: sf.ConfigBoolTrue,
	}))
	db.SetMaxOpenConns(1) // one gateway session per caller
	db.SetMaxIdleConns(1)
	return &caller{key: key, db: db, tr: tr, gw: p.gw}, nil
}

// drop closes a caller's session now (its MCP session ended), unless a
// tool call still uses it; the reaper gets it then.
func (p *pool) drop(key string) {
	p.mu.Lock()
	c, ok := p.callers[key]
	if ok && c.busy == 0 {
		delete(p.callers, key)
	}
	p.mu.Unlock()
	if ok && c.busy == 0 {
		c.db.Close()
	}
}

// reap closes sessions unused for the idle timeout, until ctx ends.
func (p *pool) reap(ctx context.Context) {
	every := min(p.cfg.IdleTimeout/4, time.Minute)
	t := time.NewTicker(max(every, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var idle []*caller
			p.mu.Lock()
			for k, c := range p.callers {
				if c.busy == 0 && now.Sub(c.lastUsed) > p.cfg.IdleTimeout {
					idle = append(idle, c)
					delete(p.callers, k)
				}
			}
			p.mu.Unlock()
			for _, c := range idle {
				p.cfg.Logger.Info("closing idle gateway session")
				c.db.Close() // gosnowflake closes the gateway session
			}
		}
	}
}

func (p *pool) close() {
	p.mu.Lock()
	all := p.callers
	p.callers, p.closed = map[string]*caller{}, true
	p.mu.Unlock()
	for _, c := range all {
		c.db.Close()
	}
}

// conn returns the caller's gateway session, logging in when it has none.
func (c *caller) conn(ctx context.Context) (*sql.Conn, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("log in to the gateway: %w", err)
	}
	return conn, nil
}

// discard closes a connection whose gateway session is gone, so that the
// next one logs in again.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// explain asks the gateway what it decides on sqlText for this session,
// opening approval requests when open is set. A session the gateway no
// longer knows is replaced once.
func (c *caller) explain(ctx context.Context, conn *sql.Conn, sqlText string, open bool) (*proxy.Explanation, *sql.Conn, error) {
	ex, err := c.gw.explain(ctx, c.tr, sqlText, open)
	if code, ok := errorCode(err); ok && sessionGone(code) {
		discard(conn)
		if conn, err = c.conn(ctx); err != nil {
			return nil, nil, err
		}
		ex, err = c.gw.explain(ctx, c.tr, sqlText, open)
	}
	return ex, conn, err
}

func sessionGone(code int) bool {
	switch fmt.Sprintf("%06d", code) {
	case proxy.CodeSessionInvalid, proxy.CodeSessionGone, proxy.CodeMasterExpired:
		return true
	}
	return false
}

// gatewayClient makes the requests gosnowflake does not: explain, and the
// session token's renewal it needs.
type gatewayClient struct {
	base string
	http *http.Client
}

// envelope is the gateway's answer.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Code    *string         `json:"code"`
	Message *string         `json:"message"`
	Success bool            `json:"success"`
}

func (g *gatewayClient) explain(ctx context.Context, tr *clientTransport, sqlText string, open bool) (*proxy.Explanation, error) {
	body, _ := json.Marshal(map[string]any{"sqlText": sqlText, "openApproval": open})
	session, master := tr.tokens()
	env, err := g.post(ctx, proxy.ExplainPath, session, body)
	if err == nil && !env.Success && env.Code != nil && *env.Code == proxy.CodeSessionExpired && master != "" {
		if session, err = g.renew(ctx, session, master); err == nil {
			tr.renewed(session)
			env, err = g.post(ctx, proxy.ExplainPath, session, body)
		}
	}
	if err != nil {
		return nil, err
	}
	if !env.Success {
		return nil, failure(env)
	}
	var ex proxy.Explanation
	if err := json.Unmarshal(env.Data, &ex); err != nil {
		return nil, fmt.Errorf("the gateway's explanation: %w", err)
	}
	return &ex, nil
}

// renew trades the master token for a new session token, as drivers do
// when the gateway answers 390112.
func (g *gatewayClient) renew(ctx context.Context, session, master string) (string, error) {
	body, _ := json.Marshal(map[string]string{"oldSessionToken": session, "requestType": "RENEW"})
	env, err := g.post(ctx, renewPath, master, body)
	if err != nil {
		return "", err
	}
	if !env.Success {
		return "", failure(env)
	}
	var d struct {
		SessionToken string `json:"sessionToken"`
	}
	if err := json.Unmarshal(env.Data, &d); err != nil || d.SessionToken == "" {
		return "", errors.New("the gateway renewed the session without a token")
	}
	return d.SessionToken, nil
}

func (g *gatewayClient) post(ctx context.Context, path, token string, body []byte) (*envelope, error) {
	if token == "" {
		return nil, errors.New("no gateway session")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/snowflake")
	req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	var env envelope
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &env) != nil {
		return nil, fmt.Errorf("gateway: %s answered %s", path, resp.Status)
	}
	return &env, nil
}

// failure is a gateway error answer as a driver reports it.
func failure(env *envelope) error {
	e := &sf.SnowflakeError{Number: -1, Message: "the gateway refused the request"}
	if env.Message != nil {
		e.Message = *env.Message
	}
	if env.Code != nil {
		if n, err := strconv.Atoi(*env.Code); err == nil {
			e.Number = n
		}
	}
	var d struct {
		SQLState string `json:"sqlState"`
		QueryID  string `json:"queryId"`
	}
	if json.Unmarshal(env.Data, &d) == nil {
		e.SQLState, e.QueryID = d.SQLState, d.QueryID
	}
	return e
}

// errorCode is the Snowflake error code of err, if it carries one.
func errorCode(err error) (int, bool) {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return se.Number, true
	}
	return 0, false
}
