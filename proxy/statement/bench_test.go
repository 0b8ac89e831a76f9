package statement

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Benchmarks: go test ./proxy/statement -run '^$' -bench Analyze -benchmem
// Each reports statements per second next to ns/op and allocations.

const shortQuery = `SELECT c.email, o.amount::NUMBER(10,2) AS amt FROM analytics.sales.orders o JOIN customers c ON c.id = o.customer_id WHERE o.status = 'open' LIMIT 10`

// analyticalQuery builds a ~5 KB analytical query with CTEs, quoted
// identifiers, casts, paths, FLATTEN, window functions and QUALIFY.
func analyticalQuery() string {
	var b strings.Builder
	b.WriteString("WITH ")
	for i := 0; i < 12; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"stage_%d" AS (
    SELECT o.customer_id, o.order_id, o.amount::NUMBER(18,2) AS "amount_%d",
           o.payload:shipping.city::STRING AS "city", f.value:sku::STRING AS sku,
           DATE_TRUNC('week', o.created_at) AS "week"
    FROM analytics.sales.orders o, LATERAL FLATTEN(input => o.payload:items) f
    WHERE o.status IN ('complete', 'shipped') AND o.created_at >= DATEADD(day, -%d, CURRENT_DATE)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY o.created_at DESC) <= 5
)`, i, i, 30+i)
	}
	b.WriteString(`
SELECT s0.customer_id, c.email, COUNT(DISTINCT s0.order_id) AS orders, SUM(s0."amount_0") AS revenue
FROM "stage_0" s0 JOIN customers c ON c.id = s0.customer_id
JOIN "stage_11" s11 ON s11.customer_id = s0.customer_id
GROUP BY 1, 2 ORDER BY revenue DESC LIMIT 100`)
	return b.String()
}

func BenchmarkAnalyze(b *testing.B) {
	cat := mapCatalog{"ANALYTICS.PUBLIC.CUSTOMERS": {"ID", "EMAIL", "SSN"}}
	env := Env{Database: "ANALYTICS", Schema: "PUBLIC", Catalog: cat}
	long := analyticalQuery()
	for _, bc := range []struct{ name, sql string }{
		{"short", shortQuery},
		{fmt.Sprintf("analytical_%dB", len(long)), long},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sts, err := Analyze(context.Background(), bc.sql, env)
			if err != nil || !sts[0].Parse.Complete {
				b.Fatalf("benchmark query not fully analysed: %v %+v", err, sts[0].Parse)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.sql)))
			for b.Loop() {
				if _, err := Analyze(context.Background(), bc.sql, env); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	sql := strings.Repeat(shortQuery+";\n", 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Split(sql); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTreeParse measures the TiDB parser alone on the lowered queries:
// the floor under BenchmarkAnalyze.
func BenchmarkTreeParse(b *testing.B) {
	for _, bc := range []struct{ name, sql string }{{"short", shortQuery}, {"analytical", analyticalQuery()}} {
		b.Run(bc.name, func(b *testing.B) {
			toks, err := Lex(bc.sql)
			if err != nil {
				b.Fatal(err)
			}
			r := classify(toks, bc.sql, Env{Database: "D", Schema: "S"}, 0)
			lw, err := lower(r.queries[0])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseTree(lw.sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAnalyzePhases measures each step of Analyze on its own, on the
// queries of BenchmarkAnalyze, so that a profile's shares can be read as
// times: split (the lexer and the statement split), classify (the
// lexer-level reading), derive (the columns a write carries), lower (onto
// the TiDB grammar), parse (TiDB's parser on the lowered text, the floor of
// BenchmarkTreeParse) and walk (the lineage over the parsed tree). What
// Analyze takes beyond their sum is the cross-check, the model's assembly,
// the fingerprint and the estimate's reading:
//
//	go test ./proxy/statement -run '^$' -bench 'Analyze(Phases)?/' -benchmem
func BenchmarkAnalyzePhases(b *testing.B) {
	ctx := context.Background()
	cat := mapCatalog{"ANALYTICS.PUBLIC.CUSTOMERS": {"ID", "EMAIL", "SSN"}}
	env := Env{Database: "ANALYTICS", Schema: "PUBLIC", Catalog: cat}
	for _, bc := range []struct{ name, sql string }{{"short", shortQuery}, {"analytical", analyticalQuery()}} {
		pieces, err := splitPieces(bc.sql)
		if err != nil || len(pieces) != 1 {
			b.Fatalf("%s: %d pieces, %v", bc.name, len(pieces), err)
		}
		toks := pieces[0].toks
		r := classify(toks, bc.sql, env, 0)
		if len(r.queries) != 1 {
			b.Fatalf("%s: %d queries", bc.name, len(r.queries))
		}
		lw, err := lower(r.queries[0])
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := parseTree(lw.sql)
		if err != nil {
			b.Fatal(err)
		}
		for _, ph := range []struct {
			name string
			run  func()
		}{
			{"split", func() {
				if _, err := splitPieces(bc.sql); err != nil {
					b.Fatal(err)
				}
			}},
			{"classify", func() { classify(toks, bc.sql, env, 0) }},
			{"derive", func() { derivations(ctx, toks, r, env) }},
			{"lower", func() {
				if _, err := lower(r.queries[0]); err != nil {
					b.Fatal(err)
				}
			}},
			{"parse", func() {
				if _, err := parseTree(lw.sql); err != nil {
					b.Fatal(err)
				}
			}},
			{"walk", func() {
				w := &walker{ctx: ctx, env: env, lw: lw}
				if outs := w.query(stmt, nil); len(outs) == 0 || len(w.problems) > 0 {
					b.Fatalf("walk: %d outputs, %q", len(outs), w.problems)
				}
			}},
		} {
			b.Run(bc.name+"/"+ph.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ph.run()
				}
			})
		}
	}
}
