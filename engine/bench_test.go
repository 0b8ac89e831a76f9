package engine

import (
	"context"
	"testing"
)

// BenchmarkDecide measures one decision of the default library, input
// conversion included:
//
//	go test ./engine -run '^$' -bench BenchmarkDecide -benchmem
func BenchmarkDecide(b *testing.B) {
	e := newTestEngine(b, Options{})
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		in   Input
		want Action
	}{
		{"allow", input(analyst(), selectOrders()), ActionAllow},
		{"mask", input(analyst(), selectCustomers()), ActionMask},
		{"approval", input(agent(), deleteAll()), ActionRequireApproval},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if d := e.Decide(ctx, bc.in); d.Action != bc.want {
				b.Fatalf("action = %s, want %s", d.Action, bc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, bc.in)
			}
		})
	}
}
