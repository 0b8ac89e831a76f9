package statement

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// FROM items: joins, base tables, CTEs, derived tables and table functions.

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
					w.read.add(c.sources...)
					w.filtered.add(c.sources...)
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
					w.filtered.add(lc.sources...)
					w.filtered.add(c.sources...)
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
		if pv, ok := w.lw.pivots[ts.AsName.O]; ok {
			r = pivotRelation(alias, pv, outs)
		}
		if names, ok := w.lw.renames[ts.AsName.O]; ok && !r.fn {
			cols := make([]relCol, len(r.cols))
			copy(cols, r.cols)
			for i, n := range names {
				if i < len(cols) {
					cols[i].name = n
				}
			}
			r.cols = cols
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
		if rr := w.resultRelation(alias, tf); rr != nil {
			return rr
		}
		r.untraced = true
		w.opaque = true
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
		if !tracedTableFunctions[tf.name] { // history, metadata, user-defined: their rows come from elsewhere
			r.untraced = true
			w.opaque = true
		}
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
			w.opaque = true // staged files: content unknown
			return &relation{alias: "#s" + name[1:], stage: true, untraced: true, base: &Column{Database: lt.stage.Database, Schema: lt.stage.Schema, Table: "@" + lt.stage.Name}}
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
	if !w.readAt[tn] { // a node walked twice (a recursive CTE's body) is one reference
		if w.readAt == nil {
			w.readAt = map[*ast.TableName]bool{}
		}
		w.readAt[tn] = true
		w.reads = append(w.reads, o)
	}
	if k := objectKey(o); !w.seenTable[k] {
		if w.seenTable == nil {
			w.seenTable = map[string]bool{}
		}
		w.seenTable[k] = true
		w.tables = append(w.tables, o)
	}
	r := &relation{alias: o.Name, qual: []string{o.Database, o.Schema, o.Name},
		base: &Column{Database: o.Database, Schema: o.Schema, Table: o.Name}}
	if cols := w.columnsOf(o); cols != nil {
		r.known = true
		// each column's source, sliced from one array; capped, so that an
		// append to one does not write over the next
		srcs := make([]Column, len(cols))
		r.cols = make([]relCol, len(cols))
		for i, c := range cols {
			srcs[i] = Column{Database: o.Database, Schema: o.Schema, Table: o.Name, Name: c}
			r.cols[i] = relCol{name: c, sources: srcs[i : i+1 : i+1], transform: TransformCopy, traced: true}
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

// pivotRelation builds the relation a PIVOT or UNPIVOT produces from the
// columns of its lowered derived table.
func pivotRelation(alias string, pv pivotInfo, outs []relCol) *relation {
	r := &relation{alias: alias, known: true}
	var gen colSet
	traced := true
	var kept []relCol
	for _, o := range outs {
		switch {
		case strings.HasPrefix(o.name, "#"):
			gen.add(o.sources...)
			traced = traced && o.traced
		case pv.drop[o.name]:
		default:
			kept = append(kept, o)
		}
	}
	r.cols = kept
	if pv.unpivot {
		r.cols = append(r.cols,
			relCol{name: pv.added[0], transform: TransformExpression, traced: true},
			relCol{name: pv.added[1], sources: gen.list, transform: TransformCopy, traced: traced})
	} else {
		for _, n := range pv.added {
			r.cols = append(r.cols, relCol{name: n, sources: gen.list, transform: TransformAggregate, traced: traced})
		}
	}
	for i, n := range pv.rename {
		if i < len(r.cols) {
			r.cols[i].name = n
		}
	}
	return r
}
