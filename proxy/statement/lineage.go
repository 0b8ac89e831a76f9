package statement

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// relCol is one column of a relation, with its lineage.
type relCol struct {
	name      string
	sources   []Column
	transform Transform
	traced    bool
	hidden    bool // a REPLACE helper field, not an output
	mayFail   bool // computed by something that can raise an error (fallible.go)
}

// relation is a FROM item as the enclosing query sees it.
type relation struct {
	alias    string   // the name columns are qualified with
	qual     []string // database, schema, table of a base table
	cols     []relCol // known columns; nil when unknown
	known    bool     // cols is the complete list
	base     *Column  // base table: any column X is base with Name X
	stage    bool
	fn       bool     // table function: every column derives from fnSrc
	fnSrc    []Column // sources of a table function's arguments
	untraced bool     // RESULT_SCAN and the like
	noStar   map[string]bool
}

// scope is the set of relations visible to expressions, with CTEs.
type scope struct {
	rels   []*relation
	ctes   map[string]*relation
	parent *scope
	outs   []relCol // the current SELECT's outputs, for alias references
}

func (s *scope) cte(name string) *relation {
	for ; s != nil; s = s.parent {
		if r, ok := s.ctes[name]; ok {
			return r
		}
	}
	return nil
}

// walker builds lineage from the syntax tree of a lowered query.
type walker struct {
	ctx       context.Context
	env       Env
	lw        *lowered
	read      colSet
	filtered  colSet
	grouped   colSet
	tables    []Object // base tables the tree reads
	reads     []Object // every reference to a base table, as often as it occurs
	readAt    map[*ast.TableName]bool
	seenTable map[string]bool
	star      bool
	problems  []string
	catalog   map[string][]string
	opaque    bool // something read has no traceable source
	scans     []ResultScan
	inherited []Object // tables inherited results came from
}

// colSet is an insertion-ordered set of columns that stays linear however
// many columns a statement names.
type colSet struct {
	list []Column
	idx  map[Column]struct{}
}

func (s *colSet) add(cs ...Column) {
	for _, c := range cs {
		if s.idx == nil && len(s.list) >= 16 {
			s.idx = make(map[Column]struct{}, 2*len(s.list))
			for _, x := range s.list {
				s.idx[x] = struct{}{}
			}
		}
		if s.idx != nil {
			if _, ok := s.idx[c]; ok {
				continue
			}
			s.idx[c] = struct{}{}
		} else if slices.Contains(s.list, c) {
			continue
		}
		if s.list == nil {
			s.list = make([]Column, 0, max(4, len(cs)))
		}
		s.list = append(s.list, c)
	}
}

func addColumns(dst []Column, cs ...Column) []Column {
outer:
	for _, c := range cs {
		for _, d := range dst {
			if d == c {
				continue outer
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// role says where an expression appears.
type role uint8

const (
	roleOutput role = iota
	roleFilter
	roleGroup
)

// query returns the output columns of a query node.
func (w *walker) query(n ast.Node, sc *scope) []relCol {
	switch q := n.(type) {
	case *ast.SelectStmt:
		return w.selectStmt(q, sc)
	case *ast.SetOprStmt:
		if q.With != nil {
			sc = w.with(q.With, sc)
		}
		outs := w.setOpr(q.SelectList, sc)
		if q.OrderBy != nil {
			for _, it := range q.OrderBy.Items {
				w.byItem(it.Expr, outs, &scope{parent: sc, outs: outs}, roleGroup)
			}
		}
		return outs
	case *ast.SetOprSelectList:
		return w.setOpr(q, sc)
	case *ast.SubqueryExpr:
		return w.query(q.Query, sc)
	}
	w.problems = append(w.problems, "unsupported query node")
	return nil
}

func (w *walker) setOpr(l *ast.SetOprSelectList, sc *scope) []relCol {
	if l.With != nil {
		sc = w.with(l.With, sc)
	}
	var outs []relCol
	matching := false // UNION, INTERSECT, EXCEPT/MINUS compare whole rows
	for k, s := range l.Selects {
		if op := afterSetOperator(s); k > 0 && (op == nil || *op != ast.UnionAll) {
			matching = true
		}
		o := w.query(s, sc)
		if k == 0 {
			outs = append(outs, o...)
			continue
		}
		if len(o) != len(outs) {
			w.problems = append(w.problems, "set operation branches differ in width")
			for i := range outs {
				outs[i].traced = false
			}
			continue
		}
		for i := range outs {
			outs[i] = mergeCol(outs[i], o[i])
		}
	}
	if matching {
		for _, o := range outs {
			w.grouped.add(o.sources...)
		}
	}
	return outs
}

func afterSetOperator(n ast.Node) *ast.SetOprType {
	switch x := n.(type) {
	case *ast.SelectStmt:
		return x.AfterSetOperator
	case *ast.SetOprSelectList:
		return x.AfterSetOperator
	}
	return nil
}

// mergeCol combines the same output position of two set-operation branches.
func mergeCol(a, b relCol) relCol {
	a.sources = addColumns(append([]Column(nil), a.sources...), b.sources...)
	a.traced = a.traced && b.traced
	a.mayFail = a.mayFail || b.mayFail
	if a.transform != b.transform {
		if a.transform == TransformAggregate || b.transform == TransformAggregate {
			a.transform = TransformAggregate
		} else {
			a.transform = TransformExpression
		}
	}
	return a
}

// with registers the CTEs of a WITH clause in a new scope.
func (w *walker) with(wc *ast.WithClause, sc *scope) *scope {
	ns := &scope{ctes: map[string]*relation{}, parent: sc}
	for _, cte := range wc.CTEs {
		name := decodeName(cte.Name.O)
		var outs []relCol
		if wc.IsRecursive || cte.IsRecursive {
			// the anchor first, then the whole query with the CTE visible
			if so, ok := cte.Query.Query.(*ast.SetOprStmt); ok && so.SelectList != nil && len(so.SelectList.Selects) > 0 {
				anchor := w.query(so.SelectList.Selects[0], ns)
				ns.ctes[name] = &relation{alias: name, cols: renameCols(anchor, cte.ColNameList), known: true}
			}
		}
		outs = w.query(cte.Query.Query, ns)
		ns.ctes[name] = &relation{alias: name, cols: renameCols(outs, cte.ColNameList), known: true}
	}
	return ns
}

func renameCols(cols []relCol, names []ast.CIStr) []relCol {
	out := make([]relCol, 0, len(cols))
	for i, c := range cols {
		if c.hidden {
			continue
		}
		if i < len(names) {
			c.name = decodeName(names[i].O)
		}
		out = append(out, c)
	}
	return out
}

func (w *walker) selectStmt(s *ast.SelectStmt, sc *scope) []relCol {
	if s.With != nil {
		sc = w.with(s.With, sc)
	}
	if s.Kind != ast.SelectStmtKindSelect {
		w.problems = append(w.problems, "VALUES or TABLE statement")
		return nil
	}
	inner := &scope{parent: sc}
	if s.From != nil && s.From.TableRefs != nil {
		w.from(s.From.TableRefs, inner)
	}
	var outs []relCol
	if s.Fields != nil {
		for k, f := range s.Fields.Fields {
			if f.WildCard != nil {
				w.star = true
				outs = append(outs, w.expandStar(f, inner)...)
				continue
			}
			c := w.expr(f.Expr, inner, roleOutput)
			c.name = w.fieldName(f, s.Fields.Fields, k)
			c.hidden = w.lw.hidden[f.AsName.O] // raw: a generated name, never a real one
			outs = append(outs, c)
		}
	}
	outs = applyReplace(outs)
	inner.outs = outs // WHERE, GROUP BY, HAVING and QUALIFY may name output aliases
	if s.Where != nil {
		w.expr(s.Where, inner, roleFilter)
	}
	if s.GroupBy != nil {
		for _, it := range s.GroupBy.Items {
			if cn, ok := it.Expr.(*ast.ColumnNameExpr); ok && cn.Name.Name.O == "#all" {
				for _, o := range outs {
					if o.transform != TransformAggregate {
						w.grouped.add(o.sources...)
					}
				}
				continue
			}
			w.byItem(it.Expr, outs, inner, roleGroup)
		}
	}
	if s.Having != nil {
		w.expr(s.Having.Expr, inner, roleFilter)
	}
	if s.OrderBy != nil {
		for _, it := range s.OrderBy.Items {
			w.byItem(it.Expr, outs, inner, roleGroup)
		}
	}
	if s.Distinct {
		for _, o := range outs {
			w.grouped.add(o.sources...)
		}
	}
	visible := outs[:0:0]
	for _, o := range outs {
		if !o.hidden {
			visible = append(visible, o)
		}
	}
	return visible
}

// byItem reads a GROUP BY or ORDER BY item: a position, an output alias or
// an expression.
func (w *walker) byItem(e ast.ExprNode, outs []relCol, sc *scope, r role) {
	if p, ok := e.(*ast.PositionExpr); ok {
		if p.N >= 1 && p.N <= len(outs) {
			w.grouped.add(outs[p.N-1].sources...)
		}
		return
	}
	if v, ok := e.(*test_driver.ValueExpr); ok {
		if n, ok := v.GetValue().(int64); ok && n >= 1 && int(n) <= len(outs) {
			w.grouped.add(outs[n-1].sources...)
		}
		return
	}
	w.expr(e, sc, r)
}

// applyReplace substitutes REPLACE helper fields for the columns they
// replace (the star expansion marked them).
func applyReplace(outs []relCol) []relCol {
	byName := map[string]relCol{}
	for _, o := range outs {
		if o.hidden {
			byName[o.name] = o
		}
	}
	if len(byName) == 0 {
		return outs
	}
	for i, o := range outs {
		if strings.HasPrefix(o.name, "\x00replace:") {
			parts := strings.SplitN(o.name[len("\x00replace:"):], "\x00", 2)
			h := byName[parts[0]]
			h.name, h.hidden = parts[1], false
			outs[i] = h
		}
	}
	return outs
}

// fieldName names an output column the way Snowflake does: its alias, the
// column's name, or the expression's text in upper case.
func (w *walker) fieldName(f *ast.SelectField, all []*ast.SelectField, k int) string {
	if f.AsName.O != "" {
		return decodeName(f.AsName.O)
	}
	if cn, ok := f.Expr.(*ast.ColumnNameExpr); ok {
		return decodeName(cn.Name.Name.O)
	}
	if text := w.lw.sourceText(f.Offset, len(f.Text())); text != "" {
		return strings.ToUpper(text)
	}
	return "EXPR" + strconv.Itoa(k+1)
}
