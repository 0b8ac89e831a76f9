package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// The REST API tests drive the gateway with the real snowflake.core (Root)
// over a session of the real Python connector, from the environment of
// Snowflake's MCP server: SNOWGATE_MCP_PYTHON (make test sets it).

const denyCatalog = "testdata/deny-catalog"

// coreStep is one call of snowflake_core.py.
type coreStep struct {
	Name string         `json:"name"`
	Op   string         `json:"op"`
	Args []any          `json:"args,omitempty"`
	Kw   map[string]any `json:"kw,omitempty"`
}

// coreResult is what a call returned, or the error snowflake.core raised.
type coreResult struct {
	Name      string          `json:"name"`
	OK        bool            `json:"ok"`
	Value     json.RawMessage `json:"value"`
	Error     string          `json:"error"` // the exception's class
	Status    int             `json:"status"`
	ErrorCode string          `json:"error_code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
}

// runCore runs snowflake_core.py as a demo identity through the steps and
// returns each step's result by name.
func runCore(t *testing.T, st *devstack.Stack, as string, steps ...coreStep) map[string]coreResult {
	t.Helper()
	py := os.Getenv("SNOWGATE_MCP_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_MCP_PYTHON is not set: run the tests with `make test`, which installs snowflake.core with Snowflake's MCP server into .cache/mcp (make deps)")
	}
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(steps)
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	script, _ := filepath.Abs("testdata/clients/snowflake_core.py")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, string(b))
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true",
		"SNOWGATE_HOST="+host, "SNOWGATE_PORT="+port, "SNOWGATE_TOKEN="+tok)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	got := map[string]coreResult{}
	for _, line := range strings.Split(string(out), "\n") {
		var r coreResult
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &r) == nil {
			got[r.Name] = r
		}
	}
	if _, ok := got["connect"]; !ok || err != nil || len(got) != len(steps)+1 {
		t.Fatalf("snowflake_core.py as %s: %v\nstdout:\n%s\nstderr:\n%s", as, err, out, stderr.String())
	}
	return got
}

// value decodes a successful step's value.
func (r coreResult) value(t *testing.T, v any) {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: %s %d %s: %s", r.Name, r.Error, r.Status, r.ErrorCode, r.Message)
	}
	if err := json.Unmarshal(r.Value, v); err != nil {
		t.Fatalf("%s: %s: %v", r.Name, r.Value, err)
	}
}

// failed checks that a step failed with an HTTP status and error code,
// and a message holding want.
func (r coreResult) failed(t *testing.T, status int, code, want string) {
	t.Helper()
	if r.OK || r.Status != status || r.ErrorCode != code || !strings.Contains(r.Message, want) {
		t.Errorf("%s: ok %v, %s %d %s: %q%s; want HTTP %d, error_code %s, a message with %q", r.Name, r.OK, r.Error, r.Status, r.ErrorCode, r.Message, r.Value, status, code, want)
	}
}

type coreColumn struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Nullable *bool  `json:"nullable"`
}

type coreTable struct {
	Name         string       `json:"name"`
	Kind         string       `json:"kind"`
	DatabaseName string       `json:"database_name"`
	SchemaName   string       `json:"schema_name"`
	Rows         *int64       `json:"rows"`
	TableType    string       `json:"table_type"`
	CreatedOn    string       `json:"created_on"`
	Columns      []coreColumn `json:"columns"`
	Constraints  []struct {
		Type    string   `json:"constraint_type"`
		Columns []string `json:"column_names"`
	} `json:"constraints"`
	Query string `json:"query"` // views
}

func (tb coreTable) column(name string) *coreColumn {
	for i := range tb.Columns {
		if tb.Columns[i].Name == name {
			return &tb.Columns[i]
		}
	}
	return nil
}

func tableNames(tbs []coreTable) []string {
	var out []string
	for _, tb := range tbs {
		out = append(out, tb.Name)
	}
	return out
}

// statementsOf is what the audit trail recorded of a subject's statements:
// SQL → action, and the request each ran for.
func statementsOf(t *testing.T, st *devstack.Stack, subject string) (actions map[string]string, requests map[string]string) {
	t.Helper()
	actions, requests = map[string]string{}, map[string]string{}
	err := st.Audit.Store().Scan(context.Background(), audit.Filter{Types: []string{audit.TypeStatement}}, func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		if e.Identity != nil && e.Identity.Subject == subject && e.Statement != nil && e.Decision != nil {
			actions[e.Statement.SQL] = e.Decision.Action
			requests[e.Statement.SQL] = e.RequestID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return actions, requests
}

// TestRESTAPI_snowflakeCore drives the REST API's reads with
// snowflake.core: a table fetched with its columns, lists with their
// filters, views, databases and schemas, a 404 for what does not exist,
// writes refused and not done, and every read recorded in the audit trail
// as the caller's SHOW and DESCRIBE statements.
func TestRESTAPI_snowflakeCore(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	got := runCore(t, st, "analyst",
		coreStep{Name: "view", Op: "sql", Args: []any{"CREATE VIEW DEMO.PUBLIC.BIG_ORDERS AS SELECT id, amount FROM orders WHERE amount > 100"}},
		coreStep{Name: "table", Op: "fetch_table", Args: []any{"DEMO", "PUBLIC", "CUSTOMERS"}},
		coreStep{Name: "unquoted", Op: "fetch_table", Args: []any{"demo", "public", "customers"}},
		coreStep{Name: "missing", Op: "fetch_table", Args: []any{"DEMO", "PUBLIC", "NOPE"}},
		coreStep{Name: "wildcard", Op: "fetch_table", Args: []any{"DEMO", "PUBLIC", "ORD_RS"}}, // LIKE 'ORD_RS' would match ORDERS
		coreStep{Name: "missing schema", Op: "fetch_table", Args: []any{"DEMO", "NOPE", "CUSTOMERS"}},
		coreStep{Name: "tables", Op: "list_tables", Args: []any{"DEMO", "PUBLIC"}},
		coreStep{Name: "tables like", Op: "list_tables", Args: []any{"DEMO", "PUBLIC"}, Kw: map[string]any{"like": "ord%"}},
		coreStep{Name: "tables deep", Op: "list_tables", Args: []any{"DEMO", "PUBLIC"}, Kw: map[string]any{"starts_with": "CUST", "deep": true}},
		coreStep{Name: "tables limit", Op: "list_tables", Args: []any{"DEMO", "PUBLIC"}, Kw: map[string]any{"limit": 1, "from_name": "EVENTS"}},
		coreStep{Name: "view fetched", Op: "fetch_view", Args: []any{"DEMO", "PUBLIC", "BIG_ORDERS"}},
		coreStep{Name: "views", Op: "list_views", Args: []any{"DEMO", "PUBLIC"}},
		coreStep{Name: "database", Op: "fetch_database", Args: []any{"DEMO"}},
		coreStep{Name: "missing database", Op: "fetch_database", Args: []any{"NODB"}},
		coreStep{Name: "databases", Op: "list_databases"},
		coreStep{Name: "schema", Op: "fetch_schema", Args: []any{"DEMO", "PUBLIC"}},
		coreStep{Name: "schemas", Op: "list_schemas", Args: []any{"DEMO"}},
		coreStep{Name: "create", Op: "create_table", Args: []any{"DEMO", "PUBLIC", "MADE_BY_REST"}},
		coreStep{Name: "drop", Op: "drop_table", Args: []any{"DEMO", "PUBLIC", "ORDERS"}},
		coreStep{Name: "after writes", Op: "sql", Args: []any{"SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM information_schema.tables WHERE table_name = 'MADE_BY_REST')"}},
	)

	t.Run("fetch a table", func(t *testing.T) {
		for _, step := range []string{"table", "unquoted"} {
			var tb coreTable
			got[step].value(t, &tb)
			if tb.Name != "CUSTOMERS" || tb.DatabaseName != "DEMO" || tb.SchemaName != "PUBLIC" || tb.Kind != "PERMANENT" || tb.TableType != "NORMAL" || tb.CreatedOn == "" {
				t.Errorf("%s: %+v", step, tb)
			}
			for _, c := range []struct{ name, typ string }{{"ID", "NUMBER(38,0)"}, {"EMAIL", "VARCHAR(16777216)"}, {"SSN", "VARCHAR(16777216)"}, {"LIFETIME_VALUE", "NUMBER(12,2)"}} {
				if col := tb.column(c.name); col == nil || col.Datatype != c.typ {
					t.Errorf("%s: column %s = %+v, want datatype %s (columns %+v)", step, c.name, col, c.typ, tb.Columns)
				}
			}
			if len(tb.Columns) != 10 {
				t.Errorf("%s: %d columns, want 10", step, len(tb.Columns))
			}
			if len(tb.Constraints) != 1 || tb.Constraints[0].Type != "PRIMARY KEY" || !slices.Equal(tb.Constraints[0].Columns, []string{"ID"}) {
				t.Errorf("%s: constraints %+v, want the primary key on ID", step, tb.Constraints)
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		got["missing"].failed(t, 404, "002003", "Table 'DEMO.PUBLIC.NOPE' does not exist or not authorized")
		got["wildcard"].failed(t, 404, "002003", "Table 'DEMO.PUBLIC.ORD_RS' does not exist")
		got["missing schema"].failed(t, 404, "002043", "does not exist")
		got["missing database"].failed(t, 404, "002043", "Database 'NODB' does not exist")
		if r := got["missing"]; r.Error != "NotFoundError" || r.RequestID == "" {
			t.Errorf("missing: raised %s with request id %q, want NotFoundError with one", r.Error, r.RequestID)
		}
	})
	t.Run("list tables", func(t *testing.T) {
		var all, like, deep, limited []coreTable
		got["tables"].value(t, &all)
		got["tables like"].value(t, &like)
		got["tables deep"].value(t, &deep)
		got["tables limit"].value(t, &limited)
		if names := tableNames(all); !slices.Equal(names, []string{"CUSTOMERS", "EVENTS", "ORDERS"}) {
			t.Errorf("tables = %v, want CUSTOMERS, EVENTS, ORDERS (no view)", names)
		}
		for _, tb := range all {
			if tb.Columns != nil || tb.Rows == nil {
				t.Errorf("table %s of a list that is not deep: columns %v, rows %v; want no columns, rows", tb.Name, tb.Columns, tb.Rows)
			}
		}
		if names := tableNames(like); !slices.Equal(names, []string{"ORDERS"}) {
			t.Errorf("tables like ord%% = %v, want ORDERS", names)
		}
		if len(deep) != 1 || deep[0].Name != "CUSTOMERS" || deep[0].column("SSN") == nil {
			t.Errorf("deep tables starting with CUST = %+v, want CUSTOMERS with its columns", deep)
		}
		if names := tableNames(limited); !slices.Equal(names, []string{"ORDERS"}) {
			t.Errorf("one table after EVENTS = %v, want ORDERS", names)
		}
	})
	t.Run("views", func(t *testing.T) {
		var v coreTable
		var vs []coreTable
		got["view fetched"].value(t, &v)
		got["views"].value(t, &vs)
		if v.Name != "BIG_ORDERS" || !strings.Contains(strings.ToUpper(v.Query), "SELECT") || strings.Contains(strings.ToUpper(v.Query), "CREATE") ||
			v.column("ID") == nil || v.column("AMOUNT") == nil || len(v.Columns) != 2 {
			t.Errorf("view = %+v, want BIG_ORDERS, its query and columns ID, AMOUNT", v)
		}
		if names := tableNames(vs); !slices.Equal(names, []string{"BIG_ORDERS"}) {
			t.Errorf("views = %v, want BIG_ORDERS", names)
		}
	})
	t.Run("databases and schemas", func(t *testing.T) {
		var db, sc map[string]any
		var dbs, scs []string
		got["database"].value(t, &db)
		got["schema"].value(t, &sc)
		got["databases"].value(t, &dbs)
		got["schemas"].value(t, &scs)
		if db["name"] != "DEMO" || db["kind"] != "PERMANENT" || db["is_current"] != true {
			t.Errorf("database = %v", db)
		}
		if sc["name"] != "PUBLIC" || sc["database_name"] != "DEMO" {
			t.Errorf("schema = %v", sc)
		}
		if !slices.Contains(dbs, "DEMO") || !slices.Contains(scs, "PUBLIC") || !slices.Contains(scs, "INFORMATION_SCHEMA") {
			t.Errorf("databases %v, schemas of DEMO %v", dbs, scs)
		}
	})
	t.Run("writes refused", func(t *testing.T) {
		got["create"].failed(t, 405, proxy.CodeUnsupported, "snowgate refuses POST /api/v2/databases/DEMO/schemas/PUBLIC/tables")
		got["drop"].failed(t, 405, proxy.CodeUnsupported, "serves only reads (GET)")
		var counts [][]float64
		got["after writes"].value(t, &counts)
		if len(counts) != 1 || counts[0][0] != 1000 || counts[0][1] != 0 {
			t.Errorf("orders and MADE_BY_REST after the writes: %v, want 1000 orders and no new table", counts)
		}
	})
	t.Run("audit trail", func(t *testing.T) {
		actions, requests := statementsOf(t, st, "u-1001")
		for _, sql := range []string{
			`SHOW TABLES LIKE 'CUSTOMERS' IN SCHEMA "DEMO"."PUBLIC"`,
			`DESCRIBE TABLE "DEMO"."PUBLIC"."CUSTOMERS"`,
			`SHOW TABLES LIKE 'ORD\\_RS' IN SCHEMA "DEMO"."PUBLIC"`,
			`SHOW TABLES LIKE 'ord%' IN SCHEMA "DEMO"."PUBLIC"`,
			`SHOW VIEWS LIKE 'BIG\\_ORDERS' IN SCHEMA "DEMO"."PUBLIC"`,
			`DESCRIBE VIEW "DEMO"."PUBLIC"."BIG_ORDERS"`,
			`SHOW TABLES IN SCHEMA "DEMO"."PUBLIC" LIMIT 1 FROM 'EVENTS'`,
			`SHOW DATABASES LIKE 'DEMO'`,
			`SHOW SCHEMAS IN DATABASE "DEMO"`,
		} {
			if actions[sql] != "allow" {
				t.Errorf("%s: %q in the trail, want allow (statements: %v)", sql, actions[sql], actions)
			}
		}
		if id := got["missing"].RequestID; requests[`SHOW TABLES LIKE 'NOPE' IN SCHEMA "DEMO"."PUBLIC"`] != id {
			t.Errorf("the 404's request id %s is not the request of its SHOW in the trail (%v)", id, requests)
		}
	})
}

// TestRESTAPI_denied: a read whose statements the policy refuses is
// refused, with the policy's 003001 message, as snowflake.core raises it
// (ForbiddenError); an identity the policy lets read gets the answer.
func TestRESTAPI_denied(t *testing.T) {
	st := startStack(t, denyCatalog, proxy.Config{})
	steps := []coreStep{
		{Name: "table", Op: "fetch_table", Args: []any{"DEMO", "PUBLIC", "CUSTOMERS"}},
		{Name: "databases", Op: "list_databases"},
	}
	analyst := runCore(t, st, "analyst", steps...)
	for _, step := range []string{"table", "databases"} {
		r := analyst[step]
		r.failed(t, 403, proxy.CodeAccessDenied, "snowgate: statement denied: catalog reads are for platform admins (decision ")
		if r.Error != "ForbiddenError" {
			t.Errorf("%s: raised %s, want ForbiddenError", step, r.Error)
		}
	}
	if m := analyst["table"].Message; !strings.Contains(m, `[statement: SHOW TABLES LIKE 'CUSTOMERS' IN SCHEMA "DEMO"."PUBLIC"]`) {
		t.Errorf("denial %q does not name its statement", m)
	}
	actions, _ := statementsOf(t, st, "u-1001")
	if a := actions[`SHOW TABLES LIKE 'CUSTOMERS' IN SCHEMA "DEMO"."PUBLIC"`]; a != "deny" {
		t.Errorf("the denied SHOW in the trail: %q, want deny", a)
	}
	if _, ran := actions[`DESCRIBE TABLE "DEMO"."PUBLIC"."CUSTOMERS"`]; ran {
		t.Error("the DESCRIBE after a denied SHOW was decided: the request went on")
	}

	admin := runCore(t, st, "admin", steps...)
	var tb coreTable
	admin["table"].value(t, &tb)
	if tb.Name != "CUSTOMERS" || tb.column("EMAIL") == nil {
		t.Errorf("table as admin = %+v", tb)
	}
}

// TestRESTAPI_refused checks the answers to what the REST API does not
// serve, over plain HTTP: writes, actions, other resources, no session;
// and that names in the path are only ever names.
func TestRESTAPI_refused(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	c := &rawClient{t: t, base: "http://" + st.GatewayAddr}
	tok, _ := st.Issuer.Token("analyst")
	c.login(tok)
	call := func(method, path, token string) (int, []byte, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, c.base+path, strings.NewReader(`{"name": "X"}`))
		if token != "" {
			req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, resp.Header
	}
	const table = "/api/v2/databases/DEMO/schemas/PUBLIC/tables/CUSTOMERS"
	for _, c2 := range []struct {
		method, path, token string
		status              int
		code, message       string
	}{
		{"POST", "/api/v2/databases/DEMO/schemas/PUBLIC/tables", c.token, 405, proxy.CodeUnsupported, "snowgate refuses POST"},
		{"PUT", table, c.token, 405, proxy.CodeUnsupported, "serves only reads (GET) of databases, schemas, tables and views"},
		{"DELETE", table, c.token, 405, proxy.CodeUnsupported, "snowgate refuses DELETE"},
		{"POST", table + ":clone", c.token, 501, proxy.CodeNotFound, "snowgate does not serve POST"},
		{"GET", "/api/v2/databases/DEMO:get-tags", c.token, 501, proxy.CodeNotFound, "serves only reads"},
		{"GET", "/api/v2/warehouses", c.token, 501, proxy.CodeNotFound, "snowgate does not serve GET /api/v2/warehouses"},
		{"GET", table, "", 401, proxy.CodeSessionInvalid, "no session token"},
		{"GET", table, "forged", 401, proxy.CodeSessionInvalid, "not recognised"},
		{"GET", "/api/v2/databases/DEMO/schemas/PUBLIC/tables/1X", c.token, 400, proxy.CodeBadRequest, "is not an identifier"},
		{"GET", "/api/v2/databases?showLimit=0", c.token, 400, proxy.CodeBadRequest, "showLimit"},
		// A name that would end the statement is a name that does not exist.
		{"GET", "/api/v2/databases/DEMO/schemas/PUBLIC/tables/%22x%22%22%3B%20DROP%20TABLE%20orders%3B%20--%22", c.token, 404, "002003", `Table 'DEMO.PUBLIC."x""; DROP TABLE orders; --"' does not exist`},
	} {
		status, raw, hdr := call(c2.method, c2.path, c2.token)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		msg, _ := body["message"].(string)
		if status != c2.status || body["error_code"] != c2.code || body["code"] != c2.code || !strings.Contains(msg, c2.message) || body["request_id"] == "" {
			t.Errorf("%s %s: HTTP %d %v; want HTTP %d, code %s, a message with %q", c2.method, c2.path, status, body, c2.status, c2.code, c2.message)
		}
		if status == 405 && hdr.Get("Allow") != "GET" {
			t.Errorf("%s %s: Allow %q, want GET", c2.method, c2.path, hdr.Get("Allow"))
		}
	}
	// snowflake.core leaves % unescaped in query strings.
	status, raw, _ := call("GET", "/api/v2/databases/DEMO/schemas/PUBLIC/tables?like=%ORD%&history=false", c.token)
	var tables []coreTable
	if err := json.Unmarshal(raw, &tables); status != 200 || err != nil || !slices.Equal(tableNames(tables), []string{"ORDERS"}) {
		t.Errorf("tables like %%ORD%% as snowflake.core sends it: HTTP %d %s", status, raw)
	}
	r := c.post("/queries/v1/query-request?requestId=count", map[string]any{"sqlText": "SELECT count(*) FROM orders"})
	var d struct{ Rowset [][]string }
	_ = json.Unmarshal(r.Data, &d)
	if len(d.Rowset) != 1 || d.Rowset[0][0] != "1000" {
		t.Errorf("orders after the REST requests: %v", d.Rowset)
	}
}
