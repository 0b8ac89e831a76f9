package proxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/devstack"
)

// quotaPolicy is the default library with quotas in its data.json: 30
// statements a minute for every human, 1,500 rows an hour and two sessions
// at once for every agent.
func quotaPolicy(t testing.TB) string {
	return defaultLibraryWith(t, `"quotas": {"subjects": {}, "agents": {}, "groups": {}}`,
		`"quotas": {"subjects": {"statements_per_minute": 30}, "agents": {"rows_per_hour": 1500, "sessions": 2}, "groups": {}}`)
}

// TestQuotas: the default library's quotas through the gateway, with the
// real Go and Python drivers. An agent's result that passes what is left
// of its row budget is cut with 003008 (never returned in part) and does
// not count; results within it count; once spent, the agent's statements
// are refused, the human's own are not. A third agent session is refused
// at login until one closes. A human's 31st statement in a minute is
// refused.
func TestQuotas(t *testing.T) {
	if sec := time.Now().Second(); sec >= 35 { // the counts below must not straddle a minute
		time.Sleep(time.Duration(61-sec) * time.Second)
	}
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: quotaPolicy(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	const cut = "result cut: it passes the"
	py := pythonResults(t, st, "agent", `SELECT * FROM events`)
	if py[0].Code != 3008 || !strings.Contains(py[0].Error, cut+" 1500 rows left") {
		t.Errorf("python: the agent's 2,000 rows: %+v; want 003008, cut", py[0])
	}
	agent := openDB(t, st, "agent")
	for _, c := range []struct {
		sql  string
		rows int    // rows returned, or
		code int    // the error's code
		why  string // and its message
	}{
		{sql: `SELECT * FROM events ORDER BY id`, code: 3008, why: cut + " 1500 rows left"},
		{sql: `SELECT id FROM orders`, rows: 1000},
		{sql: `SELECT id FROM orders WHERE id <= 600`, code: 3008, why: cut + " 500 rows left"},
		{sql: `SELECT id FROM orders WHERE id <= 400`, rows: 400},
		{sql: `SELECT id FROM orders WHERE id <= 100`, rows: 100},
		{sql: `SELECT 1`, code: 3001, why: "agent sql-agent's limit of 1500 rows returned an hour is spent"},
	} {
		rows, err := agent.Query(c.sql)
		n := 0
		if err == nil {
			for rows.Next() {
				n++
			}
			err = rows.Err()
			rows.Close()
		}
		switch {
		case c.code != 0 && (snowflakeCode(err) != c.code || !strings.Contains(err.Error(), c.why)):
			t.Errorf("agent: %s: %v (%d rows); want %d, %q", c.sql, err, n, c.code, c.why)
		case c.code == 0 && (err != nil || n != c.rows):
			t.Errorf("agent: %s: %d rows, %v; want %d rows", c.sql, n, err, c.rows)
		}
	}
	py = pythonResults(t, st, "agent", `SELECT 1`)
	if py[0].Code != 3001 || !strings.Contains(py[0].Error, "rows returned an hour is spent") {
		t.Errorf("python: the agent once its rows are spent: %+v; want 003001", py[0])
	}
	if n := len(queryAll(t, openDB(t, st, "analyst"), `SELECT id FROM orders`)); n != 1000 {
		t.Errorf("the human the agent acts for, on their own: %d rows, want 1000", n)
	}

	// Sessions: the agent's pool closed, two are allowed at once.
	agent.Close()
	ctx := context.Background()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		u, err := st.Quotas.Usage([]string{"agent:sql-agent"})
		if err == nil && u["agent:sql-agent"].Sessions == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's sessions still open 5 s after its pool closed: %+v, %v", u, err)
		}
	}
	pool := openDB(t, st, "agent")
	c1, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := pool.Conn(ctx); snowflakeCode(err) != 390101 || !strings.Contains(err.Error(), "limit of 2 sessions at once is reached") {
		t.Errorf("a third agent session: %v; want 390101, the sessions limit", err)
	}
	c1.Close()
	c3, err := pool.Conn(ctx)
	if err != nil {
		t.Errorf("an agent session once one closed: %v", err)
	} else {
		c3.Close()
	}

	// Statements a minute, for a human.
	engineer := openDB(t, st, "engineer")
	for i := range 30 {
		if _, err := engineer.Exec(`SELECT 1`); err != nil {
			t.Fatalf("the engineer's statement %d: %v", i+1, err)
		}
	}
	if _, err := engineer.Exec(`SELECT 1`); snowflakeCode(err) != 3001 || !strings.Contains(err.Error(), "your limit of 30 statements a minute is reached") {
		t.Errorf("the engineer's 31st statement in a minute: %v; want 003001", err)
	}
}
