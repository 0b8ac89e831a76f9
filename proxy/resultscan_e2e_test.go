package proxy_test

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestResultScan_gateway: an agent's RESULT_SCAN of its own earlier result
// reaches the policy with that result's lineage, so the policy masks it as
// it masked the original, and the rows come back masked exactly as the
// original's did (the stand-in answers RESULT_SCAN by running the stored
// query again, under the upstream id the gateway sends in place of its
// own); other sessions' ids and unknown ids stay untraced and are denied.
func TestResultScan_gateway(t *testing.T) {
	rec := &recorder{}
	st, err := devstack.Start(context.Background(), devstack.Options{WrapDecider: func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	open := func(as string) *sql.Conn {
		db := openDBAt(t, st, as, "DEMO", "PUBLIC")
		c, err := db.Conn(context.Background()) // one gateway session
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var lastRows [][]sql.NullString
	run := func(c *sql.Conn, q string) (string, error) {
		idc := make(chan string, 1)
		rows, err := c.QueryContext(sf.WithQueryIDChan(context.Background(), idc), q)
		if err != nil {
			return "", err
		}
		lastRows, err = scanRows(rows)
		return <-idc, err
	}
	agent := open("agent")
	id, err := run(agent, `SELECT email, ssn FROM customers WHERE id <= 5 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	masked := lastRows
	if len(masked) != 5 || masked[0][1].String != "********" || !strings.HasPrefix(masked[0][0].String, "****@") {
		t.Fatalf("the original reads %v, want it masked", masked)
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
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if !reflect.DeepEqual(lastRows, masked) {
			t.Errorf("%s reads\n%v\nwant it masked as the original\n%v", q, lastRows, masked)
		}
	}
	// An expression over the stored result is masked as over the original.
	if _, err := run(agent, `SELECT UPPER(email) AS e FROM TABLE(RESULT_SCAN('`+id+`'))`); err != nil {
		t.Fatal(err)
	}
	for _, row := range lastRows {
		if row[0].String != "********" {
			t.Errorf("an expression over the stored email reads %q, want it redacted", row[0].String)
		}
	}
	// A cleared caller's stored result read back by the same caller is clear.
	admin := open("admin")
	aid, err := run(admin, `SELECT email, ssn FROM customers WHERE id <= 5 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	clear := lastRows
	if _, err := run(admin, `SELECT * FROM TABLE(RESULT_SCAN('`+aid+`'))`); err != nil || !reflect.DeepEqual(lastRows, clear) || reflect.DeepEqual(clear, masked) {
		t.Errorf("admin's stored result: %v %v, want %v", err, lastRows, clear)
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
