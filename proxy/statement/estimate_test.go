package statement

import (
	"context"
	"fmt"
	"testing"
)

func TestEstimate(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	orders := Object{Type: "table", Database: "DEMO", Schema: "PUBLIC", Name: "ORDERS"}
	cases := []struct {
		sql               string
		target, predicate string
		kind              Kind
		object            Object
	}{
		{sql: "DELETE FROM orders WHERE id > 0", target: "orders", predicate: "id > 0", kind: KindDelete, object: orders},
		{sql: "delete from Demo.Public.Orders o where o.id = 42", target: "Demo.Public.Orders o", predicate: "o.id = 42", kind: KindDelete, object: orders},
		{sql: "DELETE FROM orders AS o\n  WHERE o.amount >= 0 -- all of them\n", target: "orders AS o", predicate: "o.amount >= 0", kind: KindDelete, object: orders},
		{sql: `DELETE FROM "ORDERS" "x" WHERE "x"."STATUS" IN ('a', 'b') AND (id < 10 OR id > 990)`, target: `"ORDERS" "x"`,
			predicate: `"x"."STATUS" IN ('a', 'b') AND (id < 10 OR id > 990)`, kind: KindDelete, object: orders},
		{sql: "UPDATE orders SET status = status WHERE amount >= 0", target: "orders", predicate: "amount >= 0", kind: KindUpdate, object: orders},
		{sql: "DELETE FROM events WHERE payload:device::string = 'ios'", target: "events", predicate: "payload:device::string = 'ios'", kind: KindDelete,
			object: Object{Type: "table", Database: "DEMO", Schema: "PUBLIC", Name: "EVENTS"}},
		{sql: "UPDATE orders o SET o.status = 'x', amount = amount * 2 WHERE o.id BETWEEN 1 AND 10", target: "orders o",
			predicate: "o.id BETWEEN 1 AND 10", kind: KindUpdate, object: orders},
		{sql: "UPDATE orders AS o SET status = upper(status) WHERE lower(o.currency) = 'eur' /* c */", target: "orders AS o",
			predicate: "lower(o.currency) = 'eur'", kind: KindUpdate, object: orders},
		{sql: "UPDATE dev.sandbox.t SET a = (SELECT max(b) FROM dev.sandbox.u) WHERE id = 1", target: "dev.sandbox.t", predicate: "id = 1", kind: KindUpdate,
			object: Object{Type: "table", Database: "DEV", Schema: "SANDBOX", Name: "T"}},
	}
	for _, c := range cases {
		st := analyzeOneOf(t, c.sql, env)
		e := st.Estimate
		if e == nil {
			t.Errorf("%s: no estimate (parse %+v, effects %v)", c.sql, st.Parse, effectStrings(st.Effects))
			continue
		}
		if e.Target != c.target || e.Predicate != c.predicate || e.Kind != c.kind || e.Object != c.object {
			t.Errorf("%s:\n got %+v\nwant target %q predicate %q kind %s object %+v", c.sql, *e, c.target, c.predicate, c.kind, c.object)
		}
	}
}

func TestEstimate_none(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	for _, sql := range []string{
		// not bounded: the always-true case has its own rule
		"DELETE FROM orders",
		"DELETE FROM orders WHERE 1 = 1",
		"DELETE FROM orders WHERE id IS NOT NULL",
		"UPDATE orders SET status = 'x'",
		"UPDATE orders SET status = 'x' WHERE TRUE",
		// more than one table
		"DELETE FROM orders USING customers c WHERE orders.customer_id = c.id",
		"UPDATE orders o SET status = c.segment FROM customers c WHERE o.customer_id = c.id",
		"UPDATE orders o FROM customers c SET status = c.segment WHERE o.customer_id = c.id",
		// subqueries, variables, sequences in the predicate
		"DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE segment = 'smb')",
		"DELETE FROM orders WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = customer_id)",
		"DELETE FROM orders WHERE id > $cutoff",
		"DELETE FROM orders WHERE id > seq1.nextval",
		// bind values by name, or ? mixed with :1
		"DELETE FROM orders WHERE status = :s AND id > 0",
		"UPDATE orders SET status = ? WHERE id > :1",
		"DELETE FROM orders WHERE id > :0",
		// functions that are not known built-ins, or that have effects
		"DELETE FROM orders WHERE my_udf(id) > 0",
		"DELETE FROM orders WHERE analytics.public.f(id)",
		"DELETE FROM orders WHERE SYSTEM$CANCEL_ALL_QUERIES(1) = 'x'",
		"DELETE FROM orders WHERE id IN (SELECT value FROM TABLE(FLATTEN(input => parse_json('[1]'))))",
		// names from strings or variables
		"DELETE FROM IDENTIFIER('orders') WHERE id > 0",
		"DELETE FROM IDENTIFIER($t) WHERE id > 0",
		// nested: inside a WITH, a pipe, a scripting block, EXECUTE IMMEDIATE
		"WITH x AS (SELECT 1 AS n) DELETE FROM orders WHERE id > 0",
		"EXECUTE IMMEDIATE 'DELETE FROM orders WHERE id > 0'",
		"BEGIN DELETE FROM orders WHERE id > 0; END",
		"SELECT 1 ->> DELETE FROM orders WHERE id > 0",
		// other kinds
		"SELECT * FROM orders WHERE id > 0",
		"MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED AND o.id > 5 THEN DELETE",
		"INSERT INTO orders SELECT * FROM orders WHERE id > 0",
		// not a complete reading
		"DELETE FROM orders WHERE id >",
		"DELETE orders WHERE id > 0",
	} {
		st := analyzeOneOf(t, sql, env)
		if st.Estimate != nil {
			t.Errorf("%s: estimate %+v, want none", sql, *st.Estimate)
		}
	}
}

// The estimate's texts are slices of the statement's own text, also in a
// request of several statements.
func TestEstimate_multiStatement(t *testing.T) {
	sql := "SELECT 1; DELETE FROM orders o WHERE o.id > 500;\nUPDATE orders SET status = 'x' WHERE id < 3"
	stmts, err := Analyze(context.Background(), sql, Env{Database: "DEMO", Schema: "PUBLIC"})
	if err != nil || len(stmts) != 3 {
		t.Fatalf("%d statements, %v", len(stmts), err)
	}
	if stmts[0].Estimate != nil {
		t.Errorf("SELECT: estimate %+v", *stmts[0].Estimate)
	}
	if e := stmts[1].Estimate; e == nil || e.Target != "orders o" || e.Predicate != "o.id > 500" {
		t.Errorf("DELETE: estimate %+v", e)
	}
	if e := stmts[2].Estimate; e == nil || e.Target != "orders" || e.Predicate != "id < 3" {
		t.Errorf("UPDATE: estimate %+v", e)
	}
}

func analyzeOneOf(t *testing.T, sql string, env Env) Statement {
	t.Helper()
	stmts, err := Analyze(context.Background(), sql, env)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("%s: %d statements, %v", sql, len(stmts), err)
	}
	return stmts[0]
}

// TestEstimate_binds: positional binds of the predicate are written as ?
// and mapped to the request's bind values, counting the binds before it.
func TestEstimate_binds(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	for _, c := range []struct {
		sql, predicate string
		binds          []int
	}{
		{"DELETE FROM orders WHERE id > ?", "id > ?", []int{0}},
		{"DELETE FROM orders WHERE id > :1", "id > ?", []int{0}},
		{"DELETE FROM orders WHERE id IN (:2, :1)", "id IN (?, ?)", []int{1, 0}},
		{"UPDATE orders SET status = ?, amount = ? WHERE id > ? AND currency = ?", "id > ? AND currency = ?", []int{2, 3}},
		{"UPDATE orders SET status = :3 WHERE id BETWEEN :1 AND :2", "id BETWEEN ? AND ?", []int{0, 1}},
		{"DELETE FROM events WHERE payload:n::int > :1", "payload:n::int > ?", []int{0}},
	} {
		st := analyzeOneOf(t, c.sql, env)
		e := st.Estimate
		if e == nil {
			t.Errorf("%s: no estimate", c.sql)
			continue
		}
		if e.Predicate != c.predicate || fmt.Sprint(e.Binds) != fmt.Sprint(c.binds) {
			t.Errorf("%s: predicate %q binds %v, want %q %v", c.sql, e.Predicate, e.Binds, c.predicate, c.binds)
		}
	}
}
