package statement

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// effectStrings renders effects as "kind TYPE DB.SCHEMA.NAME bounded|unbounded".
func effectStrings(es []Effect) []string {
	var out []string
	for _, e := range es {
		b := "unbounded"
		if e.Bounded {
			b = "bounded"
		}
		var parts []string
		for _, p := range []string{e.Object.Database, e.Object.Schema, e.Object.Name} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		name := strings.Join(parts, ".")
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Effect, e.Object.Type, name, b))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestEffects(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	const o = "DEMO.PUBLIC.ORDERS"
	cases := []struct {
		sql  string
		want []string
	}{
		// rows removed, every spelling of "every row"
		{"DELETE FROM orders", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE id = 7", []string{"rows_removed table " + o + " bounded"}},
		{"DELETE FROM orders WHERE 2 > 1", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NOT FALSE", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NOT (1 = 0)", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE id IS NOT NULL", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE id = id", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE status LIKE '%'", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE 'a' || 'b' = 'ab' OR id = 3", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE 'a' || 'b' = 'ax' OR id = 3", []string{"rows_removed table " + o + " bounded"}},
		{"DELETE FROM orders WHERE COALESCE(NULL, TRUE)", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE IFNULL(NULL, 1) = 1", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NVL(NULL, 'a') = 'a'", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE IFF(1 = 1, TRUE, FALSE)", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE IFF(1 = 2, TRUE, id = 3)", []string{"rows_removed table " + o + " bounded"}},
		{"DELETE FROM orders WHERE NULLIF(1, 2) = 1", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NULLIF(1, 1) IS NULL", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE CASE WHEN 1 = 1 THEN TRUE ELSE FALSE END", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE CASE 2 WHEN 1 THEN FALSE WHEN 2 THEN TRUE END", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE CASE WHEN id = 1 THEN TRUE END", []string{"rows_removed table " + o + " bounded"}},
		{"DELETE FROM orders WHERE upper('a') = 'A'", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE coalesce(status, 'x') = coalesce(status, 'x')", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE 1 IN (1, 2)", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE 3 BETWEEN 1 AND 5", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE TRUE AND (id > 0 OR 1 = 1)", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NULL IS NULL", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE 'x' = 'x' AND id IS NOT NULL", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders WHERE NOT (id IS NOT NULL)", []string{"rows_removed table " + o + " bounded"}},
		{"DELETE FROM orders WHERE RANDOM() = RANDOM()", []string{"rows_removed table " + o + " bounded"}},
		{"delete from \"DEMO\".public.orders where 1=1", []string{"rows_removed table " + o + " unbounded"}},
		{"DELETE FROM orders USING customers c WHERE orders.customer_id = c.id", []string{"rows_removed table " + o + " bounded"}},
		{"TRUNCATE orders", []string{"rows_removed table " + o + " unbounded"}},
		{"TRUNCATE TABLE IF EXISTS orders", []string{"rows_removed table " + o + " unbounded"}},
		{"REMOVE @stg/x", []string{"rows_removed stage DEMO.PUBLIC.STG unbounded"}},
		// rows replaced
		{"UPDATE orders SET status = 'x'", []string{"rows_replaced table " + o + " unbounded"}},
		{"UPDATE orders SET status = 'x' WHERE 1 = 1", []string{"rows_replaced table " + o + " unbounded"}},
		{"UPDATE orders SET amount = amount WHERE id >= id", []string{"rows_replaced table " + o + " unbounded"}},
		{"UPDATE orders SET status = 'x' WHERE id = 4", []string{"rows_replaced table " + o + " bounded"}},
		{"INSERT OVERWRITE INTO orders SELECT * FROM orders", []string{"rows_replaced table " + o + " unbounded"}},
		{"insert overwrite into orders (id) values (1)", []string{"rows_replaced table " + o + " unbounded"}},
		{"INSERT OVERWRITE ALL INTO orders INTO demo.public.events SELECT 1", []string{"rows_replaced table DEMO.PUBLIC.EVENTS unbounded", "rows_replaced table " + o + " unbounded"}},
		{"INSERT INTO orders SELECT * FROM orders", nil},
		{"MERGE INTO orders t USING orders s ON t.id = s.id WHEN MATCHED THEN DELETE", []string{"rows_removed table " + o + " unbounded"}},
		{"MERGE INTO orders t USING orders s ON t.id = s.id WHEN MATCHED AND s.status = 'gone' THEN DELETE", []string{"rows_removed table " + o + " bounded"}},
		{"MERGE INTO orders t USING orders s ON TRUE WHEN MATCHED AND s.id = 1 THEN DELETE", []string{"rows_removed table " + o + " unbounded"}},
		{"MERGE INTO orders t USING orders s ON 1 = 1 WHEN MATCHED AND 2 > 1 THEN DELETE", []string{"rows_removed table " + o + " unbounded"}},
		{"MERGE INTO orders t USING (SELECT 1 id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET status = 'x' WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)", []string{"rows_replaced table " + o + " unbounded"}},
		{"MERGE INTO orders t USING orders s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)", nil},
		{"COPY INTO orders FROM @stg PURGE = TRUE", []string{"rows_removed stage DEMO.PUBLIC.STG unbounded"}},
		{"COPY INTO @stg FROM orders OVERWRITE = TRUE", []string{"rows_replaced stage DEMO.PUBLIC.STG unbounded"}},
		// objects replaced, swapped, renamed, dropped
		{"CREATE OR REPLACE TABLE orders AS SELECT 1 AS id", []string{"object_replaced table " + o + " unbounded"}},
		{"create or replace view v as select 1 x", []string{"object_replaced view DEMO.PUBLIC.V unbounded"}},
		{"CREATE OR REPLACE TRANSIENT TABLE orders CLONE orders_bak", []string{"object_replaced table " + o + " unbounded"}},
		{"CREATE OR REPLACE SCHEMA demo.public", []string{"object_replaced schema DEMO.PUBLIC unbounded"}},
		{"CREATE OR ALTER TABLE orders (id INT)", []string{"object_replaced table " + o + " unbounded"}},
		{"CREATE TABLE IF NOT EXISTS t2 (id INT)", nil},
		{"ALTER TABLE orders SWAP WITH orders_new", []string{"object_replaced table DEMO.PUBLIC.ORDERS_NEW unbounded", "object_replaced table " + o + " unbounded"}},
		{"ALTER TABLE orders RENAME TO orders_old", []string{"object_replaced table " + o + " unbounded"}},
		{"ALTER TABLE orders DROP COLUMN status", []string{"object_dropped table " + o + " unbounded"}},
		{"DROP TABLE orders", []string{"object_dropped table " + o + " unbounded"}},
		// protection removed
		{"ALTER TABLE customers MODIFY COLUMN ssn UNSET MASKING POLICY", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers ALTER COLUMN ssn SET MASKING POLICY open_policy FORCE", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers DROP ROW ACCESS POLICY rap", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers DROP ALL ROW ACCESS POLICIES", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers MODIFY COLUMN email UNSET TAG pii", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers SET DATA_RETENTION_TIME_IN_DAYS = 0", []string{"protection_removed table DEMO.PUBLIC.CUSTOMERS unbounded"}},
		{"ALTER TABLE customers SET DATA_RETENTION_TIME_IN_DAYS = 30", nil},
		{"ALTER DATABASE demo SET DATA_RETENTION_TIME_IN_DAYS = 0", []string{"protection_removed database DEMO unbounded"}},
		{"ALTER ACCOUNT SET MIN_DATA_RETENTION_TIME_IN_DAYS = 0", nil}, // account: denied as administration
		{"ALTER SCHEMA demo.public DISABLE MANAGED ACCESS", []string{"protection_removed schema DEMO.PUBLIC unbounded"}},
		{"ALTER VIEW v UNSET SECURE", []string{"protection_removed view DEMO.PUBLIC.V unbounded"}},
		{"ALTER MASKING POLICY ssn_mask SET BODY -> 'x'", []string{"protection_removed masking_policy DEMO.PUBLIC.SSN_MASK unbounded"}},
		{"DROP MASKING POLICY ssn_mask", []string{"object_dropped masking_policy DEMO.PUBLIC.SSN_MASK unbounded", "protection_removed masking_policy DEMO.PUBLIC.SSN_MASK unbounded"}},
		{"CREATE OR REPLACE MASKING POLICY ssn_mask AS (v STRING) RETURNS STRING -> v", []string{"object_replaced masking_policy DEMO.PUBLIC.SSN_MASK unbounded", "protection_removed masking_policy DEMO.PUBLIC.SSN_MASK unbounded"}},
		// nesting: blocks, EXECUTE IMMEDIATE, several effects
		{"BEGIN DELETE FROM orders; END", []string{"rows_removed table " + o + " unbounded"}},
		{"BEGIN DELETE FROM orders WHERE 1 = 1; UPDATE orders SET status = 'x' WHERE id = 1; END", []string{"rows_removed table " + o + " unbounded", "rows_replaced table " + o + " bounded"}},
		{"EXECUTE IMMEDIATE 'TRUNCATE TABLE orders'", []string{"rows_removed table " + o + " unbounded"}},
		{"EXECUTE IMMEDIATE $$ BEGIN INSERT OVERWRITE INTO orders SELECT 1; END $$", []string{"rows_replaced table " + o + " unbounded"}},
		// reads destroy nothing
		{"SELECT * FROM orders WHERE 1 = 1", nil},
	}
	for _, c := range cases {
		sts, err := Analyze(context.Background(), c.sql, env)
		if err != nil {
			t.Errorf("%s: %v", c.sql, err)
			continue
		}
		got := effectStrings(sts[0].Effects)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", c.sql, got, want)
		}
	}
}

// An upstream that ignores the case of quoted names must see "customers"
// as CUSTOMERS, or the policy would read it as another table.
func TestFoldQuoted(t *testing.T) {
	sql := `SELECT "ssn" FROM "demo"."public"."customers"`
	for _, fold := range []bool{false, true} {
		sts, err := Analyze(context.Background(), sql, Env{Database: "demo", Schema: "public", FoldQuoted: fold})
		if err != nil {
			t.Fatal(err)
		}
		o := sts[0].Objects[0]
		got := o.Database + "." + o.Schema + "." + o.Name + "." + sts[0].Outputs[0].Sources[0].Name
		want := "demo.public.customers.ssn"
		if fold {
			want = "DEMO.PUBLIC.CUSTOMERS.SSN"
		}
		if got != want {
			t.Errorf("fold=%v: got %s, want %s", fold, got, want)
		}
	}
}
