package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
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

// BenchmarkDecideFloor measures what an evaluated decision costs before
// any rule of the library applies, on the select_orders input: "constant",
// the input's conversion and one evaluation of a policy whose decision is
// a constant; "contract", rego/decision.rego and rego/lib over 13 packages
// of two rules each that cannot apply (the default library's shape with
// nothing in it). BenchmarkDecide minus "contract" is what the library's
// rules cost.
func BenchmarkDecideFloor(b *testing.B) {
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join("..", "rego", name))
		if err != nil {
			b.Fatal(err)
		}
		return raw
	}
	connect := &fstest.MapFile{Data: []byte("package snowgate.connect\n\ndecision := {\"action\": \"allow\"}\n")}
	contract := fstest.MapFS{"decision.rego": {Data: read("decision.rego")}, "lib/lib.rego": {Data: read("lib/lib.rego")},
		"data.json": {Data: read("data.json")}, "connect.rego": connect}
	for i := range 13 {
		contract[fmt.Sprintf("rules/p%d.rego", i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"package snowgate.rules.p%d\n\ndeny contains \"no\" if input.statement.kind == \"none\"\n\n"+
				"approve contains {\"rule\": \"r\", \"why\": \"no\"} if input.statement.kind == \"none\"\n", i))}
	}
	constant := fstest.MapFS{"p.rego": {Data: []byte("package snowgate\n\ndecision := {\"action\": \"allow\", \"reasons\": []}\n")}, "connect.rego": connect}
	in := fixture(b, "select_orders")
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		fsys fstest.MapFS
	}{{"constant", constant}, {"contract", contract}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newTestEngine(b, Options{FS: bc.fsys, MemoSize: -1})
			if d := e.Decide(ctx, in); d.Action != ActionAllow {
				b.Fatalf("action = %s (%q)", d.Action, d.Reasons)
			}
			b.ReportAllocs()
			for b.Loop() {
				e.Decide(ctx, in)
			}
		})
	}
}
