package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	library "github.com/snowgate/snowgate/rego"
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

// fixtureNames names every input in opa-tests/fixtures.
func fixtureNames(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "opa-tests", "fixtures", "*.json"))
	if err != nil || len(files) < 50 {
		tb.Fatalf("fixtures: %d, %v", len(files), err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".json")
	}
	return names
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

// BenchmarkDecidePackages measures what each rule package of the default
// library adds to an evaluated decision. One op decides the 66 inputs of
// opa-tests/fixtures with the whole library (ns/all) and then with each
// package taken out in turn (ns/-agents, ...; inherited goes with masking,
// whose helpers it calls), so that the machine's drift falls on all alike;
// a package's cost is ns/all minus its own figure:
//
//	go test ./engine -run '^$' -bench DecidePackages -benchtime 20x -count 3
func BenchmarkDecidePackages(b *testing.B) {
	names := fixtureNames(b)
	ins := make([]Input, len(names))
	for i, name := range names {
		ins[i] = fixture(b, name)
	}
	pkgs, err := fs.Glob(library.FS, "rules/*.rego")
	if err != nil || len(pkgs) == 0 {
		b.Fatalf("no rule packages: %v", err)
	}
	type variant struct {
		name  string
		e     *Engine
		spent time.Duration
	}
	variants := []*variant{{name: "all", e: newTestEngine(b, Options{MemoSize: -1})}}
	for _, pkg := range pkgs {
		if pkg == "rules/inherited.rego" {
			continue
		}
		fsys := fstest.MapFS{}
		if err := fs.WalkDir(library.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || p == pkg || pkg == "rules/masking.rego" && p == "rules/inherited.rego" {
				return err
			}
			raw, err := fs.ReadFile(library.FS, p)
			fsys[p] = &fstest.MapFile{Data: raw}
			return err
		}); err != nil {
			b.Fatal(err)
		}
		variants = append(variants, &variant{name: "-" + strings.TrimSuffix(path.Base(pkg), ".rego"), e: newTestEngine(b, Options{FS: fsys, MemoSize: -1})})
	}
	ctx := context.Background()
	for b.Loop() {
		for _, v := range variants {
			start := time.Now()
			for i := range ins {
				v.e.Decide(ctx, ins[i])
			}
			v.spent += time.Since(start)
		}
	}
	for _, v := range variants {
		b.ReportMetric(float64(v.spent.Nanoseconds())/float64(b.N*len(ins)), "ns/"+v.name)
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
