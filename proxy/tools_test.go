package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// What tools send on their own, through the gateway and the default
// library with gosnowflake: objects named by binds, CREATE OR REPLACE of
// new objects, the session's context, transactions, start-up probes.

func startRecorded(t *testing.T, mode string) (*devstack.Stack, *recorder) {
	t.Helper()
	rec := &recorder{}
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: mode,
		WrapDecider: func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, rec
}

func TestBoundIdentifiers_gateway(t *testing.T) {
	st, rec := startRecorded(t, "ticket")
	db := openDBAt(t, st, "analyst", "DEMO", "PUBLIC")

	// The object a bind names is the object the policy sees.
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM IDENTIFIER(?) WHERE amount > ?`, "DEMO.PUBLIC.ORDERS", 10).Scan(&n); err != nil {
		t.Fatal(err)
	}
	in, d := rec.last()
	if d.Action != engine.ActionAllow || len(in.Statement.Objects) != 1 || in.Statement.Objects[0].Name != "ORDERS" {
		t.Fatalf("policy saw %+v and decided %s %v", in.Statement.Objects, d.Action, d.Reasons)
	}
	if n == 0 {
		t.Fatal("no orders counted")
	}

	// Masks follow the bound table.
	var email string
	if err := db.QueryRow(`SELECT email FROM IDENTIFIER(?) ORDER BY id LIMIT 1`, "customers").Scan(&email); err != nil {
		t.Fatal(err)
	}
	if _, d := rec.last(); d.Action != engine.ActionMask || !strings.Contains(email, "*") {
		t.Fatalf("bound customers read as %s, email %q", d.Action, email)
	}

	// A write to a bound table is judged as the write it is.
	_, err := db.Exec(`DELETE FROM IDENTIFIER(?)`, "orders")
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3002 {
		t.Fatalf("DELETE FROM IDENTIFIER(?) of orders: %v, want the approval ticket 003002", err)
	}

	// A bind that is not a name stays unreadable, and is denied.
	_, err = db.Exec(`SELECT * FROM IDENTIFIER(?)`, 42)
	if !errors.As(err, &se) || se.Number != 3001 {
		t.Fatalf("IDENTIFIER of a number: %v, want a denial", err)
	}
}

func TestCreateOrReplace_newObjectIsACreate(t *testing.T) {
	st, rec := startRecorded(t, "ticket")
	db := openDBAt(t, st, "engineer", "SCRATCH", "PUBLIC")

	for _, q := range []string{
		`CREATE OR REPLACE VIEW v_new AS SELECT 1 AS x`,
		`create or replace transient table t_new as (select 2 as y)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		in, d := rec.last()
		if d.Action != engine.ActionAllow || in.Statement.Flags.CreateOrReplace || len(in.Statement.Effects) != 0 {
			t.Fatalf("%s: decided %s %v on flags %+v effects %+v", q, d.Action, d.Reasons, in.Statement.Flags, in.Statement.Effects)
		}
		// It ran as a plain CREATE: had the object appeared meanwhile,
		// the create would fail instead of replacing it.
		if strings.Contains(strings.ToUpper(in.Statement.SQL), "REPLACE") {
			t.Errorf("%s ran as %q", q, in.Statement.SQL)
		}
	}
	// Now they exist: the same statements replace, which needs approval.
	for _, q := range []string{`CREATE OR REPLACE VIEW v_new AS SELECT 1 AS x`, `create or replace transient table t_new as (select 2 as y)`} {
		_, err := db.Exec(q)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) || se.Number != 3002 {
			t.Fatalf("%s over an existing object: %v, want the approval ticket", q, err)
		}
	}
	// COPY GRANTS needs OR REPLACE, so the statement stays a replace.
	_, err := db.Exec(`CREATE OR REPLACE TABLE t_other COPY GRANTS AS SELECT 1 AS z`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3002 {
		t.Fatalf("COPY GRANTS: %v, want the approval ticket", err)
	}
}

func TestSessionContext_standin(t *testing.T) {
	st, _ := startRecorded(t, "ticket")
	db := openDBAt(t, st, "analyst", "DEMO", "PUBLIC")
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var user, role, database, schema, version, clientInfo string
	var wh sql.NullString
	err = conn.QueryRowContext(context.Background(), `SELECT CURRENT_USER(), CURRENT_ROLE(), CURRENT_DATABASE(), CURRENT_SCHEMA(),
		CURRENT_WAREHOUSE(), current_version(), SYSTEM$CLIENT_VERSION_INFO()`).Scan(&user, &role, &database, &schema, &wh, &version, &clientInfo)
	if err != nil {
		t.Fatal(err)
	}
	if user == "" || strings.EqualFold(user, "duckdb") || database != "DEMO" || schema != "PUBLIC" || role == "" || clientInfo != "[]" {
		t.Fatalf("context: user %q role %q database %q schema %q warehouse %v version %q client info %q", user, role, database, schema, wh, version, clientInfo)
	}
	if _, err := conn.ExecContext(context.Background(), `USE SCHEMA DEMO.INFORMATION_SCHEMA`); err == nil {
		if err := conn.QueryRowContext(context.Background(), `SELECT CURRENT_SCHEMA()`).Scan(&schema); err != nil || schema != "INFORMATION_SCHEMA" {
			t.Fatalf("after USE SCHEMA: %q %v", schema, err)
		}
	}

	// COMMIT and ROLLBACK with no transaction open do nothing, as on
	// Snowflake; inside one they end it.
	for _, q := range []string{`ROLLBACK`, `COMMIT`, `BEGIN`, `BEGIN TRANSACTION`, `ROLLBACK`, `ROLLBACK`, `START TRANSACTION`, `COMMIT WORK`} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// A tool that names itself in the QUERY_TAG it sets at login (Snowflake's
// MCP server does) is named so in the trail's session_start.
func TestAudit_sessionRecordsLoginQueryTag(t *testing.T) {
	st, _ := startRecorded(t, "ticket")
	tok, err := st.Issuer.Token("agent")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	p, _ := strconv.Atoi(port)
	tag := `{"origin": "sf_sit", "name": "mcp_server"}`
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: "snowgate", Host: host, Port: p, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: tok,
		Database: "DEMO", Schema: "PUBLIC", Params: map[string]*string{"QUERY_TAG": &tag},
	}))
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	found := false
	err = st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		if e := env.Event; e.Type == audit.TypeSessionStart && e.Client != nil && e.Client.QueryTag == tag {
			found = true
		}
		return nil
	})
	if err != nil || !found {
		t.Fatalf("no session_start with the login's query tag (%v)", err)
	}
}

// A QUERY_TAG sent with one statement (gosnowflake's WithQueryTag; the
// MCP front door names its tool so) is that statement's tag: the policy
// sees it and the trail records it.
func TestQueryTag_perStatement(t *testing.T) {
	st, rec := startRecorded(t, "ticket")
	db := openDBAt(t, st, "analyst", "DEMO", "PUBLIC")
	ctx := sf.WithQueryTag(context.Background(), "snowgate-mcp:run_query")
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if in, _ := rec.last(); in.Session.QueryTag != "snowgate-mcp:run_query" {
		t.Errorf("policy saw query tag %q", in.Session.QueryTag)
	}
	if err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if in, _ := rec.last(); in.Session.QueryTag != "" {
		t.Errorf("the next statement, sent without a tag, carried %q", in.Session.QueryTag)
	}
	tagged := 0
	err := st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(r audit.Record) error {
		env, err := r.Decode()
		if err != nil {
			return err
		}
		if s := env.Event.Statement; s != nil && s.QueryTag == "snowgate-mcp:run_query" {
			tagged++
		}
		return nil
	})
	if err != nil || tagged != 1 {
		t.Fatalf("%d statements recorded with the tag, want 1 (%v)", tagged, err)
	}
}

// A deny the policy did not give — its evaluation timed out, as under
// saturation — reaches the client as 003003 "the policy could not decide;
// try again", not as the policy's 003001, so that clients tell overload
// from refusal.
func TestPolicyUnavailable_isNotARefusal(t *testing.T) {
	slow, err := engine.New(context.Background(), engine.Options{Timeout: 20 * time.Millisecond,
		FS: fstest.MapFS{"p.rego": {Data: []byte("package snowgate\ndecision := {\"action\": \"allow\", \"n\": count([x | some x in numbers.range(1, 100000000)])}\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(context.Background(), devstack.Options{WrapDecider: func(e *engine.Engine) proxy.Decider { return slowDecisions{e, slow} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	_, err = openDBAt(t, st, "analyst", "DEMO", "PUBLIC").Exec(`SELECT 1`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3003 || !strings.Contains(se.Message, "policy evaluation timed out") || !strings.Contains(se.Message, "try again") {
		t.Fatalf("a timed-out decision reached the client as %v; want 003003 saying to try again", err)
	}
}

// slowDecisions logs in with the dev policy and decides statements with
// another engine.
type slowDecisions struct {
	*engine.Engine
	slow *engine.Engine
}

func (s slowDecisions) Decide(ctx context.Context, in engine.Input) engine.Decision {
	return s.slow.Decide(ctx, in)
}
