package proxy_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devidp"
)

// rawClient speaks the protocol by hand, to send what no driver would.
type rawClient struct {
	t     *testing.T
	base  string
	token string
}

type reply struct {
	HTTP    int
	Success bool            `json:"success"`
	Code    *string         `json:"code"`
	Message *string         `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (c *rawClient) do(method, path, contentType string, body io.Reader, hdr map[string]string) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+c.token+`"`)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var r reply
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil {
		c.t.Fatalf("%s %s: answer is not JSON (HTTP %d): %q", method, path, resp.StatusCode, b)
	}
	r.HTTP = resp.StatusCode
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r
}

func (c *rawClient) post(path string, body any) reply {
	b, _ := json.Marshal(body)
	return c.do("POST", path, "application/json", bytes.NewReader(b), nil)
}

func (c *rawClient) login(tok string) {
	c.t.Helper()
	r := c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": tok, "CLIENT_APP_ID": "raw"}})
	if !r.Success {
		c.t.Fatalf("login failed: %s", *r.Message)
	}
	var d struct{ Token string }
	_ = json.Unmarshal(r.Data, &d)
	c.token = d.Token
}

// wantError checks a Snowflake-shaped failure: HTTP 200, success false, a
// six-digit code and a message.
func wantError(t *testing.T, name string, r reply, code string) {
	t.Helper()
	if r.HTTP != 200 || r.Success || r.Code == nil || r.Message == nil || *r.Message == "" {
		t.Errorf("%s: got HTTP %d success %v code %v message %v; want a Snowflake error", name, r.HTTP, r.Success, r.Code, r.Message)
		return
	}
	if len(*r.Code) != 6 || strings.Trim(*r.Code, "0123456789") != "" {
		t.Errorf("%s: code %q is not six digits", name, *r.Code)
	}
	if code != "" && *r.Code != code {
		t.Errorf("%s: code %s (%s), want %s", name, *r.Code, *r.Message, code)
	}
}

func TestProtocol_badInput(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{MaxBody: 1 << 20})
	c := &rawClient{t: t, base: "http://" + st.GatewayAddr}

	wantError(t, "malformed JSON login", c.do("POST", "/session/v1/login-request", "application/json", strings.NewReader(`{"data": {`), nil), proxy.CodeBadRequest)
	wantError(t, "XML login", c.do("POST", "/session/v1/login-request", "application/xml", strings.NewReader(`<login/>`), nil), proxy.CodeBadRequest)
	wantError(t, "wrong JSON types", c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"TOKEN": 42}}), proxy.CodeBadRequest)
	wantError(t, "no token", c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH"}}), proxy.CodeOAuthInvalid)
	wantError(t, "password login at the gateway", c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"LOGIN_NAME": "ADMIN", "PASSWORD": "snowgate-dev"}}), "")

	// A token signed by another key, with the right issuer and audience.
	other, err := devidp.New(st.Issuer.URL(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Token("admin")
	wantError(t, "forged OIDC token", c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": forged}}), proxy.CodeOAuthInvalid)

	// A gzip bomb: 64 MiB of zeros in 64 KiB.
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 64<<20))
	zw.Close()
	wantError(t, "gzip bomb", c.do("POST", "/session/v1/login-request", "application/json", &bomb, map[string]string{"Content-Encoding": "gzip"}), proxy.CodeStatementTooLarge)
	wantError(t, "truncated gzip", c.do("POST", "/session/v1/login-request", "application/json", bytes.NewReader([]byte{0x1f, 0x8b, 8, 0, 0}), nil), proxy.CodeBadRequest)

	wantError(t, "unknown endpoint", c.do("GET", "/api/v2/statements", "", nil, nil), proxy.CodeNotFound)
	wantError(t, "query without a session", c.post("/queries/v1/query-request?requestId=x", map[string]any{"sqlText": "SELECT 1"}), proxy.CodeSessionInvalid)
	c.token = "forged-session-token"
	wantError(t, "heartbeat with a forged session token", c.do("POST", "/session/heartbeat", "", nil, nil), proxy.CodeSessionInvalid)
	wantError(t, "query with a forged session token", c.post("/queries/v1/query-request?requestId=x", map[string]any{"sqlText": "SELECT 1"}), proxy.CodeSessionInvalid)
	// A driver's retry to a replica that does not know its session: the
	// statement may have run where the session was.
	r := c.post("/queries/v1/query-request?requestId=8c2f0b7e-0b6b-4f55-a0a4-5cc1d0b9e1a2&retryCount=1&retryReason=0", map[string]any{"sqlText": "INSERT INTO t VALUES (1)"})
	wantError(t, "retry on an unknown session", r, proxy.CodeSessionInvalid)
	if r.Message == nil || !strings.Contains(*r.Message, "this is a retry: the statement (request 8c2f0b7e-0b6b-4f55-a0a4-5cc1d0b9e1a2) may have run") {
		t.Errorf("retry on an unknown session: %v; want it to say the statement may have run", r.Message)
	}
	long := strings.Repeat("x", 200)
	if r := c.post("/queries/v1/query-request?requestId="+long+"&retryCount=1", map[string]any{"sqlText": "SELECT 1"}); r.Message == nil || strings.Contains(*r.Message, long) {
		t.Errorf("a 200-character request id is echoed: %v", r.Message)
	}

	tok, _ := st.Issuer.Token("analyst")
	c.login(tok)
	huge := `{"sqlText": "SELECT '` + strings.Repeat("x", 2<<20) + `'"}`
	wantError(t, "huge body", c.do("POST", "/queries/v1/query-request?requestId=h", "application/json", strings.NewReader(huge), nil), proxy.CodeStatementTooLarge)
	wantError(t, "empty statement", c.post("/queries/v1/query-request?requestId=e", map[string]any{"sqlText": "  ;; "}), proxy.CodeCompilation)
	wantError(t, "bad bind", c.post("/queries/v1/query-request?requestId=b", map[string]any{"sqlText": "SELECT ?", "bindings": map[string]any{"1": map[string]any{"type": "TEXT", "value": map[string]any{}}}}), proxy.CodeBadRequest)
	wantError(t, "unknown query id", c.do("GET", "/queries/nope/result", "", nil, nil), proxy.CodeQueryNotFound)
	wantError(t, "abort of nothing", c.post("/queries/v1/abort-request", map[string]any{"requestId": "none"}), proxy.CodeNotExecuting)

	// The gateway still serves after all of that.
	r = c.post("/queries/v1/query-request?requestId=ok", map[string]any{"sqlText": "SELECT 1"})
	if !r.Success {
		t.Fatalf("query after bad input: %s", *r.Message)
	}
}

func TestProtocol_requestIDRunsOnce(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	c := &rawClient{t: t, base: "http://" + st.GatewayAddr}
	tok, _ := st.Issuer.Token("analyst")
	c.login(tok)
	if r := c.post("/queries/v1/query-request?requestId=setup", map[string]any{"sqlText": "CREATE TABLE once (x INT)"}); !r.Success {
		t.Fatal(*r.Message)
	}
	insert := map[string]any{"sqlText": "INSERT INTO once VALUES (1)"}
	first := c.post("/queries/v1/query-request?requestId=3f1b6c1e-retry&request_guid=a", insert)
	second := c.post("/queries/v1/query-request?requestId=3f1b6c1e-retry&request_guid=b&retryCount=1", insert)
	if !first.Success || !second.Success {
		t.Fatalf("inserts: %v %v", first.Message, second.Message)
	}
	var d1, d2 struct{ QueryID string }
	_ = json.Unmarshal(first.Data, &d1)
	_ = json.Unmarshal(second.Data, &d2)
	if d1.QueryID != d2.QueryID {
		t.Errorf("a retried requestId got query %s, then %s", d1.QueryID, d2.QueryID)
	}
	r := c.post("/queries/v1/query-request?requestId=count", map[string]any{"sqlText": "SELECT count(*) FROM once"})
	var d struct{ Rowset [][]string }
	_ = json.Unmarshal(r.Data, &d)
	if len(d.Rowset) != 1 || d.Rowset[0][0] != "1" {
		t.Fatalf("rows after a retried insert: %v", d.Rowset)
	}
}

// TestLogin_connectDecision: the default policy's login decision picks the
// upstream role and warehouse, different for a human and their agent.
func TestLogin_connectDecision(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	for as, want := range map[string]string{"analyst": "SNOWGATE_ANALYST ANALYTICS_WH", "agent": "SNOWGATE_AGENT AGENT_WH"} {
		tok, _ := st.Issuer.Token(as)
		c := &rawClient{t: t, base: "http://" + st.GatewayAddr}
		r := c.post("/session/v1/login-request?roleName=ACCOUNTADMIN", map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": tok}})
		var d struct {
			SessionInfo struct{ RoleName, WarehouseName string }
		}
		_ = json.Unmarshal(r.Data, &d)
		if got := d.SessionInfo.RoleName + " " + d.SessionInfo.WarehouseName; !r.Success || got != want {
			t.Errorf("%s logged in as %q (success %v), want %q", as, got, r.Success, want)
		}
	}
}

// TestProtocol_pendingAsync: a session may have 64 asynchronous statements
// running or holding results it has not fetched; the next is refused with a
// clear error until it fetches one. Statements that failed hold nothing and
// do not count; a retried request id, statements run synchronously and other
// sessions are not held back.
func TestProtocol_pendingAsync(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	c := &rawClient{t: t, base: "http://" + st.GatewayAddr}
	tok, _ := st.Issuer.Token("analyst")
	c.login(tok)
	async := func(id, sql string) reply {
		return c.post("/queries/v1/query-request?requestId="+id, map[string]any{"sqlText": sql, "asyncExec": true})
	}
	msg := func(r reply) string {
		if r.Message == nil {
			return ""
		}
		return *r.Message
	}
	queryID := func(r reply) string {
		var d struct{ QueryID string }
		_ = json.Unmarshal(r.Data, &d)
		return d.QueryID
	}
	var failing []string
	for i := range 10 {
		r := async(fmt.Sprintf("bad-%d", i), "SELECT * FROM no_such_table")
		if queryID(r) == "" {
			t.Fatalf("async failing statement %d not accepted: %s", i, msg(r))
		}
		failing = append(failing, queryID(r))
	}
	for _, id := range failing { // failed, as monitoring tells, without fetching them
		for {
			r := c.do("GET", "/monitoring/queries/"+id, "", nil, nil)
			var d struct{ Queries []struct{ Status string } }
			_ = json.Unmarshal(r.Data, &d)
			if len(d.Queries) == 1 && d.Queries[0].Status == "FAILED_WITH_ERROR" {
				break
			}
			if len(d.Queries) != 1 || d.Queries[0].Status != "RUNNING" {
				t.Fatalf("monitoring %s: %s %+v", id, msg(r), d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var first string
	for i := range 64 {
		r := async(fmt.Sprintf("a-%d", i), "SELECT 1")
		if queryID(r) == "" {
			t.Fatalf("async statement %d refused: %s", i, msg(r))
		}
		if i == 0 {
			first = queryID(r)
		}
	}
	over := async("a-64", "SELECT 1")
	wantError(t, "65th pending async statement", over, proxy.CodeTooManyPending)
	if !strings.Contains(msg(over), "fetch their results") {
		t.Errorf("refusal %q does not say what to do", msg(over))
	}
	if r := async("a-3", "SELECT 1"); queryID(r) == "" {
		t.Errorf("a retried request id was refused: %s", msg(r))
	}
	if r := c.post("/queries/v1/query-request?requestId=sync", map[string]any{"sqlText": "SELECT 1"}); !r.Success {
		t.Errorf("a synchronous statement at the bound: %s", msg(r))
	}
	other := &rawClient{t: t, base: c.base}
	other.login(tok)
	if r := other.post("/queries/v1/query-request?requestId=o", map[string]any{"sqlText": "SELECT 1", "asyncExec": true}); queryID(r) == "" {
		t.Errorf("another session's async statement was refused: %s", msg(r))
	}

	// Fetching one result makes room for one more.
	for {
		r := c.do("GET", "/queries/"+first+"/result", "", nil, nil)
		if r.Success && (r.Code == nil || *r.Code != proxy.CodeQueryInProgress && *r.Code != proxy.CodeAsyncInProgress) {
			break
		}
		if !r.Success {
			t.Fatalf("fetching %s: %s", first, msg(r))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := async("a-65", "SELECT 1"); queryID(r) == "" {
		t.Errorf("after a fetch, an async statement was still refused: %s", msg(r))
	}
	wantError(t, "66th pending async statement", async("a-66", "SELECT 1"), proxy.CodeTooManyPending)
}
