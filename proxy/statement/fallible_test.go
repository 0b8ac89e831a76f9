package statement

import (
	"context"
	"testing"
)

// TestFallible: an output computed by something that can raise an error
// for some values is marked, however deep the thing sits (a CASE branch, a
// subquery, a CTE, a set operation); outputs of total functions are not.
func TestFallible(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC", Catalog: mapCatalog{"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "PHONE", "SSN"}}}
	cases := []struct {
		sql  string
		want []bool // per output
	}{
		{"SELECT id, ssn, UPPER(email), COALESCE(phone, 'x') FROM customers", []bool{false, false, false, false}},
		{"SELECT CAST(ssn AS INT), ssn::DATE, TO_NUMBER(ssn), TRY_TO_NUMBER(ssn), CAST(id AS VARCHAR) FROM customers", []bool{true, true, true, false, false}},
		{"SELECT IFF(ssn LIKE '1%', 1/0, 0), IFF(ssn LIKE '1%', 1 + 1, 0) FROM customers", []bool{true, false}},
		{"SELECT id * 2, id + 1, id / 3 FROM customers", []bool{true, true, true}},
		{"SELECT CASE WHEN ssn > '5' THEN PARSE_JSON(email) END FROM customers", []bool{true}},
		{"SELECT x FROM (SELECT CAST(ssn AS INT) AS x FROM customers)", []bool{true}},
		{"WITH c AS (SELECT ssn::NUMBER AS n FROM customers) SELECT n FROM c", []bool{true}},
		{"SELECT ssn FROM customers UNION ALL SELECT CAST(phone AS INT)::VARCHAR FROM customers", []bool{true}},
		{"SELECT (SELECT MAX(CAST(c2.ssn AS INT)) FROM customers c2 WHERE c2.id = c.id) FROM customers c", []bool{true}},
		{"SELECT COUNT(ssn), MAX(email), SUM(id), LISTAGG(email, ',') FROM customers", []bool{false, false, true, false}},
		{"SELECT REGEXP_LIKE(email, ssn), my_udf(ssn) FROM customers", []bool{true, true}},
		{"SELECT ROW_NUMBER() OVER (ORDER BY id), SUM(id) OVER () FROM customers", []bool{false, true}},
		{"SELECT IFF(ssn LIKE '1%', (SELECT COUNT(*) FROM customers), 0), IFF(EXISTS (SELECT 1 FROM customers), 1, 0) FROM customers", []bool{true, true}},
	}
	for _, c := range cases {
		st, err := Analyze(context.Background(), c.sql, env)
		if err != nil || len(st) != 1 {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if len(st[0].Outputs) != len(c.want) {
			t.Errorf("%s: %d outputs (%v), want %d", c.sql, len(st[0].Outputs), st[0].Parse, len(c.want))
			continue
		}
		for i, o := range st[0].Outputs {
			if o.MayFail != c.want[i] {
				t.Errorf("%s: output %d (%s) may_fail %v, want %v", c.sql, i, o.Name, o.MayFail, c.want[i])
			}
		}
	}
}

// TestFallible_branches: a subquery is an oracle only where whether it runs
// depends on the values read (a CASE branch, IFF, COALESCE, AND/OR): it can
// be made slow or made to fail. Evaluated on every row, it is neither.
func TestFallible_branches(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC", Catalog: mapCatalog{"DEMO.PUBLIC.CUSTOMERS": {"ID", "NAME", "EMAIL", "PHONE", "SSN"}}}
	for sql, want := range map[string]bool{
		"SELECT (SELECT MAX(ssn) FROM customers) AS x FROM customers":                               false,
		"SELECT IFF(ssn LIKE '1%', (SELECT COUNT(*) FROM customers), 0) FROM customers":             true,
		"SELECT CASE WHEN ssn > '5' THEN (SELECT MIN(id) FROM customers) END FROM customers":        true,
		"SELECT COALESCE(NULLIF(ssn, 'x'), (SELECT MAX(name) FROM customers)) FROM customers":       true,
		"SELECT ssn LIKE '1%' AND EXISTS (SELECT 1 FROM customers c2, customers c3) FROM customers": true,
		"SELECT UPPER((SELECT MAX(ssn) FROM customers)) FROM customers":                             false,
	} {
		st, err := Analyze(context.Background(), sql, env)
		if err != nil || len(st) != 1 || len(st[0].Outputs) != 1 {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := st[0].Outputs[0].MayFail; got != want {
			t.Errorf("%s: may_fail %v, want %v", sql, got, want)
		}
	}
}
