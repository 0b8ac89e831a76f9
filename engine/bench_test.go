package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// fixture reads an input the analyser produced, from opa-tests/fixtures.
func fixture(tb testing.TB, name string) Input {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "opa-tests", "fixtures", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]Input
	if err := json.Unmarshal(raw, &doc); err != nil {
		tb.Fatal(err)
	}
	in, ok := doc[name]
	if !ok {
		tb.Fatalf("fixture %s holds no input named %s", name, name)
	}
	return in
}

// BenchmarkDecide measures one decision of the default library, input
// conversion included, on inputs the analyser produced from agent SQL:
// evaluated (the first decision of an input's shape), and remembered (the
// memo's answer to a shape decided before):
//
//	go test ./engine -run '^$' -bench BenchmarkDecide -benchmem
//
// For latency percentiles over the whole conformance corpus, and the same
// decisions through `opa run --server`, see conformance.TestDecisionLatency
// and `snowgate bench -only decision`.
func BenchmarkDecide(b *testing.B) {
	ctx := context.Background()
	for _, memo := range []struct {
		name string
		size int
	}{{"evaluated", -1}, {"remembered", 0}} {
		e := newTestEngine(b, Options{MemoSize: memo.size})
		for _, bc := range []struct {
			name, fixture string
			want          Action
		}{
			{"allow", "select_orders", ActionAllow},
			{"allow_join", "revenue_by_segment", ActionAllow},
			{"mask", "select_customers_pii", ActionMask},
			{"mask_star", "select_star_customers", ActionMask},
			{"approval", "delete_without_where", ActionRequireApproval},
			{"deny", "grant_role", ActionDeny},
		} {
			in := fixture(b, bc.fixture)
			b.Run(memo.name+"/"+bc.name, func(b *testing.B) {
				if d := e.Decide(ctx, in); d.Action != bc.want {
					b.Fatalf("action = %s, want %s (%q)", d.Action, bc.want, d.Reasons)
				}
				b.ReportAllocs()
				for b.Loop() {
					e.Decide(ctx, in)
				}
			})
		}
	}
}

// BenchmarkInputValue measures the conversion of an input to Rego's AST.
func BenchmarkInputValue(b *testing.B) {
	in := fixture(b, "revenue_by_segment")
	b.ReportAllocs()
	for b.Loop() {
		inputValue(&in)
	}
}
