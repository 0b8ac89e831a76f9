package statement

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// aggregates are Snowflake's aggregate functions (upper case); an output
// computed through one of them has transform aggregate.
var aggregates = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`ANY_VALUE APPROX_COUNT_DISTINCT APPROX_PERCENTILE APPROX_PERCENTILE_ACCUMULATE
		APPROX_TOP_K APPROX_TOP_K_ACCUMULATE APPROXIMATE_COUNT_DISTINCT APPROXIMATE_JACCARD_INDEX
		APPROXIMATE_SIMILARITY ARRAY_AGG ARRAY_UNION_AGG ARRAY_UNIQUE_AGG AVG BITAND_AGG BITOR_AGG
		BITXOR_AGG BITMAP_CONSTRUCT_AGG BITMAP_OR_AGG BITMAP_AND_AGG BIT_AND BIT_OR BIT_XOR BOOLAND_AGG BOOLOR_AGG BOOLXOR_AGG CORR COUNT COUNT_IF
		COVAR_POP COVAR_SAMP GROUPING GROUPING_ID GROUP_CONCAT HASH_AGG HLL HLL_ACCUMULATE HLL_COMBINE
		KURTOSIS LISTAGG MAX MAX_BY MEDIAN MIN MIN_BY MINHASH MINHASH_COMBINE MODE OBJECT_AGG
		PERCENTILE_CONT PERCENTILE_DISC REGR_AVGX REGR_AVGY REGR_COUNT REGR_INTERCEPT REGR_R2
		REGR_SLOPE REGR_SXX REGR_SXY REGR_SYY SKEW STDDEV STDDEV_POP STDDEV_SAMP SUM VAR_POP VAR_SAMP
		VARIANCE VARIANCE_POP VARIANCE_SAMP JSON_ARRAYAGG JSON_OBJECTAGG XMLAGG`) {
		aggregates[f] = true
	}
}

// expr returns the lineage of an expression and records the columns it
// reads, filters or groups by.
func (w *walker) expr(e ast.ExprNode, sc *scope, r role) relCol {
	if cn, ok := e.(*ast.ColumnNameExpr); ok && !strings.HasPrefix(cn.Name.Name.O, "#") {
		c, ok := w.resolve(cn.Name, sc)
		if !ok {
			c = relCol{name: decodeName(cn.Name.Name.O), transform: TransformExpression}
			w.read.add(Column{Name: c.name})
		}
		w.note(c.sources, r)
		return c
	}
	v := &exprVisitor{w: w, sc: sc, role: r, traced: true}
	e.Accept(v)
	t := TransformExpression
	if v.agg {
		t = TransformAggregate
	}
	return relCol{sources: v.src.list, transform: t, traced: v.traced, mayFail: v.fail}
}

// note records source columns by role.
func (w *walker) note(src []Column, r role) {
	w.read.add(src...)
	switch r {
	case roleFilter:
		w.filtered.add(src...)
	case roleGroup:
		w.grouped.add(src...)
	}
}

// exprVisitor collects the sources of an expression.
type exprVisitor struct {
	w      *walker
	sc     *scope
	role   role
	src    colSet
	traced bool
	agg    bool
	fail   bool // something in the expression can raise an error
	cond   int  // depth of branching expressions (fallible.go) around the node
}

func (v *exprVisitor) take(c relCol) {
	v.src.add(c.sources...)
	v.traced = v.traced && c.traced
	v.fail = v.fail || c.mayFail
	if c.transform == TransformAggregate {
		v.agg = true
	}
}

// Enter implements ast.Visitor.
func (v *exprVisitor) Enter(n ast.Node) (ast.Node, bool) {
	v.fail = v.fail || fallible(n)
	if branching(n) {
		v.cond++
	}
	switch x := n.(type) {
	case *ast.ColumnNameExpr:
		switch x.Name.Name.O {
		case "#*": // OBJECT_CONSTRUCT(*), HASH(*): every column in scope
			v.allColumns()
			return n, true
		case "#all":
			return n, true
		case "#var": // a session variable holds whatever was put in it
			v.traced = false
			v.w.opaque = true
			return n, true
		}
		v.take(v.w.expr(x, v.sc, v.role))
		return n, true
	case *ast.SubqueryExpr:
		v.fail = v.fail || v.cond > 0
		for _, o := range v.w.query(x.Query, v.sc) {
			v.w.note(o.sources, v.role)
			v.take(relCol{sources: o.sources, traced: o.traced, transform: o.transform, mayFail: o.mayFail})
		}
		return n, true
	case *ast.AggregateFuncExpr:
		v.agg = true
	case *ast.WindowFuncExpr:
		if aggregates[strings.ToUpper(x.Name)] {
			v.agg = true
		}
		for _, a := range x.Args {
			a.Accept(v)
		}
		v.windowSpec(&x.Spec)
		return n, true
	case *ast.FuncCallExpr:
		if strings.HasPrefix(x.FnName.O, opaqueCall) {
			v.traced = false
			v.w.opaque = true
		}
		if aggregates[strings.ToUpper(x.FnName.O)] {
			v.agg = true
		}
	}
	return n, false
}

// windowSpec reads PARTITION BY and ORDER BY of a window as grouping.
func (v *exprVisitor) windowSpec(s *ast.WindowSpec) {
	var items []*ast.ByItem
	if s.PartitionBy != nil {
		items = append(items, s.PartitionBy.Items...)
	}
	if s.OrderBy != nil {
		items = append(items, s.OrderBy.Items...)
	}
	for _, it := range items {
		c := v.w.expr(it.Expr, v.sc, roleGroup)
		if v.role == roleFilter { // a window in QUALIFY filters by its keys too
			v.w.filtered.add(c.sources...)
		}
		v.src.add(c.sources...)
		v.traced = v.traced && c.traced
	}
}

// allColumns takes every column of the innermost relations.
func (v *exprVisitor) allColumns() {
	for s := v.sc; s != nil; s = s.parent {
		if len(s.rels) == 0 {
			continue
		}
		for _, r := range s.rels {
			if r.known && !r.untraced {
				for _, c := range r.cols {
					if !c.hidden {
						v.take(c)
					}
				}
				continue
			}
			v.traced = false
			if r.base != nil {
				c := *r.base
				c.Name = "*"
				v.src.add(c)
			}
		}
		v.w.note(v.src.list, v.role)
		return
	}
}

// Leave implements ast.Visitor.
func (v *exprVisitor) Leave(n ast.Node) (ast.Node, bool) {
	if branching(n) {
		v.cond--
	}
	return n, true
}
