package conformance

import (
	"context"
	"testing"

	"github.com/snowgate/snowgate/engine"
)

func BenchmarkTmpConformance(b *testing.B) {
	ctx := context.Background()
	cases, _ := LoadDecisionCases("decisions")
	var ins []engine.Input
	for _, c := range cases {
		if in, err := caseInput(ctx, c); err == nil {
			ins = append(ins, in)
		}
	}
	eng, _ := engine.New(ctx, engine.Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		eng.Decide(ctx, ins[i%len(ins)])
		i++
	}
}
