package engine

import (
	"context"
	"os"
	"testing"
)

func BenchmarkTmpPolicy(b *testing.B) {
	e := newTestEngine(b, Options{Dir: os.Getenv("POLICY")})
	ctx := context.Background()
	for _, f := range []string{"select_orders", "revenue_by_segment", "select_customers_pii", "delete_without_where"} {
		in := fixture(b, f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, in)
			}
		})
	}
}
