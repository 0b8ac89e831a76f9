package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Authenticator verifies the credentials a client logs in with.
type Authenticator interface {
	Authenticate(ctx context.Context, c LoginCredentials) (*Principal, error)
}

// LoginCredentials are what a driver sends to log in.
type LoginCredentials struct {
	Method    string // upper-case AUTHENTICATOR: OAUTH, SNOWFLAKE, SNOWFLAKE_JWT
	Account   string
	LoginName string
	Password  string
	Token     string
}

// Principal is who logged in.
type Principal struct {
	Identity engine.Identity
	// Expires is when the credential the client presented stops being
	// valid (an OIDC token's exp); zero when it does not expire. After it,
	// the session may not run statements.
	Expires time.Time
	// Upstream is the upstream login to use when there is no
	// CredentialSource (the stand-in logs its users in as themselves).
	Upstream OpenParams
	// VaultRole, when set (by the connect decision), names the Vault
	// database role the session's credentials come from.
	VaultRole string
}

// CredentialSource hands out upstream credentials per session.
type CredentialSource interface {
	// Acquire returns the upstream login for a new session: want with its
	// user and secret filled in.
	Acquire(ctx context.Context, p *Principal, want OpenParams) (Credentials, error)
}

// Credentials are one session's upstream login and its hold on it.
type Credentials struct {
	Params OpenParams
	// Release, when not nil, returns the credentials; it is called once,
	// when the session ends.
	Release func()
	// Withdrawn, when not nil, is done when the credentials were taken back
	// while the session lived (a lease revoked in Vault, or expired): the
	// session is ended then, its statements cancelled, and context.Cause
	// says why.
	Withdrawn context.Context
}

type loginRequest struct {
	Data struct {
		ClientAppID       string         `json:"CLIENT_APP_ID"`
		ClientAppVersion  string         `json:"CLIENT_APP_VERSION"`
		AccountName       string         `json:"ACCOUNT_NAME"`
		LoginName         string         `json:"LOGIN_NAME"`
		Password          string         `json:"PASSWORD"`
		Authenticator     string         `json:"AUTHENTICATOR"`
		Token             string         `json:"TOKEN"`
		SessionParameters map[string]any `json:"SESSION_PARAMETERS"`
	} `json:"data"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) (res any, err error) {
	ctx, span := s.tracer.Start(remoteParent(r.Context(), r), "snowgate.login")
	defer func() { endSpan(span, err) }()
	r = r.WithContext(ctx)
	var req loginRequest
	if err := decodeBody(r, 1<<20, &req); err != nil {
		return nil, err
	}
	d := req.Data
	method := strings.ToUpper(d.Authenticator)
	if method == "" {
		method = "SNOWFLAKE"
	}
	q := r.URL.Query()
	// Names as Snowflake resolves them, so that the policy compares them
	// with its own (DEMO.PUBLIC), whatever case the connection string used.
	want := s.canonical(OpenParams{
		Database:  q.Get("databaseName"),
		Schema:    q.Get("schemaName"),
		Warehouse: q.Get("warehouse"),
		Role:      q.Get("roleName"),
	})
	client := clientInfo{App: d.ClientAppID, Version: d.ClientAppVersion, Address: remoteIP(r)}
	log := s.log.With("client", client.App, "client_version", client.Version, "addr", client.Address, "method", method)

	p, err := s.cfg.Auth.Authenticate(r.Context(), LoginCredentials{
		Method: method, Account: d.AccountName, LoginName: d.LoginName, Password: d.Password, Token: d.Token,
	})
	if err != nil {
		log.Info("login refused", "reason", err)
		s.counters.loginsRefused.Add(1)
		e := loginError(err)
		_, _ = s.record(r.Context(), audit.Event{Type: audit.TypeLoginRefused, Client: &audit.Client{App: client.App, Version: client.Version, Address: client.Address}, Reason: asError(e).Message})
		return nil, e
	}
	log = log.With("subject", p.Identity.Subject, "agent", agentID(p.Identity))
	if err := s.connectDecision(r, p, &want, client); err != nil {
		log.Info("login refused by policy", "reason", err)
		s.counters.loginsRefused.Add(1)
		_, _ = s.record(r.Context(), audit.Event{Type: audit.TypeLoginRefused, Identity: auditIdentity(p.Identity), Client: &audit.Client{App: client.App, Version: client.Version, Address: client.Address}, Reason: asError(err).Message})
		return nil, err
	}

	sess, err := s.startSession(r.Context(), p, want, client)
	if err != nil {
		log.Warn("login failed", "reason", err)
		return nil, err
	}
	if tag, ok := d.SessionParameters["QUERY_TAG"].(string); ok {
		sess.queryTag = tag
	}
	sess.params = map[string]string{}
	for k, v := range d.SessionParameters {
		if k = strings.ToUpper(k); isFormatParam(k) {
			s, _ := v.(string)
			sess.params[k] = strings.ToUpper(s)
		}
	}
	sess.arrow.Store(readsArrow(client.App, sess.params))
	if _, err := s.record(r.Context(), audit.Event{Type: audit.TypeSessionStart, SessionID: sessionID(sess), Identity: auditIdentity(p.Identity), Client: sess.auditClient(), Upstream: sess.upstreamUser}); err != nil {
		s.endSession(sess, "session start could not be recorded")
		return nil, err
	}
	s.counters.logins.Add(1)
	log.Info("session started", "session", sess.id)
	st := sess.snapshot()
	return map[string]any{
		"token":                   sess.token,
		"masterToken":             sess.master,
		"validityInSeconds":       int(s.cfg.TokenTTL.Seconds()),
		"masterValidityInSeconds": int(s.cfg.MasterTTL.Seconds()),
		"displayUserName":         displayName(p.Identity),
		"serverVersion":           s.cfg.ServerVersion,
		"firstLogin":              false,
		"remMeToken":              nil,
		"remMeValidityInSeconds":  0,
		"healthCheckInterval":     int(s.cfg.PingPong.Seconds()),
		"newClientForUpgrade":     nil,
		"sessionId":               sess.id,
		"parameters":              sessionParameters,
		"sessionInfo": map[string]any{
			"databaseName": nullable(st.Database), "schemaName": nullable(st.Schema),
			"warehouseName": nullable(st.Warehouse), "roleName": nullable(st.Role),
		},
		"idToken": nil, "idTokenValidityInSeconds": 0, "responseData": nil,
		"mfaToken": nil, "mfaTokenValidityInSeconds": 0,
	}, nil
}

// Connector takes the login decision: whether the identity may open a
// session, and as which upstream role, warehouse and Vault role.
type Connector interface {
	Connect(ctx context.Context, in engine.ConnectInput) engine.ConnectDecision
}

// connectDecision applies the policy's login decision when the Decider
// also takes one.
func (s *Server) connectDecision(r *http.Request, p *Principal, want *OpenParams, client clientInfo) error {
	c, ok := s.cfg.Decider.(Connector)
	if !ok || s.cfg.Unguarded {
		return nil
	}
	d := c.Connect(r.Context(), engine.ConnectInput{
		Version:  engine.InputVersion,
		Identity: p.Identity,
		Session: engine.Session{
			Client: client.App, ClientVersion: client.Version, ClientAddress: client.Address,
			Database: want.Database, Schema: want.Schema, Warehouse: want.Warehouse, Role: want.Role, StartedAt: time.Now(),
		},
		Request: engine.Request{ID: pick(r.URL.Query().Get("requestId"), r.URL.Query().Get("request_id")), Time: time.Now()},
		Usage:   s.usage(p.Identity, QuotaKeys(p.Identity), s.log),
	})
	if d.Action != engine.ActionAllow {
		return newError(CodeLoginRefused, "28000", "snowgate: login refused: "+strings.Join(d.Reasons, "; ")+" (decision "+d.ID+")", nil)
	}
	want.Role = s.canonicalName(d.Role)
	if d.Warehouse != "" {
		want.Warehouse = s.canonicalName(d.Warehouse)
	}
	p.VaultRole = d.VaultRole
	return nil
}

// startSession gets upstream credentials, opens the upstream session and
// registers the new session. Nothing is left half-open on failure.
func (s *Server) startSession(ctx context.Context, p *Principal, want OpenParams, client clientInfo) (*session, error) {
	params := s.canonical(p.Upstream)
	d := s.canonical(s.cfg.Defaults)
	params.Database = pick(want.Database, pick(params.Database, d.Database))
	params.Schema = pick(want.Schema, pick(params.Schema, d.Schema))
	params.Warehouse = pick(want.Warehouse, pick(params.Warehouse, d.Warehouse))
	params.Role = pick(want.Role, pick(params.Role, d.Role))
	creds := Credentials{Params: params}
	if s.cfg.Credentials != nil {
		var err error
		if creds, err = s.cfg.Credentials.Acquire(ctx, p, params); err != nil {
			return nil, newError(CodeCredentials, "08004", "snowgate could not get upstream credentials for this session; try again later", err)
		}
		params = s.canonical(creds.Params)
	}
	release := creds.Release
	if release == nil {
		release = func() {}
	}
	conn, err := s.cfg.Upstream.Open(ctx, s.upstreamNames(params))
	if err != nil {
		release()
		return nil, upstreamLoginError(err)
	}
	now := time.Now()
	sess := &session{
		id: newSessionID(), principal: p, conn: conn, upstreamUser: params.User, quotaKeys: QuotaKeys(p.Identity), catalog: newSessionCatalog(conn), release: release, started: now, client: client,
		token: newToken(), master: newToken(),
		tokenExpires: now.Add(s.cfg.TokenTTL), masterExpires: now.Add(s.cfg.MasterTTL), lastUsed: now,
		state:    SessionState{Database: params.Database, Schema: params.Schema, Warehouse: params.Warehouse, Role: params.Role},
		requests: map[string]*query{},
	}
	s.sessions.add(sess)
	if s.cfg.Quotas != nil {
		s.cfg.Quotas.Open(sess.quotaKeys)
	}
	if creds.Withdrawn != nil {
		unwatch := context.AfterFunc(creds.Withdrawn, func() {
			s.endSession(sess, fmt.Sprintf("upstream credentials withdrawn: %v", context.Cause(creds.Withdrawn)))
		})
		sess.mu.Lock()
		sess.unwatch = unwatch
		sess.mu.Unlock()
	}
	return sess, nil
}

// canonical puts the database, schema, warehouse and role of p as Snowflake
// resolves a name given at login: unquoted, upper-cased (demo is DEMO);
// double-quoted, exactly as written without the quotes ("demo" is demo),
// or upper-cased too when the upstream ignores the case of quoted names
// (FoldQuotedIdentifiers). Session state and the policy's input hold these.
func (s *Server) canonical(p OpenParams) OpenParams {
	p.Database, p.Schema = s.canonicalName(p.Database), s.canonicalName(p.Schema)
	p.Warehouse, p.Role = s.canonicalName(p.Warehouse), s.canonicalName(p.Role)
	return p
}

func (s *Server) canonicalName(name string) string {
	t, ok := identifier(name)
	switch {
	case !ok:
		return strings.ToUpper(strings.TrimSpace(name))
	case t.Kind == statement.TokQuotedIdent && s.cfg.FoldQuotedIdentifiers:
		return strings.ToUpper(t.Value)
	}
	return t.Value
}

// identifier reads name with the analyser's lexer, as one unquoted
// (upper-cased) or quoted (unescaped) identifier.
func identifier(name string) (statement.Token, bool) {
	toks, err := statement.Lex(name)
	if err != nil || len(toks) != 1 || toks[0].Kind != statement.TokIdent && toks[0].Kind != statement.TokQuotedIdent {
		return statement.Token{}, false
	}
	return toks[0], true
}

// upstreamNames writes canonical names as the upstream's login reads them:
// a name that unquoted would resolve to something else (lower case, spaces)
// in double quotes. An upstream that ignores the case of quoted names takes
// them as they are.
func (s *Server) upstreamNames(p OpenParams) OpenParams {
	if s.cfg.FoldQuotedIdentifiers {
		return p
	}
	p.Database, p.Schema, p.Warehouse, p.Role = quoteName(p.Database), quoteName(p.Schema), quoteName(p.Warehouse), quoteName(p.Role)
	return p
}

// quoteName double-quotes a canonical name unless, unquoted, it reads as
// itself, which Snowflake reads the same either way.
func quoteName(name string) string {
	if t, ok := identifier(name); name == "" || ok && t.Kind == statement.TokIdent && t.Value == name {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func displayName(id engine.Identity) string {
	if id.Name != "" {
		return id.Name
	}
	return id.Subject
}

func agentID(id engine.Identity) string {
	if id.Agent == nil {
		return ""
	}
	return id.Agent.ID
}

// ErrCredentials is returned by an Authenticator for credentials that are
// wrong. Wrap it with the reason, which is shown to the client.
var ErrCredentials = errors.New("invalid credentials")

// ErrUnsupportedMethod is returned by an Authenticator for a login method it
// does not accept.
var ErrUnsupportedMethod = errors.New("unsupported authenticator")

func loginError(err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrUnsupportedMethod):
		return newError(CodeUnknownAuthenticator, "28000", err.Error(), err)
	case errors.Is(err, ErrCredentials):
		return newError(CodeOAuthInvalid, "28000", "login refused: "+err.Error(), err)
	}
	return newError(CodeLoginRefused, "28000", "login refused", err)
}

func upstreamLoginError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeUpstream, "08001", "snowgate could not open the upstream session", err)
}

type renewRequest struct {
	OldSessionToken string `json:"oldSessionToken"`
	RequestType     string `json:"requestType"`
}

// renew answers /session/token-request: the master token buys a new session
// token, unless the master token or the client's own credential expired.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) (any, error) {
	var req renewRequest
	if err := decodeBody(r, 1<<16, &req); err != nil {
		return nil, err
	}
	sess := s.sessions.master(headerToken(r))
	if sess == nil {
		return nil, newError("390113", "08001", "master token not found; log in again", nil)
	}
	sess.mu.Lock()
	expired := time.Now().After(sess.masterExpires)
	sess.mu.Unlock()
	if expired {
		s.endSession(sess, "master token expired")
		return nil, newError(CodeMasterExpired, "08001", "master token expired; log in again", nil)
	}
	if err := s.credentialLive(sess); err != nil {
		return nil, err
	}
	s.sessions.rotate(sess, s.cfg.TokenTTL)
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return map[string]any{
		"sessionToken":            sess.token,
		"validityInSecondsST":     int(s.cfg.TokenTTL.Seconds()),
		"masterToken":             sess.master,
		"validityInSecondsMT":     int(time.Until(sess.masterExpires).Seconds()),
		"masterValidityInSeconds": int(time.Until(sess.masterExpires).Seconds()),
		"sessionId":               sess.id,
	}, nil
}

// credentialLive refuses a session whose client credential (OIDC token) has
// expired, and ends it.
func (s *Server) credentialLive(sess *session) error {
	if exp := sess.principal.Expires; !exp.IsZero() && time.Now().After(exp) {
		s.endSession(sess, "identity token expired")
		return newError(CodeSessionInvalid, "08001", "your identity token expired at "+exp.UTC().Format(time.RFC3339)+"; reconnect with a fresh token", nil)
	}
	return nil
}

// authSession finds the session a request's token belongs to.
func (s *Server) authSession(r *http.Request) (*session, error) {
	tok := headerToken(r)
	if tok == "" {
		return nil, newError(CodeSessionInvalid, "08001", "no session token; log in first", nil)
	}
	sess := s.sessions.token(tok)
	if sess == nil {
		msg := "session token not recognised; log in again"
		if q := r.URL.Query(); q.Get("retryCount") != "" && q.Get("requestId") != "" && len(q.Get("requestId")) <= 64 {
			// A driver resending a statement to a gateway that does not
			// know its session: the one that did may have run it before it
			// went away.
			msg = "session token not recognised, and this is a retry: the statement (request " + q.Get("requestId") +
				") may have run before its session was lost; check before running it again, then log in again"
		}
		return nil, newError(CodeSessionInvalid, "08001", msg, nil)
	}
	now := time.Now()
	sess.mu.Lock()
	expired := now.After(sess.tokenExpires)
	if !expired {
		sess.lastUsed = now
	}
	sess.mu.Unlock()
	if expired {
		return nil, newError(CodeSessionExpired, "08001", "session token expired", nil)
	}
	if err := s.credentialLive(sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// headerToken reads `Authorization: Snowflake Token="..."`.
func headerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = `Snowflake Token="`
	if !strings.HasPrefix(h, prefix) || !strings.HasSuffix(h, `"`) || len(h) < len(prefix)+1 {
		return ""
	}
	t := h[len(prefix) : len(h)-1]
	if t == "None" {
		return ""
	}
	return t
}

func (s *Server) closeSession(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method == http.MethodPost && r.URL.Query().Get("delete") != "true" {
		return nil, newError(CodeBadRequest, "08P01", "POST /session needs delete=true", nil)
	}
	_, _ = readBody(r, 1<<16)
	sess := s.sessions.token(headerToken(r))
	if sess == nil {
		return nil, newError(CodeSessionGone, "08003", "session no longer exists", nil)
	}
	s.endSession(sess, "closed by client")
	return nil, nil
}

// endSession closes a session once: its statements are cancelled, its
// upstream session closed and its credentials released.
func (s *Server) endSession(sess *session, why string) {
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return
	}
	sess.closed = true
	reqs, unwatch := sess.requests, sess.unwatch
	sess.requests = nil
	sess.mu.Unlock()
	s.sessions.remove(sess)
	for _, q := range reqs {
		q.cancel()
	}
	if err := sess.conn.Close(); err != nil {
		s.log.Warn("closing upstream session", "session", sess.id, "err", err)
	}
	if unwatch != nil {
		unwatch()
	}
	if sess.release != nil {
		sess.release()
	}
	s.queries.dropSession(sess.id)
	if s.cfg.Quotas != nil {
		s.cfg.Quotas.Closed(sess.quotaKeys)
	}
	_, _ = s.record(context.Background(), audit.Event{Type: audit.TypeSessionEnd, SessionID: sessionID(sess), Identity: auditIdentity(sess.principal.Identity), Reason: why})
	s.log.Info("session ended", "session", sess.id, "subject", sess.principal.Identity.Subject, "why", why)
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) (any, error) {
	_, _ = readBody(r, 1<<16)
	if _, err := s.authSession(r); err != nil {
		return nil, err
	}
	return nil, nil
}

func (s *Server) telemetry(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := readBody(r, 4<<20); err != nil {
		return nil, err
	}
	return "Log Received", nil
}

// reap ends sessions that were idle too long or lived too long, and drops
// expired results.
func (s *Server) reap() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			for _, sess := range s.sessions.all() {
				sess.mu.Lock()
				idle := now.Sub(sess.lastUsed) > s.cfg.IdleTimeout
				old := now.Sub(sess.started) > s.cfg.MaxLife
				gone := now.After(sess.masterExpires)
				sess.mu.Unlock()
				switch {
				case idle:
					s.endSession(sess, "idle timeout")
				case old:
					s.endSession(sess, "maximum session life reached")
				case gone:
					s.endSession(sess, "master token expired")
				}
			}
			s.queries.expire(now, s.cfg.ResultTTL)
		}
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// formatParam is, by driver (CLIENT_APP_ID), the session parameter that
// chooses its result format, set at login or with ALTER SESSION.
var formatParam = map[string]string{"Go": "GO_QUERY_RESULT_FORMAT", "PythonConnector": "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT", "JDBC": "JDBC_QUERY_RESULT_FORMAT"}

func isFormatParam(name string) bool {
	for _, p := range formatParam {
		if p == name {
			return true
		}
	}
	return false
}

// alterSession lexes an ALTER SESSION SET or UNSET: whether it sets, and
// the tokens of its list.
func alterSession(sql string) (set bool, list []statement.Token, ok bool) {
	toks, err := statement.Lex(sql)
	if err != nil || len(toks) < 4 || !isWord(toks[0], "ALTER") || !isWord(toks[1], "SESSION") {
		return false, nil, false
	}
	set = isWord(toks[2], "SET")
	if !set && !isWord(toks[2], "UNSET") {
		return false, nil, false
	}
	return set, toks[3:], true
}

// alterFormat reads ALTER SESSION SET or UNSET of result-format parameters
// (formatParam): each one named, with its value upper-case, or "" when
// unset. It returns nil for any other statement.
func alterFormat(sql string) map[string]string {
	set, toks, ok := alterSession(sql)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for i := range toks {
		name := strings.ToUpper(toks[i].Value)
		if !isFormatParam(name) {
			continue
		}
		if !set {
			out[name] = ""
			continue
		}
		if i+2 < len(toks) && toks[i+1].Kind == statement.TokOp && toks[i+1].Value == "=" {
			out[name] = strings.ToUpper(toks[i+2].Value)
		}
	}
	return out
}

// formatOnly says whether sql is an ALTER SESSION that sets or unsets
// result-format parameters (formatParam) and nothing else: the format a
// client reads is between it and the gateway, which answers the statement
// itself and keeps reading the upstream's results in Arrow.
func formatOnly(sql string) bool {
	set, toks, ok := alterSession(sql)
	if !ok {
		return false
	}
	for i := 0; ; {
		if toks[i].Kind != statement.TokIdent || !isFormatParam(strings.ToUpper(toks[i].Value)) {
			return false
		}
		i++
		if set {
			if i+1 >= len(toks) || toks[i].Kind != statement.TokOp || toks[i].Value != "=" {
				return false
			}
			if v := toks[i+1]; v.Kind != statement.TokString && v.Kind != statement.TokIdent {
				return false
			}
			i += 2
		}
		if i == len(toks) || i == len(toks)-1 && toks[i].Kind == statement.TokOp && toks[i].Value == ";" {
			return true
		}
		if toks[i].Kind != statement.TokOp || toks[i].Value != "," || i+1 == len(toks) {
			return false
		}
		i++
	}
}

// readsArrow says whether a driver gets results as Arrow, as Snowflake
// decides it: the Go, Python and JDBC drivers read Arrow unless their
// session asks for JSON (formatParam; JDBC's Arrow reader needs a JVM flag
// on Java 16 and later, and JSON is the way out without it); Node and the
// others read JSON.
func readsArrow(app string, params map[string]string) bool {
	name, ok := formatParam[app]
	return ok && params[name] != "JSON"
}

// sessionParameters are the session parameters every login and query
// response carries (drivers build their type converters from them),
// encoded once.
var sessionParameters = mustJSON([]map[string]any{
	{"name": "AUTOCOMMIT", "value": true},
	{"name": "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "value": 3600},
	{"name": "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", "value": 0},
	{"name": "CLIENT_PREFETCH_THREADS", "value": 4},
	{"name": "CLIENT_RESULT_CHUNK_SIZE", "value": 160}, // JDBC sizes its chunk buffers from these two
	{"name": "CLIENT_MEMORY_LIMIT", "value": 1536},
	{"name": "CLIENT_RESULT_COLUMN_CASE_INSENSITIVE", "value": false},
	{"name": "CLIENT_TELEMETRY_ENABLED", "value": false},
	{"name": "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED", "value": false},
	{"name": "CLIENT_HONOR_CLIENT_TZ_FOR_TIMESTAMP_NTZ", "value": true},
	{"name": "TIMEZONE", "value": "UTC"},
	{"name": "TIMESTAMP_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM"},
	{"name": "TIMESTAMP_NTZ_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3"},
	{"name": "TIMESTAMP_LTZ_OUTPUT_FORMAT", "value": ""},
	{"name": "TIMESTAMP_TZ_OUTPUT_FORMAT", "value": ""},
	{"name": "DATE_OUTPUT_FORMAT", "value": "YYYY-MM-DD"},
	{"name": "TIME_OUTPUT_FORMAT", "value": "HH24:MI:SS"},
	{"name": "BINARY_OUTPUT_FORMAT", "value": "HEX"},
	{"name": "QUERY_CONTEXT_CACHE_SIZE", "value": 5},
	{"name": "JS_TREAT_INTEGER_AS_BIGINT", "value": false},
})

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
