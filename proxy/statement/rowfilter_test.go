package statement

import (
	"context"
	"strings"
	"testing"
)

// TestFilterRows: the text each spelling of a read or a change of a
// filtered table is rewritten to, and the statements where no filter can
// be placed. The rewritten text is read again by FilterRows itself: a
// case that passes here also reads as the original, with every reference
// to the table filtered.
func TestFilterRows(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	filters, err := ParseRowFilters(map[string]string{"DEMO.PUBLIC.ORDERS": "REGION = 'EU'"}, env)
	if err != nil {
		t.Fatal(err)
	}
	const f = " WHERE (REGION = 'EU'))"
	for _, c := range []struct{ sql, want string }{
		{"SELECT * FROM orders", "SELECT * FROM (SELECT * FROM orders" + f + " AS orders"},
		{"SELECT * FROM customers", "SELECT * FROM customers"},
		{`select o.id from demo.public.orders o join customers c on c.id = o.customer_id`,
			`select o.id from (SELECT * FROM demo.public.orders` + f + ` o join customers c on c.id = o.customer_id`},
		{`SELECT * FROM "ORDERS" AS "o"`, `SELECT * FROM (SELECT * FROM "ORDERS"` + f + ` AS "o"`},
		{`SELECT * FROM Demo.Public.Orders`, `SELECT * FROM (SELECT * FROM Demo.Public.Orders` + f + ` AS Orders`},
		{`SELECT * FROM demo..orders`, `SELECT * FROM (SELECT * FROM demo..orders` + f + ` AS orders`},
		{`WITH x AS (SELECT * FROM "ORDERS") SELECT count(*) FROM x`, `WITH x AS (SELECT * FROM (SELECT * FROM "ORDERS"` + f + ` AS "ORDERS") SELECT count(*) FROM x`},
		{`SELECT * FROM customers WHERE id IN (SELECT customer_id FROM public.orders)`,
			`SELECT * FROM customers WHERE id IN (SELECT customer_id FROM (SELECT * FROM public.orders` + f + ` AS orders)`},
		{`SELECT id FROM orders UNION ALL SELECT id FROM orders AT(OFFSET => -60)`,
			`SELECT id FROM (SELECT * FROM orders` + f + ` AS orders UNION ALL SELECT id FROM (SELECT * FROM orders AT(OFFSET => -60)` + f + ` AS orders`},
		{`SELECT * FROM orders BEFORE(STATEMENT => '8e5d') o`, `SELECT * FROM (SELECT * FROM orders BEFORE(STATEMENT => '8e5d')` + f + ` o`},
		{`SELECT * FROM orders SAMPLE BERNOULLI (10) SEED (7) -- last`, `SELECT * FROM (SELECT * FROM orders SAMPLE BERNOULLI (10) SEED (7)` + f + ` AS orders -- last`},
		{`SELECT * FROM TABLE('DEMO.PUBLIC.ORDERS')`, `SELECT * FROM (SELECT * FROM TABLE('DEMO.PUBLIC.ORDERS')` + f + ` AS "ORDERS"`},
		{`SELECT * FROM IDENTIFIER('orders') AS o`, `SELECT * FROM (SELECT * FROM IDENTIFIER('orders')` + f + ` AS o`},
		{`SELECT (SELECT max(amount) FROM orders) AS m`, `SELECT (SELECT max(amount) FROM (SELECT * FROM orders` + f + ` AS orders) AS m`},
		{`SELECT * FROM c, LATERAL (SELECT * FROM orders WHERE customer_id = c.id)`, `SELECT * FROM c, LATERAL (SELECT * FROM (SELECT * FROM orders` + f + ` AS orders WHERE customer_id = c.id)`},
		{`SELECT * FROM orders PIVOT (SUM(amount) FOR status IN ('a', 'b'))`, `SELECT * FROM (SELECT * FROM orders` + f + ` PIVOT (SUM(amount) FOR status IN ('a', 'b'))`},
		{`INSERT INTO events SELECT * FROM orders`, `INSERT INTO events SELECT * FROM (SELECT * FROM orders` + f + ` AS orders`},
		{`INSERT INTO orders (id) VALUES (1)`, `INSERT INTO orders (id) VALUES (1)`},
		{`CREATE TABLE x AS SELECT * FROM orders`, `CREATE TABLE x AS SELECT * FROM (SELECT * FROM orders` + f + ` AS orders`},
		{`WITH RECURSIVE r AS (SELECT id FROM orders UNION ALL SELECT id FROM r) SELECT * FROM r`,
			`WITH RECURSIVE r AS (SELECT id FROM (SELECT * FROM orders` + f + ` AS orders UNION ALL SELECT id FROM r) SELECT * FROM r`},
		{`UPDATE customers c SET total = o.amount FROM orders o WHERE o.customer_id = c.id`,
			`UPDATE customers c SET total = o.amount FROM (SELECT * FROM orders` + f + ` o WHERE o.customer_id = c.id`},
		{`INSERT ALL INTO a INTO b SELECT * FROM orders`, `INSERT ALL INTO a INTO b SELECT * FROM (SELECT * FROM orders` + f + ` AS orders`},
		{`UPDATE orders SET amount = 0 WHERE id = 1 OR id = 2`, `UPDATE orders SET amount = 0 WHERE ( id = 1 OR id = 2) AND (REGION = 'EU')`},
		{`UPDATE orders SET amount = 0`, `UPDATE orders SET amount = 0 WHERE (REGION = 'EU')`},
		{`DELETE FROM orders`, `DELETE FROM orders WHERE (REGION = 'EU')`},
		{`DELETE FROM orders o USING customers c WHERE o.customer_id = c.id`, `DELETE FROM orders o USING customers c WHERE ( o.customer_id = c.id) AND (REGION = 'EU')`},
		{`DELETE FROM customers WHERE id IN (SELECT customer_id FROM orders)`,
			`DELETE FROM customers WHERE id IN (SELECT customer_id FROM (SELECT * FROM orders` + f + ` AS orders)`},
		{`MERGE INTO orders t USING customers s ON t.customer_id = s.id WHEN MATCHED AND s.id > 1 OR s.id < 0 THEN UPDATE SET amount = 1 WHEN MATCHED THEN DELETE`,
			`MERGE INTO orders t USING customers s ON t.customer_id = s.id WHEN MATCHED AND (REGION = 'EU') AND ( s.id > 1 OR s.id < 0) THEN UPDATE SET amount = 1 WHEN MATCHED AND (REGION = 'EU') THEN DELETE`},
		{`MERGE INTO customers t USING orders s ON t.id = s.customer_id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.customer_id)`,
			`MERGE INTO customers t USING (SELECT * FROM orders` + f + ` s ON t.id = s.customer_id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.customer_id)`},
	} {
		st, err := Analyze(context.Background(), c.sql, env)
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: %v", c.sql, err)
		}
		out, err := FilterRows(context.Background(), st[0], env, filters)
		if err != nil || out.SQL != c.want {
			t.Errorf("%s\n got %q, %v\nwant %q", c.sql, out.SQL, err, c.want)
		}
	}
	for _, c := range []struct{ sql, why string }{
		{`MERGE INTO orders t USING customers s ON t.customer_id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)`, "WHEN NOT MATCHED would reveal"},
		{`INSERT OVERWRITE INTO orders SELECT * FROM orders`, "insert statement removes rows of it"},
		{`CREATE TABLE x CLONE orders`, "create statement reads it"},
		{`TRUNCATE TABLE orders`, "truncate statement removes rows of it"},
		{`DROP TABLE orders`, "drop statement"},
		{`ALTER TABLE orders RENAME TO o2`, "alter statement"},
		{`ALTER TABLE t2 SWAP WITH orders`, "alter statement"},
		{`COPY INTO @s FROM orders`, "copy statement reads it"},
		{`SELECT my_udf(1)`, "MY_UDF is not a built-in function"},
		{`SELECT * FROM TABLE(my_table_fn())`, "MY_TABLE_FN is not a built-in function"},
		{`CALL p()`, "what a call statement reads cannot be seen"},
		{`EXECUTE IMMEDIATE 'SELECT * FROM orders'`, "cannot be seen"},
		{`BEGIN SELECT * FROM orders; END`, "cannot be seen"},
		{`SELECT * FROM IDENTIFIER($t)`, "row filters"},
		{`WITH orders AS (SELECT 1 AS id) SELECT * FROM orders`, "a CTE named ORDERS"},
		{`SELECT * FROM orders ->> SELECT * FROM $1`, "source cannot be traced"},
		{`CREATE TABLE x LIKE orders`, "create statement reads it where no filter can be placed"},
		{`EXPLAIN SELECT * FROM orders`, "row filter"},
		{`SELECT * FROM TABLE(RESULT_SCAN($q))`, "source cannot be traced"},
		{`SELECT $v`, "source cannot be traced"},
		{`SELECT * FROM @stage`, "source cannot be traced"},
		{`WITH "ORDERS" AS (SELECT 1 AS id) SELECT * FROM demo.public.orders`, "a CTE named ORDERS"},
		{`SELECT * FROM orders WHERE`, "could not be read fully"},
		{`SELECT * FROM (orders)`, "could not be read fully"},
		{`SELECT * FROM customers, (orders o JOIN c2 ON c2.id = o.id)`, "could not be read fully"},
	} {
		st, err := Analyze(context.Background(), c.sql, env)
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: %v", c.sql, err)
		}
		out, err := FilterRows(context.Background(), st[0], env, filters)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %q, %v; want an error naming %q", c.sql, out.SQL, err, c.why)
		}
	}
}

// TestFilterRows_resultScan: RESULT_SCAN of an earlier result read from a
// filtered table is refused: the filter cannot reach the stored rows
// (which may predate it). RESULT_SCAN of other results is not.
func TestFilterRows_resultScan(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC", Results: resultsFrom{
		"01-orders": {{Name: "ID", Sources: []Column{{Database: "DEMO", Schema: "PUBLIC", Table: "ORDERS", Name: "ID"}}, Traced: true}},
		"01-other":  {{Name: "ID", Sources: []Column{{Database: "DEMO", Schema: "PUBLIC", Table: "CUSTOMERS", Name: "ID"}}, Traced: true}},
	}}
	filters, err := ParseRowFilters(map[string]string{"DEMO.PUBLIC.ORDERS": "REGION = 'EU'"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for q, why := range map[string]string{
		`SELECT * FROM TABLE(RESULT_SCAN('01-orders'))`: "through an earlier result",
		`SELECT * FROM TABLE(RESULT_SCAN('01-other'))`:  "",
	} {
		st, err := Analyze(context.Background(), q, env)
		if err != nil {
			t.Fatal(err)
		}
		_, err = FilterRows(context.Background(), st[0], env, filters)
		if why == "" && err != nil || why != "" && (err == nil || !strings.Contains(err.Error(), why)) {
			t.Errorf("%s: %v; want %q", q, err, why)
		}
	}
}

type resultsFrom map[string][]Output

func (r resultsFrom) ResultLineage(ref ResultRef) ([]Output, bool) {
	outs, ok := r[ref.QueryID]
	return outs, ok
}

// TestFilterRows_everyReferenceFiltered: FilterRows counts the references
// to a filtered table in the syntax tree of the rewritten text; one that
// carries no filter fails the statement. A predicate that reads its own
// table adds such a reference.
func TestFilterRows_everyReferenceFiltered(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	filters, err := ParseRowFilters(map[string]string{"DEMO.PUBLIC.ORDERS": "ID IN (SELECT ID FROM DEMO.PUBLIC.ORDERS)"}, env)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Analyze(context.Background(), "SELECT * FROM orders", env)
	if _, err := FilterRows(context.Background(), st[0], env, filters); err == nil || !strings.Contains(err.Error(), "reads it in 2 places, and a filter could be placed on 1") {
		t.Errorf("a reference without a filter: %v; want refused", err)
	}
}

// TestParseRowFilters: a filter's table must be a three-part name, and its
// predicate one expression that cannot close the brackets around it,
// comment out what follows or start a statement.
func TestParseRowFilters(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	for _, p := range []string{"REGION = 'EU'", "a IN ('x', 'y''s') AND (b > 1 OR c IS NULL)", `r = 'it\'s'`, "x = $$a -- b$$"} {
		if _, err := ParseRowFilters(map[string]string{"DEMO.PUBLIC.ORDERS": p}, env); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, c := range []struct{ table, pred, why string }{
		{"ORDERS", "1 = 1", "three-part"},
		{"PUBLIC.ORDERS", "1 = 1", "three-part"},
		{"DEMO.PUBLIC.ORDERS", "1 = 1) OR (1 = 1", "closes a bracket"},
		{"DEMO.PUBLIC.ORDERS", "(1 = 1", "open"},
		{"DEMO.PUBLIC.ORDERS", "1 = 1 --", "comment"},
		{"DEMO.PUBLIC.ORDERS", "1 = 1 /* x */", "comment"},
		{"DEMO.PUBLIC.ORDERS", "1 = 1 // x", "comment"},
		{"DEMO.PUBLIC.ORDERS", "1 = 1; DROP TABLE x", "';'"},
		{"DEMO.PUBLIC.ORDERS", "  ", "empty"},
		{"DEMO.PUBLIC.ORDERS", "r = 'unterminated", "lex"},
	} {
		_, err := ParseRowFilters(map[string]string{c.table: c.pred}, env)
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s: %q: %v; want an error naming %q", c.table, c.pred, err, c.why)
		}
	}
}

// TestAnalyze_moveInsideStatement: a statement that changes the current
// database or schema and then names objects (a block, a ->> pipe,
// EXECUTE IMMEDIATE) would have those names read in the old schema. Such a
// statement is not fully read, so no decision, mask or row filter rests on
// a name placed in the wrong schema.
func TestAnalyze_moveInsideStatement(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "NOSUCH"}
	for _, q := range []string{
		"BEGIN USE SCHEMA DEMO.PUBLIC; LET r RESULTSET := (SELECT email FROM customers); RETURN TABLE(r); END",
		"EXECUTE IMMEDIATE $$ BEGIN USE SCHEMA DEMO.PUBLIC; LET r RESULTSET := (SELECT email FROM customers); RETURN TABLE(r); END $$",
		"USE SCHEMA DEMO.PUBLIC ->> SELECT email FROM customers",
		"USE DATABASE DEMO ->> SELECT email FROM public.customers",
		"BEGIN CREATE SCHEMA s2 CLONE DEMO.PUBLIC; SELECT email FROM customers; END",
	} {
		st, err := Analyze(context.Background(), q, env)
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: %v", q, err)
		}
		if st[0].Parse.Complete || !strings.Contains(st[0].Parse.Error, "change of the current database or schema") {
			t.Errorf("%s: complete %v, %q; want not complete, naming the change", q, st[0].Parse.Complete, st[0].Parse.Error)
		}
	}
	for _, q := range []string{"BEGIN SELECT 1; USE SCHEMA DEMO.PUBLIC; END", "SELECT email FROM customers ->> SELECT * FROM $1"} {
		st, _ := Analyze(context.Background(), q, env)
		if strings.Contains(st[0].Parse.Error, "change of the current") {
			t.Errorf("%s: %q; a change with nothing after it is no problem", q, st[0].Parse.Error)
		}
	}
}
