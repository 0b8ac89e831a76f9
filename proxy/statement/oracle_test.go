package statement

import (
	"context"
	"slices"
	"testing"
)

// Set operations that compare rows, and ordering of their result, use the
// compared columns like GROUP BY does: a probe value UNIONed with a
// classified column tells by the row count whether it is there.
func TestSetOperationsGroup(t *testing.T) {
	env := Env{Database: "DEMO", Schema: "PUBLIC"}
	const email = "DEMO.PUBLIC.CUSTOMERS.EMAIL"
	cases := []struct {
		sql     string
		grouped bool
	}{
		{"SELECT email FROM customers UNION SELECT 'a@b.c'", true},
		{"SELECT 'a@b.c' UNION SELECT email FROM customers", true},
		{"SELECT email FROM customers INTERSECT SELECT 'a@b.c'", true},
		{"SELECT email FROM customers MINUS SELECT 'a@b.c'", true},
		{"SELECT email FROM customers EXCEPT SELECT 'a@b.c'", true},
		{"SELECT 'x' UNION ALL SELECT email FROM customers ORDER BY 1", true},
		{"(SELECT id FROM orders UNION ALL SELECT id FROM orders) UNION SELECT email FROM customers", true},
		{"SELECT email FROM customers UNION ALL SELECT 'a@b.c'", false},
	}
	for _, c := range cases {
		sts, err := Analyze(context.Background(), c.sql, env)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Contains(columnStrings(sts[0].Columns.Grouped), email)
		if got != c.grouped {
			t.Errorf("%s: grouped by EMAIL = %v, want %v (grouped %v, error %q)", c.sql, got, c.grouped, columnStrings(sts[0].Columns.Grouped), sts[0].Parse.Error)
		}
	}
}
