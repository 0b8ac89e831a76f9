package standin

import (
	"context"
	"fmt"
	"testing"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

func openSession(t testing.TB) (*Standin, *conn) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pc, err := s.Open(ctx, proxy.OpenParams{Database: Database, Schema: Schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return s, pc.(*conn)
}

func TestEstimateRows(t *testing.T) {
	_, c := openSession(t)
	ctx := context.Background()
	for _, tc := range []struct {
		target, predicate string
		rows, total       int64
	}{
		{"orders", "id > 0", 1000, 1000},
		{"orders o", "o.id > 300", 700, 1000},
		{"DEMO.PUBLIC.ORDERS AS o", "o.id = 42", 1, 1000},
		{`"ORDERS"`, "amount >= 0 AND status IN ('shipped', 'pending')", 500, 1000},
		{"orders", "id < 0", 0, 1000},
		{"orders", "NULL", 0, 1000},
		{"customers c", "c.id BETWEEN 1 AND 20", 20, 200},
	} {
		got, err := c.EstimateRows(ctx, statement.EstimateQuery{Target: tc.target, Predicate: tc.predicate}, nil)
		want := proxy.Estimate{Rows: tc.rows, Total: tc.total, Method: engine.EstimateCount}
		if err != nil || got != want {
			t.Errorf("%s WHERE %s: %+v, %v; want %+v", tc.target, tc.predicate, got, err, want)
		}
	}
	for _, bad := range []statement.EstimateQuery{
		{Target: "no_such_table", Predicate: "id > 0"},
		{Target: "orders", Predicate: "no_such_column > 0"},
		{Target: "orders", Predicate: ""},
	} {
		if got, err := c.EstimateRows(ctx, bad, nil); err == nil {
			t.Errorf("%+v: %+v, want an error", bad, got)
		}
	}
	// The session still runs statements afterwards (the estimate released it).
	out, err := c.Run(ctx, proxy.Exec{SQL: "DELETE FROM orders WHERE id = 1", Kind: statement.KindDelete})
	if err != nil || out.Affected != 1 {
		t.Fatalf("DELETE after the estimates: %+v, %v", out, err)
	}
}

// BenchmarkEstimateRows: what an estimate costs a statement on the
// stand-in: one scan of the target.
func BenchmarkEstimateRows(b *testing.B) {
	s, c := openSession(b)
	ctx := context.Background()
	for _, n := range []int{100_000, 1_000_000} {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE DEMO.PUBLIC.BIG_%d AS
			SELECT i AS ID, i %% 97 AS K, 'status-' || (i %% 5) AS STATUS FROM range(%d) t(i)`, n, n)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct{ name, target, predicate string }{
		{"orders_1k/id>0", "orders", "id > 0"},
		{"orders_1k/id=42", "orders o", "o.id = 42"},
		{"orders_1k/expression", "orders", "upper(status) LIKE 'SHIP%' AND amount >= 0"},
		{"big_100k/id>0", "big_100000", "id > 0"},
		{"big_1m/id>0", "big_1000000", "id > 0"},
		{"big_1m/expression", "big_1000000", "k = 3 OR upper(status) = 'STATUS-1'"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := statement.EstimateQuery{Target: bc.target, Predicate: bc.predicate}
			for b.Loop() {
				if _, err := c.EstimateRows(ctx, q, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
