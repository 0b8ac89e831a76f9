package proxy_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestEstimate_holdsWritesOfMostRows: a WHERE clause that is not always
// true but selects every row (id > 0, amount >= 0) is held for approval by
// the default library's estimate rule, through the gateway with
// gosnowflake; a WHERE clause that selects one row runs. The counts before
// and after show the held statements changed nothing.
func TestEstimate_holdsWritesOfMostRows(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	agent := openDB(t, st, "agent")
	number := func(q string) int {
		t.Helper()
		rows := queryAll(t, agent, q)
		n, err := strconv.Atoi(rows[0][0].String)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	const orders, held = `SELECT count(*) FROM orders`, `SELECT count(*) FROM orders WHERE status = 'held'`
	before := number(orders)
	if before != 1000 {
		t.Fatalf("the sample has %d orders, want 1000", before)
	}
	for _, c := range []struct{ sql, why string }{
		{`DELETE FROM orders WHERE id > 0`, "DELETE of an estimated 100% of DEMO.PUBLIC.ORDERS (1000 of 1000 rows; the WHERE clause bounds it to more than 50%)"},
		{`UPDATE orders SET status = status WHERE amount >= 0`, "UPDATE of an estimated 100% of DEMO.PUBLIC.ORDERS (1000 of 1000 rows"},
		{`UPDATE orders o SET status = 'held' WHERE o.id > 300`, "UPDATE of an estimated 70% of DEMO.PUBLIC.ORDERS (700 of 1000 rows"},
		{`delete from Demo.Public.Orders AS o where o.status <> 'none' -- every one`, "DELETE of an estimated 100% of DEMO.PUBLIC.ORDERS"},
	} {
		_, err := agent.Exec(c.sql)
		if snowflakeCode(err) != 3002 {
			t.Errorf("%s: %v, want a ticket (003002)", c.sql, err)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: message %q does not say %q", c.sql, err, c.why)
		}
	}
	if n := number(orders); n != before {
		t.Errorf("after the held statements: %d orders, want %d", n, before)
	}
	if n := number(held); n != 0 {
		t.Errorf("a held UPDATE changed %d rows", n)
	}

	// Bounded below the share: they run.
	res, err := agent.Exec(`DELETE FROM orders WHERE id = 42`)
	if err != nil {
		t.Fatalf("DELETE of one row: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("DELETE of one row affected %d", n)
	}
	res, err = agent.Exec(`UPDATE orders SET status = 'held' WHERE id BETWEEN 1 AND 500`)
	if err != nil {
		t.Fatalf("UPDATE of half the rows: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 499 { // 42 is gone
		t.Errorf("UPDATE of half the rows affected %d, want 499", n)
	}
	if n := number(orders); n != before-1 {
		t.Errorf("after DELETE ... WHERE id = 42: %d orders, want %d", n, before-1)
	}
}

// TestEstimate_off: with estimates turned off the policy has none, and a
// bounded write runs whatever share of the table it touches.
func TestEstimate_off(t *testing.T) {
	st := startStack(t, "", proxy.Config{EstimateTimeout: -1})
	res, err := openDB(t, st, "agent").Exec(`UPDATE orders SET status = status WHERE amount >= 0`)
	if err != nil {
		t.Fatalf("without estimates: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1000 {
		t.Errorf("affected %d, want 1000", n)
	}
}

// TestEstimate_binds: the predicate's bind values reach the estimate, so
// a bound predicate that selects every row is held like a literal one, and
// one that selects a row runs.
func TestEstimate_binds(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	agent := openDB(t, st, "agent")
	for _, c := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM orders WHERE id > ?`, []any{0}},
		{`UPDATE orders SET status = ? WHERE amount >= ? AND currency <> ?`, []any{"held", 0, "none"}},
		{`DELETE FROM orders WHERE id BETWEEN :1 AND :2`, []any{1, 1000}},
	} {
		_, err := agent.Exec(c.sql, c.args...)
		if snowflakeCode(err) != 3002 || !strings.Contains(err.Error(), "of an estimated 100% of DEMO.PUBLIC.ORDERS") {
			t.Errorf("%s %v: %v, want a ticket for every row", c.sql, c.args, err)
		}
	}
	res, err := agent.Exec(`DELETE FROM orders WHERE id = ?`, 42)
	if err != nil {
		t.Fatalf("DELETE of one bound row: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("DELETE of one bound row affected %d", n)
	}
	if n := queryAll(t, agent, `SELECT count(*) FROM orders`)[0][0].String; n != "999" {
		t.Errorf("%s orders left, want 999", n)
	}
}

// TestEstimate_failedHolds: a bounded write whose estimate cannot be had
// (here the time bound runs out at once) is held, not run unbounded.
func TestEstimate_failedHolds(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: "ticket", Gateway: proxy.Config{EstimateTimeout: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	agent := openDB(t, st, "agent")
	_, err = agent.Exec(`DELETE FROM orders WHERE id = 42`)
	if snowflakeCode(err) != 3002 || !strings.Contains(err.Error(), "could not be estimated") {
		t.Fatalf("DELETE with a failed estimate: %v, want a ticket saying it could not be estimated", err)
	}
	if n := queryAll(t, agent, `SELECT count(*) FROM orders WHERE id = 42`)[0][0].String; n != "1" {
		t.Errorf("the held DELETE ran: %s rows left with id 42", n)
	}
}

// BenchmarkEstimate_gateway: a bounded UPDATE of one row through the
// gateway with gosnowflake, with the estimate before the decision and
// without.
func BenchmarkEstimate_gateway(b *testing.B) {
	for _, bc := range []struct {
		name    string
		timeout time.Duration
	}{{"estimate", 0}, {"no_estimate", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			st := startStack(b, "", proxy.Config{EstimateTimeout: bc.timeout})
			db := openDB(b, st, "agent")
			for b.Loop() {
				if _, err := db.Exec(`UPDATE orders SET status = status WHERE id = 42`); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
