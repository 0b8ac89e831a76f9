package statement

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// derivedText renders a statement's derivations compactly:
//
//	TYPE DB.SCHEMA.NAME [by position] [any column] [from TYPE DB.SCHEMA.NAME]
//	  NAME <- TABLE.COL, TABLE.COL (transform[, untraced])
func derivedText(st Statement) string {
	var b strings.Builder
	for _, d := range st.Derived {
		fmt.Fprintf(&b, "%s %s", d.Target.Type, objectText(d.Target))
		if d.ByPosition {
			b.WriteString(" by position")
		}
		if d.AnyColumn {
			b.WriteString(" any column")
		}
		if d.Source != nil {
			fmt.Fprintf(&b, " from %s %s", d.Source.Type, objectText(*d.Source))
		}
		b.WriteString("\n")
		for _, c := range d.Columns {
			var src []string
			for _, s := range c.Sources {
				src = append(src, s.Table+"."+s.Name)
			}
			fmt.Fprintf(&b, "  %s <- %s (%s", c.Name, strings.Join(src, ", "), c.Transform)
			if !c.Traced {
				b.WriteString(", untraced")
			}
			b.WriteString(")\n")
		}
	}
	return b.String()
}

func objectText(o Object) string {
	var parts []string
	for _, p := range []string{o.Database, o.Schema, o.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

func TestDerived(t *testing.T) {
	cat := mapCatalog{"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "SSN"}, "DEMO.PUBLIC.CONTACTS": {"CID", "MAIL"}}
	env := Env{Database: "DEMO", Schema: "PUBLIC", Catalog: cat}
	for _, tc := range []struct{ sql, want string }{
		{"SELECT email FROM customers", ""},
		{"CREATE TABLE emails_copy AS SELECT id, email FROM customers",
			"table DEMO.PUBLIC.EMAILS_COPY by position\n  ID <- CUSTOMERS.ID (copy)\n  EMAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"CREATE OR REPLACE TRANSIENT TABLE t (a INT, b STRING COMMENT 'x', PRIMARY KEY (a)) AS SELECT id, upper(email) FROM customers",
			"table DEMO.PUBLIC.T\n  A <- CUSTOMERS.ID (copy)\n  B <- CUSTOMERS.EMAIL (expression)\n"},
		{"CREATE TABLE t AS WITH x AS (SELECT email AS e FROM customers) SELECT e, count(*) n FROM x GROUP BY e",
			"table DEMO.PUBLIC.T by position\n  E <- CUSTOMERS.EMAIL (copy)\n  N <-  (aggregate)\n"},
		{"CREATE TABLE u AS SELECT email FROM customers UNION ALL SELECT ssn FROM customers",
			"table DEMO.PUBLIC.U by position\n  EMAIL <- CUSTOMERS.EMAIL, CUSTOMERS.SSN (copy)\n"},
		{"CREATE VIEW v AS SELECT * FROM customers",
			"view DEMO.PUBLIC.V by position\n  ID <- CUSTOMERS.ID (copy)\n  NAME <- CUSTOMERS.NAME (copy)\n  EMAIL <- CUSTOMERS.EMAIL (copy)\n  SSN <- CUSTOMERS.SSN (copy)\n"},
		{"CREATE OR REPLACE SECURE VIEW v (a, b COMMENT 'mail') COMMENT = 'c' AS SELECT id, email FROM customers",
			"view DEMO.PUBLIC.V\n  A <- CUSTOMERS.ID (copy)\n  B <- CUSTOMERS.EMAIL (copy)\n"},
		{"CREATE MATERIALIZED VIEW mv AS SELECT email FROM customers",
			"view DEMO.PUBLIC.MV by position\n  EMAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"CREATE DYNAMIC TABLE dt TARGET_LAG = '1 minute' WAREHOUSE = wh AS SELECT email FROM customers",
			"table DEMO.PUBLIC.DT by position\n  EMAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"CREATE VIEW v AS SELECT * FROM unknown_t", // no catalog entry: the star is untraced
			"view DEMO.PUBLIC.V by position\n  * <- UNKNOWN_T.* (copy, untraced)\n"},
		{"CREATE TABLE t LIKE customers", ""},
		{"INSERT INTO contacts (mail, cid) SELECT email, id FROM customers",
			"table DEMO.PUBLIC.CONTACTS\n  MAIL <- CUSTOMERS.EMAIL (copy)\n  CID <- CUSTOMERS.ID (copy)\n"},
		{"INSERT INTO contacts SELECT id, email FROM customers", // positional: the catalog names the columns
			"table DEMO.PUBLIC.CONTACTS by position\n  CID <- CUSTOMERS.ID (copy)\n  MAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"INSERT INTO newt SELECT id, email FROM customers", // positional, target unknown to the catalog
			"table DEMO.PUBLIC.NEWT by position\n   <- CUSTOMERS.ID (copy)\n   <- CUSTOMERS.EMAIL (copy)\n"},
		{"INSERT INTO contacts SELECT id FROM customers", // fewer values than columns: anywhere
			"table DEMO.PUBLIC.CONTACTS any column\n   <- CUSTOMERS.ID (copy)\n"},
		{"INSERT OVERWRITE INTO other.contacts (cid, mail) SELECT id, email FROM demo.public.customers",
			"table DEMO.OTHER.CONTACTS\n  CID <- CUSTOMERS.ID (copy)\n  MAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"INSERT ALL INTO contacts (cid, mail) VALUES (id, email) INTO t2 SELECT id, email FROM customers",
			"table DEMO.PUBLIC.CONTACTS any column\n   <- CUSTOMERS.ID, CUSTOMERS.EMAIL (copy)\ntable DEMO.PUBLIC.T2 any column\n   <- CUSTOMERS.ID, CUSTOMERS.EMAIL (copy)\n"},
		{"INSERT INTO contacts (cid) VALUES (1)", ""},
		{"INSERT INTO contacts (cid, mail) VALUES (1, (SELECT email FROM customers LIMIT 1))",
			"table DEMO.PUBLIC.CONTACTS any column\n   <-  (expression, untraced)\n"},
		{"UPDATE contacts c SET mail = s.email FROM customers s WHERE s.id = c.cid",
			"table DEMO.PUBLIC.CONTACTS\n  MAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"UPDATE contacts SET mail = (SELECT max(email) FROM customers), cid = 1",
			"table DEMO.PUBLIC.CONTACTS\n  MAIL <- CUSTOMERS.EMAIL (aggregate)\n  CID <-  (expression)\n"},
		{"MERGE INTO contacts c USING customers s ON c.cid = s.id WHEN MATCHED AND s.id > 1 THEN UPDATE SET mail = s.email WHEN NOT MATCHED THEN INSERT (cid, mail) VALUES (s.id, lower(s.email))",
			"table DEMO.PUBLIC.CONTACTS\n  MAIL <- CUSTOMERS.EMAIL (expression)\n  CID <- CUSTOMERS.ID (copy)\n"},
		{"MERGE INTO contacts c USING (SELECT id, email FROM customers) s ON c.cid = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.email)",
			"table DEMO.PUBLIC.CONTACTS\n  CID <- CUSTOMERS.ID (copy)\n  MAIL <- CUSTOMERS.EMAIL (copy)\n"},
		{"COPY INTO contacts (cid, mail) FROM (SELECT $1, $2 FROM @st)",
			"table DEMO.PUBLIC.CONTACTS\n  CID <- @ST.$1 (expression, untraced)\n  MAIL <- @ST.$2 (expression, untraced)\n"},
		{"COPY INTO contacts FROM @st", ""},
		{"COPY INTO @st FROM (SELECT email FROM customers)", ""},
		{"CREATE TABLE c2 CLONE customers", "table DEMO.PUBLIC.C2 from table DEMO.PUBLIC.CUSTOMERS\n"},
		{"CREATE OR REPLACE TABLE c3 CLONE demo.public.customers AT(OFFSET => -60)", "table DEMO.PUBLIC.C3 from table DEMO.PUBLIC.CUSTOMERS\n"},
		{"CREATE SCHEMA s2 CLONE public", "schema DEMO.S2 from schema DEMO.PUBLIC\n"},
		{"CREATE DATABASE d2 CLONE demo", "database D2 from database DEMO\n"},
		{"ALTER TABLE customers RENAME TO cust2", "table DEMO.PUBLIC.CUST2 from table DEMO.PUBLIC.CUSTOMERS\n"},
		{"ALTER VIEW v RENAME TO w", "view DEMO.PUBLIC.W from view DEMO.PUBLIC.V\n"},
		{"ALTER TABLE IF EXISTS a SWAP WITH b", "table DEMO.PUBLIC.B from table DEMO.PUBLIC.A\ntable DEMO.PUBLIC.A from table DEMO.PUBLIC.B\n"},
		{"ALTER SCHEMA public RENAME TO pub2", "schema DEMO.PUB2 from schema DEMO.PUBLIC\n"},
		{"ALTER TABLE customers RENAME COLUMN email TO contact", "table DEMO.PUBLIC.CUSTOMERS\n  CONTACT <- CUSTOMERS.EMAIL (copy)\n"},
		{"ALTER TABLE customers ADD COLUMN x INT", ""},
		{"ALTER TABLE customers RENAME COLUMN IDENTIFIER($c) TO contact", ""},
	} {
		sts, err := Analyze(context.Background(), tc.sql, env)
		if err != nil || len(sts) != 1 {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := derivedText(sts[0]); got != tc.want {
			t.Errorf("%s\n got:\n%s\nwant:\n%s", tc.sql, got, tc.want)
		}
		if sts[0].Derived == nil {
			t.Errorf("%s: derived is nil, want a list", tc.sql)
		}
		if strings.HasPrefix(sts[0].Parse.Error, internalError) {
			t.Errorf("%s: %s", tc.sql, sts[0].Parse.Error)
		}
	}
}

// TestDerived_noCatalog: without a catalog, a positional INSERT cannot name
// the target's columns; the values stay in order for the gateway to map
// once the table's columns are known.
func TestDerived_noCatalog(t *testing.T) {
	sts, err := Analyze(context.Background(), "INSERT INTO contacts SELECT id, email FROM customers", Env{Database: "DEMO", Schema: "PUBLIC"})
	if err != nil {
		t.Fatal(err)
	}
	want := "table DEMO.PUBLIC.CONTACTS by position\n   <- CUSTOMERS.ID (copy)\n   <- CUSTOMERS.EMAIL (copy)\n"
	if got := derivedText(sts[0]); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if r := sts[0].Derived[0].Reads; len(r) != 1 || r[0].Name != "CUSTOMERS" {
		t.Errorf("reads: %+v", r)
	}
}

func TestDerived_pipe(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC", Catalog: mapCatalog{"DEMO.PUBLIC.CUSTOMERS": {"ID", "EMAIL"}}}
	sts, err := Analyze(context.Background(), "SELECT * FROM customers ->> CREATE TABLE t AS SELECT * FROM $1", env)
	if err != nil {
		t.Fatal(err)
	}
	want := "table DEMO.PUBLIC.T any column\n   <-  (expression, untraced)\n"
	if got := derivedText(sts[0]); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestDerived_blocks(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	for _, sql := range []string{
		"BEGIN CREATE TABLE t AS SELECT email FROM customers; END",
		"EXECUTE IMMEDIATE 'INSERT INTO t SELECT email FROM customers'",
	} {
		sts, err := Analyze(context.Background(), sql, env)
		if err != nil {
			t.Fatal(err)
		}
		want := "table DEMO.PUBLIC.T any column\n   <-  (expression, untraced)\n"
		if got := derivedText(sts[0]); got != want {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", sql, got, want)
		}
	}
}
