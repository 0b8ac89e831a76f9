package statement

import (
	"context"
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
	ctx      context.Context
	env      Env
	lw       *lowered
	read     []Column
	filtered []Column
	grouped  []Column
	tables   []Object // base tables the tree reads
	star     bool
	problems []string
	catalog  map[string][]string
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
		return w.setOpr(q.SelectList, sc)
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
	for k, s := range l.Selects {
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
	return outs
}

// mergeCol combines the same output position of two set-operation branches.
func mergeCol(a, b relCol) relCol {
	a.sources = addColumns(append([]Column(nil), a.sources...), b.sources...)
	a.traced = a.traced && b.traced
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
						w.grouped = addColumns(w.grouped, o.sources...)
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
			w.grouped = addColumns(w.grouped, o.sources...)
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
			w.grouped = addColumns(w.grouped, outs[p.N-1].sources...)
		}
		return
	}
	if v, ok := e.(*test_driver.ValueExpr); ok {
		if n, ok := v.GetValue().(int64); ok && n >= 1 && int(n) <= len(outs) {
			w.grouped = addColumns(w.grouped, outs[n-1].sources...)
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

// from reads a FROM tree into sc's relations.
func (w *walker) from(n ast.ResultSetNode, sc *scope) {
	switch x := n.(type) {
	case *ast.Join:
		w.from(x.Left, sc)
		leftN := len(sc.rels)
		if x.Right != nil {
			w.from(x.Right, sc)
		}
		if x.On != nil {
			w.expr(x.On.Expr, sc, roleFilter)
		}
		for _, u := range x.Using {
			name := decodeName(u.Name.O)
			for _, r := range sc.rels {
				if c, ok := w.relColumn(r, name); ok {
					w.read = addColumns(w.read, c.sources...)
					w.filtered = addColumns(w.filtered, c.sources...)
				}
			}
			for _, r := range sc.rels[leftN:] {
				if r.noStar == nil {
					r.noStar = map[string]bool{}
				}
				r.noStar[name] = true
			}
		}
		if x.NaturalJoin {
			w.natural(sc.rels[:leftN], sc.rels[leftN:])
		}
	case *ast.TableSource:
		w.tableSource(x, sc)
	default:
		w.problems = append(w.problems, "unsupported FROM item")
	}
}

// natural marks the common columns of a NATURAL join as join columns.
func (w *walker) natural(left, right []*relation) {
	for _, r := range right {
		if !r.known {
			w.problems = append(w.problems, "NATURAL JOIN over a table whose columns are unknown")
			continue
		}
		for _, c := range r.cols {
			for _, l := range left {
				if lc, ok := w.relColumn(l, c.name); ok && l.known {
					w.filtered = addColumns(w.filtered, lc.sources...)
					w.filtered = addColumns(w.filtered, c.sources...)
					if r.noStar == nil {
						r.noStar = map[string]bool{}
					}
					r.noStar[c.name] = true
				}
			}
		}
	}
}

func (w *walker) tableSource(ts *ast.TableSource, sc *scope) {
	alias := decodeName(ts.AsName.O)
	switch src := ts.Source.(type) {
	case *ast.TableName:
		r := w.tableName(src, sc)
		if alias != "" {
			r.alias = alias
		}
		sc.rels = append(sc.rels, r)
	case *ast.SelectStmt, *ast.SetOprStmt:
		// a derived table sees the relations before it (LATERAL, FLATTEN)
		outs := w.query(src, sc)
		r := &relation{alias: alias, cols: outs, known: true}
		if tf, ok := w.lw.funcs[ts.AsName.O]; ok {
			r = w.funcRelation(alias, tf, outs)
		}
		sc.rels = append(sc.rels, r)
	default:
		w.problems = append(w.problems, "unsupported table source")
	}
}

// flattenColumns are the columns FLATTEN returns.
var flattenColumns = []string{"SEQ", "KEY", "PATH", "INDEX", "VALUE", "THIS"}

// funcRelation builds the relation of a lowered table function: all its
// columns derive from its arguments.
func (w *walker) funcRelation(alias string, tf tableFunc, args []relCol) *relation {
	r := &relation{alias: alias, fn: true}
	traced := true
	for _, a := range args {
		r.fnSrc = addColumns(r.fnSrc, a.sources...)
		traced = traced && a.traced
	}
	switch tf.name {
	case "RESULT_SCAN":
		r.untraced = true
		return r
	case "FLATTEN":
		r.known = true
		for i, n := range flattenColumns {
			if i < len(tf.columns) {
				n = tf.columns[i]
			}
			r.cols = append(r.cols, relCol{name: n, sources: r.fnSrc, transform: TransformExpression, traced: traced})
		}
	default:
		for _, n := range tf.columns {
			r.cols = append(r.cols, relCol{name: n, sources: r.fnSrc, transform: TransformExpression, traced: traced})
		}
		r.known = len(tf.columns) > 0
	}
	if !traced {
		r.untraced = true
	}
	return r
}

// tableName resolves a table in FROM: a CTE, a registered three-part name
// or stage, or a base table.
func (w *walker) tableName(tn *ast.TableName, sc *scope) *relation {
	name := tn.Name.O
	var parts []string
	if strings.HasPrefix(name, "#") {
		k, err := strconv.Atoi(name[1:])
		if err != nil || k >= len(w.lw.tables) {
			w.problems = append(w.problems, "bad generated table name")
			return &relation{untraced: true}
		}
		lt := w.lw.tables[k]
		if lt.stage != nil {
			return &relation{alias: "#s" + name[1:], stage: true, base: &Column{Database: lt.stage.Database, Schema: lt.stage.Schema, Table: "@" + lt.stage.Name}}
		}
		parts = lt.name.parts
	} else {
		if tn.Schema.O != "" {
			parts = append(parts, decodeName(tn.Schema.O))
		}
		parts = append(parts, decodeName(name))
	}
	if len(parts) == 1 {
		if c := sc.cte(parts[0]); c != nil {
			cp := *c
			cp.alias = parts[0]
			return &cp
		}
	}
	o := qname{parts: parts}.object("table", AccessRead, w.env)
	w.tables = addObject(w.tables, o)
	r := &relation{alias: o.Name, qual: []string{o.Database, o.Schema, o.Name},
		base: &Column{Database: o.Database, Schema: o.Schema, Table: o.Name}}
	if cols := w.columnsOf(o); cols != nil {
		r.known = true
		for _, c := range cols {
			r.cols = append(r.cols, relCol{name: c, sources: []Column{{Database: o.Database, Schema: o.Schema, Table: o.Name, Name: c}}, transform: TransformCopy, traced: true})
		}
	}
	return r
}

// columnsOf asks the catalog for a base table's columns.
func (w *walker) columnsOf(o Object) []string {
	if w.env.Catalog == nil {
		return nil
	}
	key := o.Database + "\x00" + o.Schema + "\x00" + o.Name
	if cols, ok := w.catalog[key]; ok {
		return cols
	}
	cols, err := w.env.Catalog.Columns(w.ctx, o.Database, o.Schema, o.Name)
	if err != nil {
		cols = nil
	}
	if w.catalog == nil {
		w.catalog = map[string][]string{}
	}
	w.catalog[key] = cols
	return cols
}

// relColumn finds a column of a relation.
func (w *walker) relColumn(r *relation, name string) (relCol, bool) {
	if r.untraced {
		return relCol{name: name, transform: TransformExpression}, true
	}
	if r.known {
		for _, c := range r.cols {
			if c.name == name {
				return c, true
			}
		}
		return relCol{}, false
	}
	if r.fn {
		return relCol{name: name, sources: r.fnSrc, transform: TransformExpression, traced: true}, true
	}
	if r.base != nil {
		c := *r.base
		c.Name = name
		return relCol{name: name, sources: []Column{c}, transform: TransformCopy, traced: true}, true
	}
	return relCol{}, false
}

// expandStar expands '*' or 't.*' with its EXCLUDE/RENAME/REPLACE.
func (w *walker) expandStar(f *ast.SelectField, sc *scope) []relCol {
	var rels []*relation
	if f.WildCard.Table.O != "" {
		q := decodeName(f.WildCard.Table.O)
		for _, r := range sc.rels {
			if r.alias == q {
				rels = append(rels, r)
			}
		}
		if len(rels) == 0 {
			w.problems = append(w.problems, "unknown table in "+q+".*")
		}
	} else {
		rels = sc.rels
	}
	mod := w.lw.stars[f.Offset]
	var outs []relCol
	for _, r := range rels {
		switch {
		case r.known && !r.untraced:
			for _, c := range r.cols {
				if c.hidden || r.noStar[c.name] {
					continue
				}
				outs = append(outs, c)
			}
		default:
			var src []Column
			if r.base != nil {
				c := *r.base
				c.Name = "*"
				src = []Column{c}
			}
			src = addColumns(src, r.fnSrc...)
			outs = append(outs, relCol{name: "*", sources: src, transform: TransformCopy, traced: false})
		}
	}
	for _, o := range outs {
		w.read = addColumns(w.read, o.sources...)
	}
	if mod == nil {
		return outs
	}
	kept := outs[:0:0]
	for _, o := range outs {
		switch {
		case mod.exclude[o.name]:
			continue
		case mod.rename[o.name] != "":
			o.name = mod.rename[o.name]
		case mod.replace[o.name] != "":
			o.name = "\x00replace:" + mod.replace[o.name] + "\x00" + o.name
		}
		kept = append(kept, o)
	}
	return kept
}

// resolve finds what a column reference names, searching the scopes
// outwards (correlated subqueries), then the current SELECT's aliases.
func (w *walker) resolve(cn *ast.ColumnName, sc *scope) (relCol, bool) {
	name := decodeName(cn.Name.O)
	positional := strings.HasPrefix(cn.Name.O, "$") // raw: "$1", never a real name
	table := cn.Table.O
	var qual []string
	if strings.HasPrefix(table, "#") {
		if k, err := strconv.Atoi(table[1:]); err == nil && k < len(w.lw.tables) {
			o := w.lw.tables[k].name.object("table", AccessRead, w.env)
			qual = []string{o.Database, o.Schema, o.Name}
		}
		table = ""
	} else {
		table = decodeName(table)
	}
	schema := decodeName(cn.Schema.O)
	for s := sc; s != nil; s = s.parent {
		if qual != nil || table != "" {
			for _, r := range s.rels {
				if !matchRel(r, qual, schema, table) {
					continue
				}
				if c, ok := w.relColumn(r, name); ok {
					return c, true
				}
			}
			continue
		}
		if positional && len(s.rels) == 1 {
			r := s.rels[0]
			if r.stage || !r.known {
				c, ok := w.relColumn(r, name)
				return c, ok
			}
			if n, err := strconv.Atoi(name[1:]); err == nil && n >= 1 && n <= len(r.cols) {
				return r.cols[n-1], true
			}
		}
		var found []relCol
		var unknown []*relation
		for _, r := range s.rels {
			if r.known && !r.untraced {
				if c, ok := w.relColumn(r, name); ok {
					found = append(found, c)
				}
			} else {
				unknown = append(unknown, r)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], true
		case len(found) > 1:
			return relCol{name: name, transform: TransformExpression}, true
		}
		for _, o := range s.outs {
			if o.name == name && !o.hidden {
				return o, true
			}
		}
		switch len(unknown) {
		case 0:
			continue
		case 1:
			return w.relColumn(unknown[0], name)
		default:
			return relCol{name: name, transform: TransformExpression}, true
		}
	}
	return relCol{}, false
}

func matchRel(r *relation, qual []string, schema, table string) bool {
	if qual != nil {
		return len(r.qual) == 3 && r.qual[0] == qual[0] && r.qual[1] == qual[1] && r.qual[2] == qual[2]
	}
	if r.alias != table {
		return false
	}
	if schema != "" {
		return len(r.qual) == 3 && r.qual[1] == schema
	}
	return true
}
