package engine

import (
	"context"
	"encoding/json"
	"os"
	"testing"
)

func BenchmarkTmpFixtures(b *testing.B) {
	e := newTestEngine(b, Options{Dir: os.Getenv("POLICY")})
	ctx := context.Background()
	for _, name := range []string{"revenue_by_segment", "select_star_customers", "select_orders", "delete_without_where"} {
		raw, _ := os.ReadFile("../opa-tests/fixtures/" + name + ".json")
		var doc map[string]Input
		json.Unmarshal(raw, &doc)
		in := doc[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, in)
			}
		})
	}
}

func BenchmarkTmpInput(b *testing.B) {
	raw, _ := os.ReadFile("../opa-tests/fixtures/revenue_by_segment.json")
	var doc map[string]Input
	json.Unmarshal(raw, &doc)
	in := doc["revenue_by_segment"]
	b.ReportAllocs()
	for b.Loop() {
		inputValue(&in)
	}
}
