package statement

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Row filters: the policy may confine what a statement reads of a table to
// the rows a predicate admits. FilterRows rewrites the statement's text so
// that every read of a filtered table — in any FROM, JOIN, USING, subquery,
// CTE body or set operation — reads
//
//	(SELECT * FROM <table and its clauses> WHERE <predicate>) AS <alias>
//
// and an UPDATE, DELETE or MERGE of a filtered table touches only the rows
// the predicate admits. Where it cannot place a filter with certainty, it
// fails: the caller must refuse the statement.

// RowFilter is one table's predicate, as the policy wrote it.
type RowFilter struct {
	Table     Object // the table; Database, Schema and Name are set
	Predicate string
}

// ParseRowFilters reads a decision's row filters: a table name
// ("DB.SCHEMA.TABLE", quoted parts as in SQL) to a SQL predicate.
func ParseRowFilters(m map[string]string, env Env) ([]RowFilter, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]RowFilter, 0, len(m))
	for _, k := range keys {
		q, ok := nameFromText(k)
		if !ok || len(q.parts) != 3 || q.dynamic != "" || slices.Contains(q.parts, "") {
			return nil, fmt.Errorf("row filter for %q: not a table's three-part name", k)
		}
		if err := checkPredicate(m[k]); err != nil {
			return nil, fmt.Errorf("row filter for %s: %w", k, err)
		}
		out = append(out, RowFilter{Table: q.object("table", AccessRead, env), Predicate: m[k]})
	}
	return out, nil
}

// checkPredicate accepts a predicate that stays one expression once put in
// brackets: it lexes, holds no comment (which could swallow the closing
// bracket), no statement separator and no unbalanced bracket.
func checkPredicate(p string) error {
	toks, err := Lex(p)
	if err != nil {
		return fmt.Errorf("predicate does not lex: %w", err)
	}
	if len(toks) == 0 {
		return fmt.Errorf("empty predicate")
	}
	gap := func(s string) bool { return strings.TrimSpace(s) == "" }
	if !gap(p[:toks[0].Pos]) || !gap(p[toks[len(toks)-1].End:]) {
		return fmt.Errorf("predicate holds a comment")
	}
	depth := 0
	for i, t := range toks {
		if i > 0 && !gap(p[toks[i-1].End:t.Pos]) {
			return fmt.Errorf("predicate holds a comment")
		}
		switch {
		case t.Kind == TokIllegal:
			return fmt.Errorf("predicate holds %q", t.Value)
		case t.isOp(";"):
			return fmt.Errorf("predicate holds a ';'")
		case t.isOp("(") || t.isOp("[") || t.isOp("{"):
			depth++
		case t.isOp(")") || t.isOp("]") || t.isOp("}"):
			depth--
			if depth < 0 {
				return fmt.Errorf("predicate closes a bracket it did not open")
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("predicate leaves a bracket open")
	}
	return nil
}

// rowKinds are the statements whose reads FilterRows can confine, with the
// accesses to a filtered table each may have. Any other statement that
// touches a filtered table is refused: it would see or change rows the
// filter hides (a CLONE, COPY, TRUNCATE, DROP, ALTER ... RENAME, an INSERT
// OVERWRITE).
var rowKinds = map[Kind][]Access{
	KindSelect:  {AccessRead},
	KindExplain: {AccessRead},
	KindSet:     {AccessRead},
	KindCreate:  {AccessRead}, // CREATE TABLE or VIEW ... AS a query
	KindInsert:  {AccessRead, AccessWrite},
	KindUpdate:  {AccessRead, AccessWrite},
	KindDelete:  {AccessRead, AccessDelete},
	KindMerge:   {AccessRead, AccessWrite, AccessDelete},
}

// tableFunctions are the built-in table functions whose rows come from
// their arguments (or, for RESULT_SCAN, from a result the analysis traces).
var tableFunctions = map[string]bool{
	"RESULT_SCAN": true, "FLATTEN": true, "GENERATOR": true, "SPLIT_TO_TABLE": true, "STRTOK_SPLIT_TO_TABLE": true,
}

// opaqueKinds run statements the gateway does not see: their reads cannot
// be filtered, whatever objects they name.
var opaqueKinds = map[Kind]bool{
	KindCall: true, KindExecuteImmediate: true, KindScripting: true, KindUnknown: true,
}

// FilterRows applies filters to stmt, the analysis of one statement read
// against env, and returns the analysis of the rewritten text: what must
// run in its place. The rewritten text is read again, and it must read
// the same way; every reference to a filtered table its syntax tree holds
// must be one FilterRows placed a filter on.
func FilterRows(ctx context.Context, stmt Statement, env Env, filters []RowFilter) (Statement, error) {
	if len(filters) == 0 {
		return stmt, nil
	}
	if opaqueKinds[stmt.Kind] || stmt.Flags.Scripting || stmt.Flags.DynamicSQL {
		return Statement{}, fmt.Errorf("row filters apply, and what a %s statement reads cannot be seen", stmt.Kind)
	}
	if !stmt.Parse.Complete {
		return Statement{}, fmt.Errorf("row filters apply, and the statement could not be read fully enough to place them")
	}
	for _, f := range stmt.Functions {
		if !knownFunction(f) && !tableFunctions[f] && !strings.HasPrefix(f, "SYSTEM$") {
			return Statement{}, fmt.Errorf("row filters apply, and %s is not a built-in function: it may read a filtered table", f)
		}
	}
	if stmt.Flags.UntracedSource {
		return Statement{}, fmt.Errorf("row filters apply, and the statement reads data whose source cannot be traced (RESULT_SCAN of a result the gateway cannot place, a stage, a variable, query history): it may hold a filtered table's rows")
	}
	for _, o := range stmt.Objects {
		f := matchFilter(o, filters)
		if f == nil {
			continue
		}
		if !slices.Contains(rowKinds[stmt.Kind], o.Access) || stmt.Flags.Clone && o.Access == AccessRead {
			return Statement{}, fmt.Errorf("row filter on %s: this %s statement %s it, and cannot be confined to the rows the filter admits", name(f.Table), stmt.Kind, accessVerb(o.Access))
		}
	}
	toks, err := Lex(stmt.SQL)
	if err != nil {
		return Statement{}, err
	}
	rw := rewriter{src: stmt.SQL, placed: map[*RowFilter]int{}}
	segs := pipeSegments(toks)
	if segs == nil {
		segs = [][]Token{toks}
	}
	for _, seg := range segs {
		if err := rw.segment(seg, env, filters); err != nil {
			return Statement{}, err
		}
	}
	// A filtered table the statement reads without a reference that could
	// carry the filter: through an earlier result (RESULT_SCAN), or in a
	// form such as CREATE TABLE ... LIKE or EXPLAIN.
	for _, o := range stmt.Objects {
		if f := matchFilter(o, filters); f != nil && o.Access == AccessRead && rw.placed[f] == 0 {
			if len(stmt.ResultScans) > 0 {
				return Statement{}, fmt.Errorf("row filter on %s: the statement reads its rows through an earlier result (RESULT_SCAN), which the filter cannot reach; read the table again", name(f.Table))
			}
			return Statement{}, fmt.Errorf("row filter on %s: this %s statement reads it where no filter can be placed", name(f.Table), stmt.Kind)
		}
	}
	if len(rw.edits) == 0 {
		return stmt, nil // no filtered table is touched
	}
	again, err := Analyze(ctx, rw.apply(), env)
	if err != nil || len(again) != 1 {
		return Statement{}, fmt.Errorf("row filters: the rewritten statement could not be read again (%v)", err)
	}
	out := again[0]
	if !out.Parse.Complete || out.Kind != stmt.Kind {
		return Statement{}, fmt.Errorf("row filters: the rewritten statement does not read as the original (%s)", out.Parse.Error)
	}
	for i := range filters {
		f := &filters[i]
		n := 0
		for _, o := range out.tableReads {
			if matchFilter(o, filters) == f {
				n++
			}
		}
		if n != rw.placed[f] {
			return Statement{}, fmt.Errorf("row filter on %s: the statement reads it in %d places, and a filter could be placed on %d", name(f.Table), n, rw.placed[f])
		}
	}
	out.Index, out.Count = stmt.Index, stmt.Count
	return out, nil
}

// matchFilter returns the filter that may apply to o: a name part the
// analysis could not resolve matches any, and names compare without case
// (a filter applied to a table it does not name only narrows further).
func matchFilter(o Object, filters []RowFilter) *RowFilter {
	if o.Type != "table" && o.Type != "view" {
		return nil
	}
	part := func(a, b string) bool { return a == "" || strings.EqualFold(a, b) }
	for i, f := range filters {
		if strings.EqualFold(o.Name, f.Table.Name) && part(o.Schema, f.Table.Schema) && part(o.Database, f.Table.Database) {
			return &filters[i]
		}
	}
	return nil
}

func name(o Object) string { return o.Database + "." + o.Schema + "." + o.Name }

func accessVerb(a Access) string {
	switch a {
	case AccessRead:
		return "reads"
	case AccessWrite:
		return "writes"
	case AccessDelete:
		return "removes rows of"
	}
	return string(a) + "s"
}

// edit replaces src[at:end] with text.
type edit struct {
	at, end int
	text    string
}

type rewriter struct {
	src    string
	edits  []edit
	placed map[*RowFilter]int // references of the syntax tree each filter covers
}

func (rw *rewriter) apply() string {
	sort.SliceStable(rw.edits, func(i, j int) bool { return rw.edits[i].at < rw.edits[j].at })
	var b strings.Builder
	last := 0
	for _, e := range rw.edits {
		b.WriteString(rw.src[last:e.at])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(rw.src[last:])
	return b.String()
}

// segment rewrites one statement (or one segment of a ->> pipe).
func (rw *rewriter) segment(toks []Token, env Env, filters []RowFilter) error {
	c := newClassifier(toks, rw.src, env, 0)
	if len(toks) == 0 {
		return nil
	}
	c.dispatch()
	c.collectCTEs()
	for cte := range c.ctes {
		for _, f := range filters {
			if strings.EqualFold(cte, f.Table.Name) {
				return fmt.Errorf("row filter on %s: a CTE named %s hides which reads are of the table; rename the CTE", name(f.Table), cte)
			}
		}
	}
	at := make([]int, 0, len(c.refs))
	for i := range c.refs {
		at = append(at, i)
	}
	sort.Ints(at)
	for _, i := range at {
		if err := rw.ref(toks, i, c.refs[i], env, filters); err != nil {
			return err
		}
	}
	return rw.target(toks, env, filters)
}

// ref wraps the table reference at toks[i] in a filtered derived table.
func (rw *rewriter) ref(toks []Token, i int, ref tableRef, env Env, filters []RowFilter) error {
	if ref.fn || ref.result || ref.stage != nil {
		return nil
	}
	if ref.name.dynamic != "" {
		return fmt.Errorf("row filters apply, and a table named by %s may be a filtered one", ref.name.dynamic)
	}
	f := matchFilter(ref.name.object("table", AccessRead, env), filters)
	if f == nil {
		return nil
	}
	end := tableClauses(toks, ref.end, func(string) {}) // they belong inside the filtered derived table
	from, to := toks[i].Pos, toks[end-1].End
	alias := ""
	switch n := peekTok(toks, end); {
	case n.is("AS"), n.Kind == TokQuotedIdent, n.Kind == TokIdent && !structural[n.Value]:
		// the reference's own alias follows
	case n.is("PIVOT"), n.is("UNPIVOT"), n.is("MATCH_RECOGNIZE"):
		// these name their own result
	default:
		last := ref.name.parts[len(ref.name.parts)-1]
		if toks[ref.end-1].Kind == TokIdent || toks[ref.end-1].Kind == TokQuotedIdent {
			alias = " AS " + toks[ref.end-1].Text(rw.src)
		} else {
			alias = " AS " + quoteIdent(last)
		}
	}
	rw.edits = append(rw.edits, edit{from, to, "(SELECT * FROM " + rw.src[from:to] + " WHERE (" + f.Predicate + "))" + alias})
	rw.placed[f]++
	return nil
}

func peekTok(toks []Token, i int) Token {
	if i < len(toks) {
		return toks[i]
	}
	return Token{}
}

func quoteIdent(v string) string { return `"` + strings.ReplaceAll(v, `"`, `""`) + `"` }

// target confines an UPDATE, DELETE or MERGE of a filtered table to the
// rows the filter admits.
func (rw *rewriter) target(toks []Token, env Env, filters []RowFilter) error {
	v := mainVerb(toks, 0)
	if v >= len(toks) {
		return nil
	}
	var at int
	switch {
	case toks[v].is("UPDATE"):
		at = v + 1
	case toks[v].is("DELETE"):
		at = v + 1
		if peekTok(toks, at).is("FROM") {
			at++
		}
	case toks[v].is("MERGE"):
		at = v + 2
	default:
		return nil
	}
	q, _, ok := parseName(toks, at)
	if !ok {
		return fmt.Errorf("row filters apply, and the statement's target could not be read")
	}
	if q.dynamic != "" {
		return fmt.Errorf("row filters apply, and a target named by %s may be a filtered table", q.dynamic)
	}
	f := matchFilter(q.object("table", AccessWrite, env), filters)
	if f == nil {
		return nil
	}
	pred := "(" + f.Predicate + ")"
	last := toks[len(toks)-1].End
	rw.placed[f]++ // the tree reads UPDATE and DELETE as the SELECT of the rows they change
	if !toks[v].is("MERGE") {
		if w := topLevel(toks, v, "WHERE"); w < len(toks) {
			rw.edits = append(rw.edits, edit{toks[w].End, toks[w].End, " ("}, edit{last, last, ") AND " + pred})
		} else {
			rw.edits = append(rw.edits, edit{last, last, " WHERE " + pred})
		}
		return nil
	}
	// MERGE: every WHEN MATCHED gets the predicate; WHEN NOT MATCHED
	// would tell, by whether it inserts, which hidden rows match.
	depth := 0
	for k := v; k < len(toks); k++ {
		t := toks[k]
		switch {
		case t.isOp("("):
			depth++
		case t.isOp(")"):
			depth--
		case depth == 0 && t.is("WHEN"):
			if peekTok(toks, k+1).is("NOT") {
				return fmt.Errorf("row filter on %s: MERGE ... WHEN NOT MATCHED would reveal rows the filter hides", name(f.Table))
			}
			if !peekTok(toks, k+1).is("MATCHED") {
				return fmt.Errorf("row filter on %s: MERGE clause not understood", name(f.Table))
			}
			then := -1
			for d, m := 0, k+2; m < len(toks); m++ {
				switch {
				case toks[m].isOp("("):
					d++
				case toks[m].isOp(")"):
					d--
				case d == 0 && toks[m].is("THEN"):
					then = m
				}
				if then >= 0 {
					break
				}
			}
			if then < 0 {
				return fmt.Errorf("row filter on %s: MERGE clause without THEN", name(f.Table))
			}
			if toks[k+2].is("AND") {
				rw.edits = append(rw.edits, edit{toks[k+2].End, toks[k+2].End, " " + pred + " AND ("}, edit{toks[then-1].End, toks[then-1].End, ")"})
			} else {
				rw.edits = append(rw.edits, edit{toks[k+1].End, toks[k+1].End, " AND " + pred})
			}
			k = then
		}
	}
	return nil
}

// Covers reports whether f may apply to o (matchFilter).
func (f RowFilter) Covers(o Object) bool { return matchFilter(o, []RowFilter{f}) != nil }
