package clients_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/audit"
)

// mcpHost is Snowflake's MCP server (snowflake-labs-mcp) hosted over stdio
// by the mcp SDK, connected to the gateway as one demo identity.
type mcpHost struct {
	t      *testing.T
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
	tools  []string
}

// mcpResult is a tool call's result as the MCP host got it.
type mcpResult struct {
	IsError bool    `json:"is_error"`
	Text    string  `json:"text"`
	Seconds float64 `json:"seconds"`
}

// startMCP starts the MCP server for a demo identity. It takes its
// connection the one way that carries an OAuth token, a port and a
// protocol: a named connection in $SNOWFLAKE_HOME/connections.toml.
func startMCP(t *testing.T, s *stack, as string) *mcpHost {
	t.Helper()
	py := clientPath(t, "SNOWGATE_MCP_PYTHON", "snowflake-labs-mcp and the mcp SDK")
	env := clientEnv(t)
	home := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SNOWFLAKE_HOME="); ok {
			home = v
		}
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	conn := fmt.Sprintf(`[snowgate]
account = "snowgate"
host = %q
port = %s
protocol = "http"
authenticator = "oauth"
token = %q
database = "DEMO"
schema = "PUBLIC"
`, s.host, s.port, s.token(as))
	if err := os.WriteFile(filepath.Join(home, "connections.toml"), []byte(conn), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, testdata(t, "mcp_host.py"), testdata(t, "mcp_tools.yaml"), "snowgate")
	cmd.Env = env
	h := &mcpHost{t: t, stderr: &bytes.Buffer{}}
	cmd.Stderr = h.stderr
	var err error
	if h.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cancel()
			<-done
		}
		cancel()
		if t.Failed() {
			t.Logf("MCP host (%s) stderr:\n%s", as, tail(h.stderr.String(), 6000))
		}
	})
	var hello struct {
		Tools []string `json:"tools"`
	}
	h.read(&hello, 90*time.Second)
	h.tools = hello.Tools
	return h
}

// read reads the host's next JSON line into v.
func (h *mcpHost) read(v any, within time.Duration) {
	h.t.Helper()
	type line struct {
		b   []byte
		err error
	}
	c := make(chan line, 1)
	go func() {
		b, err := h.out.ReadBytes('\n')
		c <- line{b, err}
	}()
	select {
	case l := <-c:
		if l.err != nil {
			h.t.Fatalf("MCP host ended: %v\nstderr:\n%s", l.err, tail(h.stderr.String(), 6000))
		}
		if err := json.Unmarshal(l.b, v); err != nil {
			h.t.Fatalf("MCP host said %q: %v", l.b, err)
		}
	case <-time.After(within):
		h.t.Fatalf("MCP host said nothing within %v\nstderr:\n%s", within, tail(h.stderr.String(), 6000))
	}
}

// call calls a tool and returns its result.
func (h *mcpHost) call(tool string, args map[string]any) mcpResult {
	h.t.Helper()
	b, _ := json.Marshal(map[string]any{"tool": tool, "args": args})
	if _, err := h.in.Write(append(b, '\n')); err != nil {
		h.t.Fatal(err)
	}
	var r mcpResult
	h.read(&r, 5*time.Minute)
	return r
}

// query runs a statement through the server's query tool.
func (h *mcpHost) query(sql string) mcpResult {
	h.t.Helper()
	return h.call("run_snowflake_query", map[string]any{"statement": sql})
}

// rows decodes a successful query tool result.
func (h *mcpHost) rows(sql string) []map[string]any {
	h.t.Helper()
	r := h.query(sql)
	if r.IsError {
		h.t.Fatalf("%s: tool error: %s", sql, r.Text)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.Text), &rows); err != nil {
		h.t.Fatalf("%s: result %q is not rows: %v", sql, r.Text, err)
	}
	return rows
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestMCPServer drives Snowflake's MCP server as an MCP host does, as the
// agent identity (an AI agent acting for the analyst) and as the admin:
// rows through the query tool, PII masked for the agent and clear for the
// admin, a denial whose reason reaches the tool result, a statement that
// needs approval answered at once with the request and the page (agents
// get tickets), run after approval, and the audit trail of the session.
func TestMCPServer(t *testing.T) {
	s := startStack(t)
	agent := startMCP(t, s, "agent")
	for _, want := range []string{"run_snowflake_query", "list_objects", "describe_object"} {
		if !slices.Contains(agent.tools, want) {
			t.Errorf("tools = %v, want %s among them", agent.tools, want)
		}
	}

	const customers = "SELECT id, name, email, ssn FROM customers ORDER BY id LIMIT 3"
	t.Run("rows", func(t *testing.T) {
		rows := agent.rows("SELECT count(*) AS n, min(id) AS first FROM orders")
		if len(rows) != 1 || fmt.Sprint(rows[0]["N"]) != "1000" || fmt.Sprint(rows[0]["FIRST"]) != "1" {
			t.Errorf("orders: %v, want N 1000, FIRST 1", rows)
		}
	})
	t.Run("masked for the agent", func(t *testing.T) {
		rows := agent.rows(customers)
		if len(rows) != 3 {
			t.Fatalf("customers: %d rows, want 3: %v", len(rows), rows)
		}
		if got := rows[0]; got["NAME"] != customer1Name || got["EMAIL"] != customer1MaskedEmail || got["SSN"] != maskedSSN {
			t.Errorf("first customer as the agent = %v, want NAME %q, EMAIL %q, SSN %q", got, customer1Name, customer1MaskedEmail, maskedSSN)
		}
	})
	t.Run("clear for the admin", func(t *testing.T) {
		admin := startMCP(t, s, "admin")
		rows := admin.rows(customers)
		if len(rows) != 3 {
			t.Fatalf("customers: %d rows, want 3: %v", len(rows), rows)
		}
		if got := rows[0]; got["EMAIL"] != customer1Email || got["SSN"] != customer1SSN {
			t.Errorf("first customer as the admin = %v, want EMAIL %q, SSN %q", got, customer1Email, customer1SSN)
		}
	})
	t.Run("denied", func(t *testing.T) {
		r := agent.query("GRANT ROLE SYSADMIN TO USER mallory")
		if !r.IsError {
			t.Fatalf("GRANT ran: %s", r.Text)
		}
		for _, want := range []string{"003001", "statement denied", "GRANT is not allowed through the gateway", "decision "} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("tool result %q lacks %q", r.Text, want)
			}
		}
	})
	t.Run("ticket, then approved", func(t *testing.T) {
		r := agent.query("DELETE FROM orders")
		if !r.IsError {
			t.Fatalf("DELETE FROM orders ran without approval: %s", r.Text)
		}
		if r.Seconds > 10 {
			t.Errorf("the tool answered after %.1fs; an agent's statement needing approval should be answered at once", r.Seconds)
		}
		req := s.awaitPending("DELETE FROM orders", 5*time.Second)
		for _, want := range []string{"003002", "request " + req.ID, s.page() + "#" + req.ID, "DELETE of every row of DEMO.PUBLIC.ORDERS"} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("tool result %q lacks %q", r.Text, want)
			}
		}
		if req.Requester.Agent != "sql-agent" || req.Requester.Subject != "u-1001" {
			t.Errorf("request %s: requester %+v, want agent sql-agent for u-1001", req.ID, req.Requester)
		}
		s.approve(req.ID, "cleanup before the reload")
		if again := agent.query("DELETE FROM orders"); again.IsError || !strings.Contains(again.Text, "1000") {
			t.Errorf("DELETE FROM orders after approval: error %v, %s; want 1000 rows deleted", again.IsError, again.Text)
		}
		if rows := agent.rows("SELECT count(*) AS n FROM orders"); fmt.Sprint(rows[0]["N"]) != "0" {
			t.Errorf("orders after the approved DELETE: %v", rows)
		}
	})
	t.Run("audit", func(t *testing.T) {
		var sessions []audit.Event
		for _, e := range s.events(audit.TypeSessionStart) {
			if e.Identity != nil && e.Identity.Agent == "sql-agent" {
				sessions = append(sessions, e)
			}
		}
		if len(sessions) != 1 {
			t.Fatalf("the agent's MCP server opened %d sessions, want 1: %+v", len(sessions), sessions)
		}
		sess := sessions[0]
		if sess.Identity.Subject != "u-1001" || sess.Client == nil || sess.Client.App != "PythonConnector" || sess.Client.Version == "" || sess.Client.Address == "" {
			t.Errorf("session start: identity %+v, client %+v; want u-1001 via sql-agent, the server's driver PythonConnector with its version and address", sess.Identity, sess.Client)
		}
		stmts := s.statementsOf(sess.SessionID)
		for _, want := range []string{
			customers + " → mask",
			"GRANT ROLE SYSADMIN TO USER mallory → deny",
			"DELETE FROM orders → require_approval",
		} {
			if !slices.Contains(stmts, want) {
				t.Errorf("the session's statements in the audit trail lack %q:\n%s", want, strings.Join(stmts, "\n"))
			}
		}
	})
}

// TestMCPServer_auditNamesTheServer: the audit trail tells a session of
// Snowflake's MCP server from any other Python program. The server says
// who it is only in the QUERY_TAG it logs in with
// ({"origin": "sf_sit", "name": "mcp_server", ...}); its driver is the
// plain Python connector.
func TestMCPServer_auditNamesTheServer(t *testing.T) {
	s := startStack(t)
	agent := startMCP(t, s, "agent")
	agent.rows("SELECT 1 AS one")
	starts := s.events(audit.TypeSessionStart)
	if len(starts) != 1 {
		t.Fatalf("%d sessions, want 1", len(starts))
	}
	b, _ := json.Marshal(starts[0])
	if !strings.Contains(string(b), "mcp_server") {
		t.Errorf("session start %s does not name the MCP server (its QUERY_TAG names it mcp_server)", b)
	}
}
