package main

import (
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/internal/regotest"
)

// libraryWith is a copy of the default library whose data.json setting
// off (as written there) is replaced by on.
func libraryWith(t *testing.T, off, on string) string {
	return regotest.With(t, "../../rego", off, on)
}

// costLibrary is the default library with data.json's cost settings
// replaced by cost (a JSON object).
func costLibrary(t *testing.T, cost string) string {
	return libraryWith(t, `"cost": {"no_full_scan": [], "agent_max_scan_bytes": 0, "agent_max_scan_rows": 0}`, `"cost": `+cost)
}

// runAs runs queries through the dev gateway gw as the demo identity,
// reading every row.
func runAs(t *testing.T, gw, admin, as string, queries ...string) {
	t.Helper()
	tok, err := snowgate(t, "token", "--as", as, "--addr", admin)
	if err != nil {
		t.Fatal(tok)
	}
	host, port, _ := net.SplitHostPort(gw)
	dsn, _ := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, strings.TrimSpace(tok)))
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *dsn))
	defer db.Close()
	for _, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s as %s: %v", q, as, err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
}

// shadowOf runs audit shadow of the trail in the dev data directory
// against the candidate policy, and returns its table and its JSON, each
// checked to hold every string it must.
func shadowOf(t *testing.T, data, candidate string, table, changes []string) {
	t.Helper()
	for _, c := range []struct {
		args []string
		want []string
	}{{nil, table}, {[]string{"--output", "json"}, changes}} {
		out, err := snowgate(t, append([]string{"audit", "shadow", "--db", filepath.Join(data, "audit.db"), "--bundle", candidate}, c.args...)...)
		if err != nil {
			t.Fatalf("audit shadow %v: %v\n%s", c.args, err, out)
		}
		for _, want := range c.want {
			if !strings.Contains(out, want) {
				t.Errorf("audit shadow %v lacks %q:\n%s", c.args, want, out)
			}
		}
	}
}

// TestCLI_auditShadowCost: traffic recorded under a loose cost guard
// (agents' reads planned, nothing refused) replayed under a strict one with
// `snowgate audit shadow`: the plans recorded with the statements decide
// the candidate's cost rules; a read the recorded policy did not plan is
// decided as if its plan could not be had.
func TestCLI_auditShadowCost(t *testing.T) {
	data := t.TempDir()
	loose := costLibrary(t, `{"no_full_scan": [], "agent_max_scan_bytes": 0, "agent_max_scan_rows": 1000000}`)
	strict := costLibrary(t, `{"no_full_scan": ["DEMO.PUBLIC.EVENTS"], "agent_max_scan_bytes": 0, "agent_max_scan_rows": 1500}`)
	gw, admin := startDevIn(t, data, "--policy", loose, "--approval-mode", "ticket")
	runAs(t, gw, admin, "agent",
		`SELECT id, event_type FROM events`,
		`SELECT id, event_type FROM events WHERE id = 5`,
		`SELECT count(*) FROM orders a JOIN orders b ON a.customer_id = b.customer_id`,
		`SELECT status FROM orders WHERE id = 2`)
	runAs(t, gw, admin, "analyst", `SELECT id, event_type FROM events`)
	stopDev(t, admin)
	shadowOf(t, data, strict, []string{
		"5 recorded statements re-evaluated, 3 decisions would change",
		"allow → deny                         1",
		"allow → require_approval             2",
	}, []string{
		"a full scan of DEMO.PUBLIC.EVENTS, which is marked no_full_scan",
		"would scan an estimated 2000 rows, more than 1500",
		"how much the read would scan could not be estimated",
	})
}

// TestCLI_auditShadowQuotas: traffic recorded without quotas, replayed
// under a candidate with quotas: audit shadow counts what the trail says
// each caller did before each statement (statements, rows returned) and
// shows the statements the candidate would have refused, and the result
// it would have cut.
func TestCLI_auditShadowQuotas(t *testing.T) {
	if sec := time.Now().Second(); sec >= 40 { // the statements must share a minute
		time.Sleep(time.Duration(61-sec) * time.Second)
	}
	data := t.TempDir()
	gw, admin := startDevIn(t, data)
	runAs(t, gw, admin, "agent", `SELECT id FROM orders`, `SELECT id FROM orders`, `SELECT id FROM orders`, `SELECT 1`, `SELECT 2`)
	stopDev(t, admin)
	candidate := libraryWith(t, `"quotas": {"subjects": {}, "agents": {}, "groups": {}}`,
		`"quotas": {"subjects": {"statements_per_minute": 4}, "agents": {"rows_per_hour": 2500}, "groups": {}}`)
	shadowOf(t, data, candidate, []string{
		"5 recorded statements re-evaluated, 3 decisions would change",
		"allow → allow (cut)                  1",
		"allow → deny                         2",
	}, []string{"the recorded result passes the quota left", "limit of 2500 rows returned an hour is spent", "your limit of 4 statements a minute is reached"})
}

// TestCLI_auditShadowRowFilters: a candidate's row filters, replayed on
// recorded traffic, show which statements would have run filtered (and
// the text that would have run) and which the gateway would refuse
// because no filter can be placed.
func TestCLI_auditShadowRowFilters(t *testing.T) {
	data := t.TempDir()
	gw, admin := startDevIn(t, data)
	runAs(t, gw, admin, "analyst", `SELECT count(*) FROM customers`, `SELECT 1`, `SELECT count(*) FROM orders`, `WITH customers AS (SELECT 1 AS id) SELECT * FROM customers`)
	stopDev(t, admin)
	candidate := libraryWith(t, `"row_filters": {}`,
		`"row_filters": {"DEMO.PUBLIC.CUSTOMERS": {"where": "COUNTRY IN ('DE', 'FR')"}}`)
	shadowOf(t, data, candidate, []string{
		"4 recorded statements re-evaluated, 2 decisions would change",
		"allow → allow (filtered)             1",
		"allow → deny                         1",
	}, []string{
		`"candidate_runs": "SELECT count(*) FROM (SELECT * FROM customers WHERE (COUNTRY IN ('DE', 'FR'))) AS customers"`,
		`"candidate_row_filters": {`,
		`a CTE named CUSTOMERS hides which reads are of the table`,
	})
}
