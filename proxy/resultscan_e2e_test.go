package proxy_test

import (
	"context"
	"database/sql"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// decisionRecorder keeps every statement's policy input and decision.
type decisionRecorder struct {
	*engine.Engine
	mu        sync.Mutex
	inputs    []engine.Input
	decisions []engine.Decision
}

func (r *decisionRecorder) Decide(ctx context.Context, in engine.Input) engine.Decision {
	d := r.Engine.Decide(ctx, in)
	r.mu.Lock()
	r.inputs, r.decisions = append(r.inputs, in), append(r.decisions, d)
	r.mu.Unlock()
	return d
}

func (r *decisionRecorder) last() (engine.Input, engine.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inputs[len(r.inputs)-1], r.decisions[len(r.decisions)-1]
}

// TestResultScan_gateway: an agent's RESULT_SCAN of its own earlier result
// reaches the policy with that result's lineage, so the policy masks it as
// it masked the original; other sessions' ids and unknown ids stay
// untraced. The DuckDB stand-in behind the dev stack cannot answer
// RESULT_SCAN and reports no upstream query ids, so the test checks the
// policy input and decision the gateway builds, and that the gateway then
// refuses to send an id the upstream would not know (the rewrite to the
// upstream's id is covered by TestResults_history).
func TestResultScan_gateway(t *testing.T) {
	rec := &decisionRecorder{}
	st, err := devstack.Start(context.Background(), devstack.Options{WrapDecider: func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	open := func(as string) *sql.Conn {
		tok, err := st.Issuer.Token(as)
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(st.GatewayAddr)
		p, _ := strconv.Atoi(port)
		db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
			Account: "snowgate", Host: host, Port: p, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: tok,
			Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 10 * time.Second,
		}))
		t.Cleanup(func() { db.Close() })
		c, err := db.Conn(context.Background()) // one gateway session
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	run := func(c *sql.Conn, q string) (string, error) {
		idc := make(chan string, 1)
		rows, err := c.QueryContext(sf.WithQueryIDChan(context.Background(), idc), q)
		if err != nil {
			return "", err
		}
		for rows.Next() {
		}
		rows.Close()
		return <-idc, nil
	}
	agent := open("agent")
	id, err := run(agent, `SELECT email, ssn FROM customers WHERE id <= 5`)
	if err != nil {
		t.Fatal(err)
	}
	orig, origDecision := rec.last()
	if origDecision.Action != engine.ActionMask || len(origDecision.Masks) == 0 {
		t.Fatalf("original: %s %v, want masks", origDecision.Action, origDecision.Masks)
	}
	if _, err := run(agent, `SELECT 1 AS one`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-2)))`,
		`SELECT email, ssn FROM TABLE(RESULT_SCAN('` + id + `'))`,
	} {
		_, err := run(agent, q)
		in, d := rec.last()
		if in.Statement.SQL != q {
			t.Fatalf("%s: last input is %q", q, in.Statement.SQL)
		}
		if in.Statement.Flags.UntracedSource {
			t.Errorf("%s: untraced_source", q)
		}
		if !reflect.DeepEqual(in.Statement.Outputs, orig.Statement.Outputs) {
			t.Errorf("%s: outputs %+v, want the original's %+v", q, in.Statement.Outputs, orig.Statement.Outputs)
		}
		if d.Action != origDecision.Action || !reflect.DeepEqual(d.Masks, origDecision.Masks) {
			t.Errorf("%s: decision %s %v, want the original's %s %v", q, d.Action, d.Masks, origDecision.Action, origDecision.Masks)
		}
		if err == nil || !strings.Contains(err.Error(), "did not report its own id") {
			t.Errorf("%s: err %v, want the gateway to refuse the unknown upstream id", q, err)
		}
	}
	// another session's result, and an id nobody ran, stay untraced
	other := open("agent")
	for _, q := range []string{
		`SELECT * FROM TABLE(RESULT_SCAN('` + id + `'))`,
		`SELECT * FROM TABLE(RESULT_SCAN('01b2c3d4-0000-0000-0000-000000000000'))`,
	} {
		_, err := run(other, q)
		in, d := rec.last()
		if !in.Statement.Flags.UntracedSource || d.Action != engine.ActionDeny || err == nil {
			t.Errorf("%s: untraced_source=%v action=%s err=%v, want untraced and denied", q, in.Statement.Flags.UntracedSource, d.Action, err)
		}
	}
}
