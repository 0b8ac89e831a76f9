package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/internal/regotest"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// defaultLibraryWith is a copy of the default library whose data.json
// setting off (as written there) is replaced by on.
func defaultLibraryWith(t testing.TB, off, on string) string {
	return regotest.With(t, "../rego", off, on)
}

// costPolicy is the default library with the cost guard turned on in its
// data.json: DEMO.PUBLIC.EVENTS (2,000 rows) may not be scanned whole, and
// an agent's read may scan 1,500 rows.
func costPolicy(t testing.TB) string {
	return defaultLibraryWith(t, `"cost": {"no_full_scan": [], "agent_max_scan_bytes": 0, "agent_max_scan_rows": 0}`,
		`"cost": {"no_full_scan": ["DEMO.PUBLIC.EVENTS"], "agent_max_scan_bytes": 0, "agent_max_scan_rows": 1500}`)
}

// TestCostGuard: with the cost guard on, the gateway plans reads the policy
// asks about before deciding (the stand-in's planner), through the real Go
// and Python drivers. A scan of EVENTS that nothing narrows is refused,
// however the statement is spelled; one a filter narrows runs. An agent's
// read that would scan more than its limit gets a ticket; one under it
// runs; a person's does not ask.
func TestCostGuard(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: costPolicy(t), ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	analyst, agent := openDB(t, st, "analyst"), openDB(t, st, "agent")
	const fullScan = "a full scan of DEMO.PUBLIC.EVENTS, which is marked no_full_scan"
	for _, sql := range []string{
		`SELECT * FROM events`,
		`select count(*) from Demo.Public."EVENTS"`,
		`SELECT * FROM events LIMIT 10`,
		`SELECT count(*) FROM events WHERE id > 0`, // true of every row: no filter is left
		`SELECT count(*) FROM events WHERE 1 = 1`,
		`WITH e AS (SELECT * FROM events) SELECT count(*) FROM e`,
		`SELECT count(*) FROM (SELECT id FROM events UNION ALL SELECT id FROM orders) u`,
		`SELECT o.id FROM orders o WHERE o.id IN (SELECT id FROM events)`,
		`SELECT count(*) FROM orders o JOIN events e ON e.id = o.id`,
	} {
		_, err := analyst.Exec(sql)
		if snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), fullScan) {
			t.Errorf("%s: %v; want 003001, %q", sql, err, fullScan)
		}
	}
	// Every statement that reads the table, not only a SELECT.
	if _, err := analyst.Exec(`CREATE TABLE EVENTS_COPY AS SELECT * FROM events WHERE id = 1`); err != nil {
		t.Fatalf("a copy of one event: %v", err)
	}
	for _, sql := range []string{
		`INSERT INTO EVENTS_COPY SELECT * FROM events`,
		`CREATE TABLE EVENTS_ALL AS SELECT * FROM events`,
	} {
		_, err := analyst.Exec(sql)
		if snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), fullScan) {
			t.Errorf("%s: %v; want 003001, %q", sql, err, fullScan)
		}
	}
	if _, err := analyst.Exec(`INSERT INTO EVENTS_COPY SELECT * FROM events WHERE id = 2`); err != nil {
		t.Errorf("an insert of one filtered event: %v", err)
	}
	for _, c := range []struct {
		sql  string
		rows int
	}{
		{`SELECT * FROM events WHERE id = 5`, 1},
		{`SELECT id FROM events WHERE id BETWEEN 10 AND 19`, 10},
		{`SELECT * FROM (SELECT * FROM events) e WHERE e.id = 7`, 1},
		{`SELECT count(*) FROM orders`, 1},
	} {
		if got := len(queryAll(t, analyst, c.sql)); got != c.rows {
			t.Errorf("%s: %d rows, want %d", c.sql, got, c.rows)
		}
	}

	// The agent: 1,200 rows scanned run; 2,000 get a ticket.
	if got := len(queryAll(t, agent, `SELECT o.id FROM orders o, customers c WHERE c.id = o.customer_id`)); got != 1000 {
		t.Errorf("the agent's join of orders and customers: %d rows, want 1000", got)
	}
	const over = "would scan an estimated 2000 rows, more than 1500"
	for _, sql := range []string{
		`SELECT count(*) FROM orders a JOIN orders b ON a.customer_id = b.customer_id`,
		`SELECT id FROM orders UNION SELECT id FROM orders`,
	} {
		_, err := agent.Exec(sql)
		if snowflakeCode(err) != 3002 || !strings.Contains(err.Error(), over) {
			t.Errorf("agent: %s: %v; want a ticket (003002), %q", sql, err, over)
		}
	}
	if got := len(queryAll(t, analyst, `SELECT count(*) FROM orders a JOIN orders b ON a.customer_id = b.customer_id`)); got != 1 {
		t.Errorf("the analyst's self-join: %d rows, want 1", got)
	}

	// The Python connector sees the same.
	py := pythonResults(t, st, "analyst", `SELECT * FROM events`, `SELECT id, event_type FROM events WHERE id = 5`)
	if py[0].Code != 3001 || !strings.Contains(py[0].Error, fullScan) {
		t.Errorf("python: the full scan: %+v; want 003001", py[0])
	}
	if py[1].Error != "" || len(py[1].Rows) != 1 {
		t.Errorf("python: the filtered scan: %+v; want one row", py[1])
	}
	// A plan that cannot be had (an unknown column) holds the read: it
	// cannot be shown to be narrow.
	py = pythonResults(t, st, "analyst", `SELECT id, no_such_column FROM events WHERE id = 5`)
	if py[0].Code != 3002 || !strings.Contains(py[0].Error, "how much the read would scan could not be estimated") {
		t.Errorf("python: a read that cannot be planned: %+v; want 003002", py[0])
	}
	py = pythonResults(t, st, "agent", `SELECT count(*) FROM orders a JOIN orders b ON a.customer_id = b.customer_id`)
	if py[0].Code != 3002 || !strings.Contains(py[0].Error, over) {
		t.Errorf("python: the agent's self-join: %+v; want 003002", py[0])
	}
}

type pythonResult struct {
	Rows  [][][2]*string
	Error string
	Code  int
}

// pythonResults runs queries as the demo identity through the gateway with
// snowflake-connector-python, each result or error as it reports them.
func pythonResults(t *testing.T, st *devstack.Stack, as string, queries ...string) []pythonResult {
	t.Helper()
	py := os.Getenv("SNOWGATE_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_PYTHON is not set: run the tests with `make test`")
	}
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	var jobs []map[string]string
	for _, q := range queries {
		jobs = append(jobs, map[string]string{"sql": q, "token": tok})
	}
	in, _ := json.Marshal(jobs)
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	cmd := exec.Command(py, "testdata/clients/python_rows.py")
	cmd.Env = append(os.Environ(), "SNOWGATE_HOST="+host, "SNOWGATE_PORT="+port)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var results []pythonResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(queries) {
		t.Fatalf("python answered %d results (%v) for %d queries", len(results), err, len(queries))
	}
	return results
}

// BenchmarkCostGuard: what the plan costs. The agent's small read through
// the gateway with the default library (no plan asked for) and with the
// cost guard on (every agent read planned by the stand-in, then decided
// again). Reproduce: go test -run '^$' -bench CostGuard -benchtime 3s ./proxy/
func BenchmarkCostGuard(b *testing.B) {
	for _, c := range []struct{ name, policy string }{{"off", ""}, {"on", costPolicy(b)}} {
		st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: c.policy})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(st.Close)
		db := openDB(b, st, "agent")
		const q = `SELECT id, amount FROM orders WHERE id = 42`
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := db.QueryRow(q).Scan(new(int), new(string)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
