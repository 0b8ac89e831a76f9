package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/mcp"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestFrontDoor drives the front door with the Python MCP SDK over stdio
// and streamable HTTP: rows, masking, a denial, an approval from ticket to
// run, explain_decision, the catalog tools, and the audit trail's record
// of the MCP client.
func TestFrontDoor(t *testing.T) {
	t.Run("stdio", func(t *testing.T) {
		st := startStack(t)
		scenario(t, st, startHost(t), stdioDoor(t, st))
	})
	t.Run("http", func(t *testing.T) {
		st := startStack(t)
		door, _ := httpDoor(t, st)
		scenario(t, st, startHost(t), door)
	})
}

func scenario(t *testing.T, st *devstack.Stack, h *host, door frontDoor) {
	for _, as := range []string{"agent", "admin", "analyst"} {
		door.open(t, h, as, as)
	}

	t.Run("rows", func(t *testing.T) {
		var q mcp.QueryResult
		r := h.call("agent", "run_query", map[string]any{"sql": "SELECT id, status FROM orders ORDER BY id LIMIT 3"})
		r.decode(t, &q)
		if r.IsError || q.Status != "ok" || len(q.Results) != 1 || len(q.Results[0].Rows) != 3 {
			t.Fatalf("got %s", r.Text)
		}
		if id := q.Results[0].Rows[0]["ID"]; id != "1" {
			t.Errorf("first ID %v, want 1", id)
		}
		r = h.call("agent", "run_query", map[string]any{"sql": "SELECT id FROM orders ORDER BY id", "max_rows": 5})
		r.decode(t, &q)
		if res := q.Results[0]; res.RowCount != 5 || !res.Truncated {
			t.Errorf("max_rows 5: %d rows, truncated %v", res.RowCount, res.Truncated)
		}
	})

	t.Run("masking", func(t *testing.T) {
		const sql = "SELECT id, name, email, ssn FROM DEMO.PUBLIC.CUSTOMERS ORDER BY id LIMIT 5"
		var agent, admin mcp.QueryResult
		h.call("agent", "run_query", map[string]any{"sql": sql}).decode(t, &agent)
		h.call("admin", "run_query", map[string]any{"sql": sql}).decode(t, &admin)
		if len(agent.Results) != 1 || len(admin.Results) != 1 || len(agent.Results[0].Rows) != 5 || len(admin.Results[0].Rows) != 5 {
			t.Fatalf("agent %+v, admin %+v", agent, admin)
		}
		for i, a := range agent.Results[0].Rows {
			c := admin.Results[0].Rows[i]
			if a["NAME"] != c["NAME"] {
				t.Errorf("row %d: NAME %v for the agent, %v for the admin: it is not masked", i, a["NAME"], c["NAME"])
			}
			email, clear := a["EMAIL"].(string), c["EMAIL"].(string)
			if !strings.HasPrefix(email, "****@") || email == clear || !strings.HasSuffix(clear, email[4:]) {
				t.Errorf("row %d: EMAIL %q for the agent, %q for the admin: want the domain only for the agent", i, email, clear)
			}
			ssn, clearSSN := a["SSN"], c["SSN"].(string)
			if ssn == clearSSN || len(clearSSN) != 11 || strings.Contains(clearSSN, "*") {
				t.Errorf("row %d: SSN %v for the agent, %q for the admin", i, ssn, clearSSN)
			}
		}
	})

	t.Run("denial", func(t *testing.T) {
		r := h.call("agent", "run_query", map[string]any{"sql": "GRANT ROLE SYSADMIN TO USER mallory"})
		if !r.IsError || !strings.HasPrefix(r.Text, proxy.CodeAccessDenied) || !strings.Contains(r.Text, "(decision ") {
			t.Errorf("GRANT: error %v, %q; want 003001 with the reasons and the decision id", r.IsError, r.Text)
		}
	})

	t.Run("explain", func(t *testing.T) {
		var ex mcp.Explanation
		h.call("agent", "explain_decision", map[string]any{"sql": "SELECT email FROM customers; GRANT ROLE SYSADMIN TO USER mallory; DELETE FROM orders"}).decode(t, &ex)
		if len(ex.Statements) != 3 {
			t.Fatalf("%d statements explained, want 3", len(ex.Statements))
		}
		if d := ex.Statements[0]; d.Action != "mask" || d.Masks["DEMO.PUBLIC.CUSTOMERS.EMAIL"] != "email_domain" || d.DecisionID == "" {
			t.Errorf("SELECT email: %+v", d)
		}
		if d := ex.Statements[1]; d.Action != "deny" || len(d.Reasons) == 0 {
			t.Errorf("GRANT: %+v", d)
		}
		if d := ex.Statements[2]; d.Action != "require_approval" || d.Approval == nil || d.Request != nil {
			t.Errorf("DELETE: %+v (explain opens no request)", d)
		}
		if rs, _ := st.Approvals.List(context.Background(), approval.Pending); len(rs) != 0 {
			t.Errorf("explain_decision opened %d approval requests", len(rs))
		}
	})

	t.Run("catalog", func(t *testing.T) {
		var l mcp.ListResult
		h.call("agent", "list_databases", nil).decode(t, &l)
		if !slices.Contains(l.Names, "DEMO") {
			t.Errorf("list_databases: %v in %v", l.Names, l.Rows)
		}
		h.call("agent", "list_schemas", map[string]any{"database": "DEMO"}).decode(t, &l)
		if !slices.Contains(l.Names, "PUBLIC") {
			t.Errorf("list_schemas: %v", l.Names)
		}
		h.call("agent", "list_tables", map[string]any{"database": "DEMO", "schema": "PUBLIC"}).decode(t, &l)
		if !slices.Contains(l.Names, "CUSTOMERS") || !slices.Contains(l.Names, "ORDERS") {
			t.Errorf("list_tables: %v", l.Names)
		}
		var d mcp.StatementResult
		h.call("agent", "describe_table", map[string]any{"table": "DEMO.PUBLIC.CUSTOMERS"}).decode(t, &d)
		var cols []any
		for _, row := range d.Rows {
			cols = append(cols, row["name"])
		}
		if !slices.Contains(cols, any("EMAIL")) {
			t.Errorf("describe_table: columns %v", cols)
		}
		if r := h.call("agent", "describe_table", map[string]any{"table": "customers; DROP TABLE orders"}); !r.IsError {
			t.Errorf("describe_table took a name with a statement in it: %s", r.Text)
		}
	})

	// An approval, for the analyst: on a gateway that holds statements
	// (the agent's would get a ticket from the policy anyway), the tool
	// still answers at once.
	t.Run("approval", func(t *testing.T) {
		const sql = "DELETE FROM orders"
		var q mcp.QueryResult
		start := time.Now()
		r := h.call("analyst", "run_query", map[string]any{"sql": sql})
		r.decode(t, &q)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("run_query took %s to answer with a ticket", took)
		}
		if r.IsError || q.Status != "approval_required" || len(q.Approvals) != 1 || q.Approvals[0].Request == nil {
			t.Fatalf("DELETE: %s", r.Text)
		}
		req := q.Approvals[0].Request
		if !strings.HasPrefix(req.ID, "apr-") || req.State != "pending" || !strings.HasSuffix(req.Page, "#"+req.ID) {
			t.Errorf("request %+v", req)
		}
		if !strings.Contains(q.Message, req.ID) || !strings.Contains(q.Message, req.Page) {
			t.Errorf("message %q names neither the request nor its page", q.Message)
		}

		// request_approval returns the same request; waiting briefly finds it pending.
		var ex mcp.Explanation
		h.call("analyst", "request_approval", map[string]any{"sql": sql}).decode(t, &ex)
		if len(ex.Statements) != 1 || ex.Statements[0].Request == nil || ex.Statements[0].Request.ID != req.ID {
			t.Errorf("request_approval: %+v, want request %s", ex.Statements, req.ID)
		}
		var w mcp.WaitResult
		h.call("analyst", "wait_for_approval", map[string]any{"request_id": req.ID, "timeout_seconds": 1}).decode(t, &w)
		if w.Status != "pending" || w.Result != nil {
			t.Errorf("wait before approval: %+v", w)
		}

		// An approver approves while the host waits.
		go func() {
			time.Sleep(1500 * time.Millisecond)
			u := devidp.Users["approver"]
			if _, err := st.Approvals.Vote(context.Background(), req.ID, approval.Person{Subject: u.Subject, Email: u.Email, Name: u.FullName},
				u.Groups, true, "cleanup"); err != nil {
				t.Errorf("approve: %v", err)
			}
		}()
		r = h.call("analyst", "wait_for_approval", map[string]any{"request_id": req.ID, "timeout_seconds": 30})
		r.decode(t, &w)
		if r.IsError || w.Status != "ran" || w.Result == nil || len(w.Result.Results) != 1 {
			t.Fatalf("wait_for_approval: %s", r.Text)
		}
		if n := w.Result.Results[0].Rows[0]["number of rows deleted"]; n != "1000" {
			t.Errorf("rows deleted: %v, want 1000", n)
		}
		got, err := st.Approvals.Get(context.Background(), req.ID)
		if err != nil || got.State != approval.Used {
			t.Errorf("the approval is %v (%v), want used", got.State, err)
		}
		// Used once: waiting again does not run it again.
		var again mcp.WaitResult
		h.call("analyst", "wait_for_approval", map[string]any{"request_id": req.ID, "timeout_seconds": 1}).decode(t, &again)
		if again.Status != "used" || again.Result != nil {
			t.Errorf("second wait: %+v", again)
		}
	})

	t.Run("audit", func(t *testing.T) {
		var starts, explained, others, agents int
		err := st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(rec audit.Record) error {
			env, err := rec.Decode()
			if err != nil {
				return err
			}
			e := env.Event
			switch {
			case e.Type == audit.TypeSessionStart && e.Client != nil && e.Client.App == mcp.ClientApp:
				starts++
				if e.Identity == nil || e.Identity.Subject == "" {
					t.Errorf("session start of %s without the caller: %+v", mcp.ClientApp, e)
				} else if e.Identity.Agent == "sql-agent" {
					agents++
				}
			case e.Type == audit.TypeStatement && e.Reason == proxy.ExplainReason:
				explained++
			}
			if e.Type == audit.TypeSessionStart && e.Client != nil && e.Client.App != mcp.ClientApp {
				others++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if starts < 3 {
			t.Errorf("%d session starts recorded for %s, want one per caller (3)", starts, mcp.ClientApp)
		}
		if agents == 0 {
			t.Errorf("no %s session of the agent sql-agent acting for its human", mcp.ClientApp)
		}
		if others != 0 {
			t.Errorf("%d sessions recorded for another client", others)
		}
		if explained == 0 {
			t.Error("no explained statement in the audit trail")
		}
	})
}

// TestFrontDoor_httpAuth checks the front door as an OAuth protected
// resource: no token or a bad one is 401 with the resource metadata's
// address, and the metadata names the issuer.
func TestFrontDoor_httpAuth(t *testing.T) {
	st := startStack(t)
	door, base := httpDoor(t, st)
	for name, header := range map[string]string{"no token": "", "bad token": "Bearer not-a-jwt", "other scheme": "Basic YTpi"} {
		req, _ := http.NewRequest(http.MethodPost, base+mcp.EndpointPath, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := `Bearer resource_metadata="` + base + mcp.MetadataPath + `"`
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
			t.Errorf("%s: %s, WWW-Authenticate %q; want 401 with %q", name, resp.Status, resp.Header.Get("WWW-Authenticate"), want)
		}
	}
	for _, path := range []string{mcp.MetadataPath, mcp.MetadataPath + mcp.EndpointPath} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var meta struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
		}
		if err := json.Unmarshal(b, &meta); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s %s", path, resp.Status, b)
		}
		if meta.Resource != base+mcp.EndpointPath || !slices.Equal(meta.AuthorizationServers, []string{"http://" + st.AdminAddr}) {
			t.Errorf("%s: %s", path, b)
		}
	}

	// The Python host without a token is refused; with one it gets in.
	h := startHost(t)
	var out map[string]any
	h.do(map[string]any{"op": "connect", "session": "anon", "transport": "http", "url": base + mcp.EndpointPath}, &out)
	if e, _ := out["error"].(string); !strings.Contains(e, "401") {
		t.Errorf("connect without a token: %v", out)
	}
	door.open(t, h, "agent", "agent")
	if r := h.call("agent", "run_query", map[string]any{"sql": "SELECT 1 AS one"}); r.IsError {
		t.Errorf("SELECT 1: %s", r.Text)
	}
}

// TestFrontDoor_reconnects: when the gateway ends a caller's session (here
// idle), the next tool call logs in again instead of failing.
func TestFrontDoor_reconnects(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{Gateway: proxy.Config{IdleTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	door, _ := httpDoor(t, st)
	h := startHost(t)
	door.open(t, h, "agent", "agent")
	for i := range 2 {
		if i == 1 {
			time.Sleep(4 * time.Second) // the gateway's reaper ends the idle session
		}
		if r := h.call("agent", "run_query", map[string]any{"sql": "SELECT 1 AS one"}); r.IsError {
			t.Fatalf("call %d: %s", i+1, r.Text)
		}
	}
	starts, idle := 0, 0
	err = st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		switch e := env.Event; {
		case e.Type == audit.TypeSessionStart && e.Client != nil && e.Client.App == mcp.ClientApp:
			starts++
		case e.Type == audit.TypeSessionEnd && e.Reason == "idle timeout":
			idle++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if starts != 2 || idle != 1 {
		t.Errorf("%d sessions started, %d ended idle; want 2 and 1", starts, idle)
	}
}
