package statement

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// parsers pools TiDB parsers: creating one costs more than parsing a short
// query.
var parsers = sync.Pool{New: func() any {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
	return p
}}

// parseTree parses lowered SQL into one statement.
func parseTree(sql string) (stmt ast.StmtNode, err error) {
	p := parsers.Get().(*parser.Parser)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
			p = parser.New() // do not return a parser in an unknown state
			p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModePipesAsConcat)
		}
		parsers.Put(p)
	}()
	return p.ParseOneStmt(sql, "", "")
}

// readTree is the syntax-tree reading of a statement's queries: it lowers
// each onto the TiDB grammar, walks the tree for lineage, and cross-checks
// the tables it reads against the classifier's objects. It returns why the
// reading failed or disagrees. Statements with no query part (DDL without
// AS SELECT, GRANT, USE, PUT...) have no tree reading: for them the
// classifier's grammar for the form is the only reading.
func readTree(ctx context.Context, st *Statement, r *reading, env Env) []string {
	if len(r.queries) == 0 {
		return nil
	}
	var problems []string
	w := &walker{ctx: ctx, env: env}
	for qi, q := range r.queries {
		lw, err := lower(q)
		if err != nil {
			problems = append(problems, "lowering: "+err.Error())
			continue
		}
		stmt, err := parseTree(lw.sql)
		if err != nil {
			problems = append(problems, treeError(err, lw, q))
			continue
		}
		for _, x := range lw.lossy {
			st.Parse.Rewrites = appendUnique(st.Parse.Rewrites, x)
		}
		w.lw = lw
		switch stmt.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
		default:
			problems = append(problems, fmt.Sprintf("syntax tree reads a %T where the classifier saw a query", stmt))
			continue
		}
		if sel, ok := stmt.(*ast.SelectStmt); ok && q.bounds > 0 && q.bounds <= len(st.Effects) && sel.Where != nil && alwaysTrue(sel.Where) {
			st.Effects[q.bounds-1].Bounded = false
			if qi == 0 {
				st.Where.AlwaysTrue = true
			}
		}
		outs := w.query(stmt, nil)
		fillDerived(st, qi, outs)
		if qi == 0 && st.Kind == KindSelect && len(r.queries) == 1 {
			st.Outputs = outputs(outs)
			topClauses(st, stmt, lw)
		}
	}
	problems = append(problems, w.problems...)
	st.Columns.Read = append(st.Columns.Read, w.read.list...) // deduplicated by the sets
	st.Columns.Filtered = append(st.Columns.Filtered, w.filtered.list...)
	st.Columns.Grouped = append(st.Columns.Grouped, w.grouped.list...)
	st.Star = st.Star || w.star
	st.Flags.UntracedSource = st.Flags.UntracedSource || w.opaque
	for _, s := range w.scans {
		if !slices.ContainsFunc(st.ResultScans, func(x ResultScan) bool { return x.src == s.src && x.Start == s.Start && x.End == s.End }) {
			st.ResultScans = append(st.ResultScans, s)
		}
	}
	problems = append(problems, crossCheck(st, w.tables)...)
	st.tableReads = w.reads
	// Tables an inherited result (RESULT_SCAN) came from are read, through
	// it; added after the cross-check, which compares the two readings of
	// the statement's own text.
	for _, o := range w.inherited {
		if !slices.ContainsFunc(st.Objects, func(x Object) bool { return objectKey(x) == objectKey(o) }) {
			st.Objects = append(st.Objects, o)
		}
	}
	return problems
}

func appendUnique(s []string, x string) []string {
	for _, y := range s {
		if y == x {
			return s
		}
	}
	return append(s, x)
}

// crossCheck compares the base tables the tree reads with the classifier's
// objects. Every table the tree reads must be among the classifier's
// objects; for queries, every table the classifier reads must be in the tree.
func crossCheck(st *Statement, tables []Object) []string {
	var problems []string
	key := func(o Object) string { return o.Database + "\x00" + o.Schema + "\x00" + o.Name }
	classified := map[string]bool{}
	for _, o := range st.Objects {
		if o.Type == "table" || o.Type == "view" {
			classified[key(o)] = true
		}
	}
	inTree := map[string]bool{}
	for _, t := range tables {
		inTree[key(t)] = true
		if !classified[key(t)] {
			problems = append(problems, fmt.Sprintf("the syntax tree reads %s.%s.%s, the classifier does not", t.Database, t.Schema, t.Name))
		}
	}
	if st.Kind == KindSelect {
		for _, o := range st.Objects {
			if o.Type == "table" && o.Access == AccessRead && !inTree[key(o)] {
				problems = append(problems, fmt.Sprintf("the classifier reads %s.%s.%s, the syntax tree does not", o.Database, o.Schema, o.Name))
			}
		}
	}
	return problems
}

// treeError turns a TiDB syntax error into one about the Snowflake text.
func treeError(err error, lw *lowered, q query) string {
	msg := err.Error()
	off := -1
	if k := strings.Index(msg, "column "); k >= 0 {
		rest := msg[k+len("column "):]
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			if col, e := strconv.Atoi(rest[:end]); e == nil {
				off = lw.srcAt(col)
			}
		}
	}
	if off >= 0 && off < len(q.src) {
		near := q.src[off:]
		if len(near) > 30 {
			near = near[:30]
		}
		return fmt.Sprintf("syntax tree: not understood near offset %d %q", off, near)
	}
	return "syntax tree: " + firstLine(msg)
}

func firstLine(s string) string {
	if k := strings.IndexByte(s, '\n'); k >= 0 {
		return s[:k]
	}
	return s
}

// outputs converts relation columns into the model's outputs.
func outputs(cols []relCol) []Output {
	out := make([]Output, 0, len(cols))
	for _, c := range cols {
		src := c.sources
		if src == nil {
			src = []Column{}
		}
		out = append(out, Output{Name: c.name, Sources: src, Transform: c.transform, Traced: c.traced, MayFail: c.mayFail})
	}
	return out
}

// topClauses fills Where and Limit from the outermost query.
func topClauses(st *Statement, stmt ast.StmtNode, lw *lowered) {
	var limit *ast.Limit
	switch s := stmt.(type) {
	case *ast.SelectStmt:
		limit = s.Limit
		if s.Where != nil {
			st.Where.Present = true
			st.Where.AlwaysTrue = alwaysTrue(s.Where)
		}
	case *ast.SetOprStmt:
		limit = s.Limit
	}
	if limit != nil {
		if v, ok := limit.Count.(*test_driver.ValueExpr); ok {
			if n, ok := v.GetValue().(uint64); ok {
				x := int64(n)
				st.Limit = &x
			} else if n, ok := v.GetValue().(int64); ok {
				st.Limit = &n
			}
		}
	}
	if st.Limit == nil && lw.topLimit != nil {
		st.Limit = lw.topLimit
	}
}
