package bench

import (
	"context"
	"embed"
	"fmt"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // the parser's value expressions

	"github.com/snowgate/snowgate/proxy/statement"
)

// The queries of proxy/statement's BenchmarkAnalyze, and the TiDB SQL the
// analyser lowers each to before it parses it (what BenchmarkTreeParse
// parses).
//
//go:embed testdata/short.sql testdata/short.lowered.sql testdata/analytical.sql testdata/analytical.lowered.sql
var queries embed.FS

// analysisCatalog expands '*' the way BenchmarkAnalyze's catalog does.
type analysisCatalog map[string][]string

func (c analysisCatalog) Columns(_ context.Context, d, s, t string) ([]string, error) {
	return c[d+"."+s+"."+t], nil
}

var analysisEnv = statement.Env{Database: "ANALYTICS", Schema: "PUBLIC",
	Catalog: analysisCatalog{"ANALYTICS.PUBLIC.CUSTOMERS": {"ID", "EMAIL", "SSN"}}}

// analysisQuery is one query, as sent and as lowered.
type analysisQuery struct {
	name, what   string
	sql, lowered string
}

func readQuery(name, what string) (analysisQuery, error) {
	q := analysisQuery{name: name, what: what}
	for _, f := range []struct {
		file string
		into *string
	}{{name + ".sql", &q.sql}, {name + ".lowered.sql", &q.lowered}} {
		b, err := queries.ReadFile("testdata/" + f.file)
		if err != nil {
			return q, fmt.Errorf("query %s: %w", f.file, err)
		}
		*f.into = strings.TrimSpace(string(b))
	}
	return q, nil
}

// analysis measures statement.Analyze next to TiDB's bare parse of the
// same query lowered, on a short and a long analytical query.
func (r *runner) analysis(ctx context.Context) ([]Row, error) {
	var rows []Row
	for _, n := range []struct{ name, what string }{{"short", "short query"}, {"analytical", "analytical query (CTEs, FLATTEN, windows, QUALIFY)"}} {
		q, err := readQuery(n.name, n.what)
		if err != nil {
			return nil, err
		}
		row, err := r.analyseQuery(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s query: %w", n.name, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (r *runner) analyseQuery(ctx context.Context, q analysisQuery) (Row, error) {
	analyse := func() error { return analyseComplete(ctx, q.sql) }
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
	parse := func() error {
		if _, err := p.ParseOneStmt(q.lowered, "", ""); err != nil {
			return fmt.Errorf("TiDB parse: %w", err)
		}
		return nil
	}
	aT, aA, err := timeAndAllocs(r.cfg.Time/2, analyse)
	if err != nil {
		return Row{}, err
	}
	pT, pA, err := timeAndAllocs(r.cfg.Time/2, parse)
	if err != nil {
		return Row{}, err
	}
	xt, err := ratio(aT, pT)
	if err != nil {
		return Row{}, err
	}
	xa, err := ratio(aA, pA)
	if err != nil {
		return Row{}, err
	}
	return Row{
		Name:     "analysis",
		What:     fmt.Sprintf("statement analysis, %s of %s: per statement", q.what, fmtBytes(float64(len(q.sql)))),
		Snowgate: fmt.Sprintf("statement.Analyze: %s µs, %s allocs", fmtMicros(aT), fmtCount(aA)),
		Baseline: fmt.Sprintf("TiDB parser alone: %s µs, %s allocs", fmtMicros(pT), fmtCount(pA)),
		Ratio:    fmt.Sprintf("%s time, %s allocs (Analyze ÷ parse)", fmtRatio(xt), fmtRatio(xa)),
		Note:     fmt.Sprintf("the parser reads the %s of TiDB SQL Analyze lowers the query to, as BenchmarkTreeParse does", fmtBytes(float64(len(q.lowered)))),
		Figures:  []float64{aT, aA, pT, pA, xt, xa},
	}, nil
}

// analyseComplete analyses sql and fails unless it was read completely.
func analyseComplete(ctx context.Context, sql string) error {
	sts, err := statement.Analyze(ctx, sql, analysisEnv)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if len(sts) != 1 {
		return fmt.Errorf("analyze: %d statements, want 1", len(sts))
	}
	if !sts[0].Parse.Complete {
		return fmt.Errorf("analyze: query not fully analysed: %s", sts[0].Parse.Error)
	}
	return nil
}

// timeAndAllocs is op's mean time in ns over d and its allocations per run.
func timeAndAllocs(d time.Duration, op func() error) (float64, float64, error) {
	allocs, err := allocsPerOp(100, op)
	if err != nil {
		return 0, 0, err
	}
	t, err := perOp(d, op)
	if err != nil {
		return 0, 0, err
	}
	return float64(t.Nanoseconds()), allocs, nil
}
