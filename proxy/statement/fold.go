package statement

import (
	"math/big"
	"regexp"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Constant folding of predicates, to tell whether a WHERE (or a MERGE
// condition) bounds a write. A predicate is folded to one of four truths:
// it holds for every row, for no row, for every row whose operands are not
// NULL (x = x, x IS NOT NULL, x LIKE '%': no real bound either), or it
// depends on the data.

type truth uint8

const (
	depends  truth = iota // the data decides
	allRows               // every row
	noRows                // no row (FALSE, NULL)
	nonNulls              // every row where the operands are not NULL
)

// alwaysTrue reports whether a predicate fails to bound the rows: it holds
// for every row, or for every row but those with NULLs.
func alwaysTrue(e ast.ExprNode) bool {
	t := predicate(e)
	return t == allRows || t == nonNulls
}

func predicate(e ast.ExprNode) truth {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return predicate(x.Expr)
	case *ast.UnaryOperationExpr:
		if x.Op == opcode.Not || x.Op == opcode.Not2 {
			switch predicate(x.V) {
			case allRows:
				return noRows
			case noRows:
				if isConst(x.V) { // NOT NULL is NULL, NOT FALSE is TRUE
					if v, ok := constant(x.V); ok && v == nil {
						return noRows
					}
				}
				return allRows
			}
			return depends
		}
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.LogicAnd:
			l, r := predicate(x.L), predicate(x.R)
			switch {
			case l == noRows || r == noRows:
				return noRows
			case l == allRows:
				return r
			case r == allRows:
				return l
			case l == nonNulls && r == nonNulls:
				return nonNulls
			}
			return depends
		case opcode.LogicOr:
			l, r := predicate(x.L), predicate(x.R)
			switch {
			case l == allRows || r == allRows:
				return allRows
			case l == nonNulls || r == nonNulls:
				return nonNulls
			case l == noRows:
				return r
			case r == noRows:
				return l
			}
			return depends
		case opcode.EQ, opcode.GE, opcode.LE:
			if same(x.L, x.R) {
				return nonNulls
			}
		case opcode.NullEQ:
			if same(x.L, x.R) {
				return allRows
			}
		case opcode.NE, opcode.LT, opcode.GT:
			if same(x.L, x.R) {
				return noRows
			}
		}
	case *ast.IsNullExpr:
		if !isConst(x.Expr) {
			if x.Not {
				return nonNulls
			}
			return depends
		}
	case *ast.PatternLikeOrIlikeExpr:
		if p, ok := constant(x.Pattern); ok && !x.Not && !isConst(x.Expr) {
			if s, ok := p.(string); ok && s != "" && strings.Trim(s, "%") == "" {
				return nonNulls
			}
		}
	case *ast.PatternInExpr:
		if !x.Not && x.Sel == nil {
			for _, it := range x.List {
				if same(x.Expr, it) {
					return nonNulls
				}
			}
		}
	case *ast.BetweenExpr:
		if !x.Not && same(x.Expr, x.Left) && same(x.Expr, x.Right) {
			return nonNulls
		}
	}
	if !isConst(e) {
		return depends
	}
	v, ok := constant(e)
	if !ok {
		return depends
	}
	if b, ok := asBool(v); ok {
		if b {
			return allRows
		}
		return noRows
	}
	if v == nil {
		return noRows
	}
	return depends
}

// isConst reports whether e mentions no column, variable, subquery or
// function call whose value could vary by row.
func isConst(e ast.ExprNode) bool {
	c := constCheck{ok: true}
	e.Accept(&c)
	return c.ok
}

type constCheck struct{ ok bool }

func (c *constCheck) Enter(n ast.Node) (ast.Node, bool) {
	if f, ok := n.(*ast.FuncCallExpr); ok && foldable[f.FnName.L] {
		return n, false // constant when its arguments are
	}
	switch n.(type) {
	case *ast.ColumnNameExpr, *ast.SubqueryExpr, *ast.FuncCallExpr, *ast.AggregateFuncExpr, *ast.WindowFuncExpr,
		ast.ParamMarkerExpr, *ast.VariableExpr, *ast.DefaultExpr, *ast.ExistsSubqueryExpr:
		c.ok = false
		return n, true
	}
	return n, false
}

func (c *constCheck) Leave(n ast.Node) (ast.Node, bool) { return n, c.ok }

// constant evaluates a constant expression: nil (NULL), bool, *big.Rat or
// string. ok is false when it cannot be evaluated here.
func constant(e ast.ExprNode) (any, bool) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return constant(x.Expr)
	case *test_driver.ValueExpr:
		switch v := x.GetValue().(type) {
		case nil:
			return nil, true
		case bool:
			return v, true
		case int64:
			return new(big.Rat).SetInt64(v), true
		case uint64:
			return new(big.Rat).SetUint64(v), true
		case float64:
			r := new(big.Rat)
			if r.SetFloat64(v) == nil {
				return nil, false
			}
			return r, true
		case string:
			return v, true
		case *test_driver.MyDecimal:
			r, ok := new(big.Rat).SetString(v.String())
			return r, ok
		}
		return nil, false
	case *ast.UnaryOperationExpr:
		v, ok := constant(x.V)
		if !ok {
			return nil, false
		}
		if v == nil {
			return nil, true
		}
		switch x.Op {
		case opcode.Not, opcode.Not2:
			if b, ok := asBool(v); ok {
				return !b, true
			}
		case opcode.Minus:
			if r, ok := v.(*big.Rat); ok {
				return new(big.Rat).Neg(r), true
			}
		case opcode.Plus:
			return v, true
		}
		return nil, false
	case *ast.IsNullExpr:
		v, ok := constant(x.Expr)
		if !ok {
			return nil, false
		}
		return (v == nil) != x.Not, true
	case *ast.IsTruthExpr:
		v, ok := constant(x.Expr)
		if !ok {
			return nil, false
		}
		b, isBool := asBool(v)
		want := x.True != 0
		return (isBool && b == want) != x.Not, true
	case *ast.BetweenExpr:
		v, ok1 := constant(x.Expr)
		lo, ok2 := constant(x.Left)
		hi, ok3 := constant(x.Right)
		if !ok1 || !ok2 || !ok3 {
			return nil, false
		}
		a, okA := compare(v, lo)
		b, okB := compare(v, hi)
		if !okA || !okB {
			return nil, false
		}
		return (a >= 0 && b <= 0) != x.Not, true
	case *ast.PatternInExpr:
		if x.Sel != nil {
			return nil, false
		}
		v, ok := constant(x.Expr)
		if !ok || v == nil {
			return nil, ok
		}
		for _, it := range x.List {
			w, ok := constant(it)
			if !ok {
				return nil, false
			}
			if c, ok := compare(v, w); ok && c == 0 {
				return !x.Not, true
			}
		}
		return x.Not, true
	case *ast.PatternLikeOrIlikeExpr:
		v, ok1 := constant(x.Expr)
		p, ok2 := constant(x.Pattern)
		s, isS := v.(string)
		ps, isP := p.(string)
		if !ok1 || !ok2 || !isS || !isP {
			return nil, false
		}
		re := "^" + strings.NewReplacer("%", ".*", "_", ".").Replace(regexp.QuoteMeta(ps)) + "$"
		if !x.IsLike {
			re = "(?i)" + re
		}
		m, err := regexp.MatchString(re, s)
		if err != nil {
			return nil, false
		}
		return m != x.Not, true
	case *ast.BinaryOperationExpr:
		l, ok1 := constant(x.L)
		r, ok2 := constant(x.R)
		if !ok1 || !ok2 {
			return nil, false
		}
		return binary(x.Op, l, r)
	case *ast.FuncCallExpr:
		return foldCall(x.FnName.L, x.Args)
	case *ast.CaseExpr:
		var subject any
		if x.Value != nil {
			v, ok := constant(x.Value)
			if !ok {
				return nil, false
			}
			subject = v
		}
		for _, w := range x.WhenClauses {
			c, ok := constant(w.Expr)
			if !ok {
				return nil, false
			}
			var hit bool
			if x.Value != nil {
				cmp, ok := compare(subject, c)
				hit = ok && subject != nil && c != nil && cmp == 0
			} else {
				hit, _ = asBool(c)
			}
			if hit {
				return constant(w.Result)
			}
		}
		if x.ElseClause == nil {
			return nil, true
		}
		return constant(x.ElseClause)
	}
	return nil, false
}

// foldable are the functions that pick one of their arguments, and a
// few string functions: a call of one is constant when its arguments are.
var foldable = map[string]bool{"coalesce": true, "ifnull": true, "nvl": true, "nullif": true, "if": true, "iff": true, "nvl2": true,
	"concat": true, "upper": true, "lower": true}

func foldCall(name string, args []ast.ExprNode) (any, bool) {
	vals := make([]any, len(args))
	for i, a := range args {
		v, ok := constant(a)
		if !ok {
			return nil, false
		}
		vals[i] = v
	}
	switch {
	case (name == "coalesce" || name == "ifnull" || name == "nvl") && len(vals) > 0:
		for _, v := range vals {
			if v != nil {
				return v, true
			}
		}
		return nil, true
	case name == "nullif" && len(vals) == 2:
		if vals[0] == nil || vals[1] == nil {
			return vals[0], true
		}
		c, ok := compare(vals[0], vals[1])
		if !ok {
			return nil, false
		}
		if c == 0 {
			return nil, true
		}
		return vals[0], true
	case (name == "if" || name == "iff") && len(vals) == 3:
		if b, ok := asBool(vals[0]); ok && b {
			return vals[1], true
		}
		return vals[2], true
	case name == "concat" && len(vals) > 0:
		var b strings.Builder
		for _, v := range vals {
			switch v := v.(type) {
			case nil:
				return nil, true
			case string:
				b.WriteString(v)
			default:
				return nil, false
			}
		}
		return b.String(), true
	case (name == "upper" || name == "lower") && len(vals) == 1:
		v, isStr := vals[0].(string)
		switch {
		case vals[0] == nil:
			return nil, true
		case !isStr:
			return nil, false
		case name == "upper":
			return strings.ToUpper(v), true
		}
		return strings.ToLower(v), true
	case name == "nvl2" && len(vals) == 3:
		if vals[0] != nil {
			return vals[1], true
		}
		return vals[2], true
	}
	return nil, false
}

func binary(op opcode.Op, l, r any) (any, bool) {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		lb, lok := asBool(l)
		rb, rok := asBool(r)
		switch {
		case op == opcode.LogicAnd && (lok && !lb || rok && !rb):
			return false, true
		case op == opcode.LogicOr && (lok && lb || rok && rb):
			return true, true
		case l == nil || r == nil:
			return nil, true
		case !lok || !rok:
			return nil, false
		case op == opcode.LogicAnd:
			return lb && rb, true
		case op == opcode.LogicOr:
			return lb || rb, true
		}
		return lb != rb, true
	case opcode.NullEQ:
		if l == nil || r == nil {
			return l == nil && r == nil, true
		}
		c, ok := compare(l, r)
		return c == 0, ok
	}
	if l == nil || r == nil {
		return nil, true
	}
	switch op {
	case opcode.EQ, opcode.NE, opcode.LT, opcode.LE, opcode.GT, opcode.GE:
		c, ok := compare(l, r)
		if !ok {
			return nil, false
		}
		switch op {
		case opcode.EQ:
			return c == 0, true
		case opcode.NE:
			return c != 0, true
		case opcode.LT:
			return c < 0, true
		case opcode.LE:
			return c <= 0, true
		case opcode.GT:
			return c > 0, true
		}
		return c >= 0, true
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div:
		a, ok1 := l.(*big.Rat)
		b, ok2 := r.(*big.Rat)
		if !ok1 || !ok2 {
			return nil, false
		}
		switch op {
		case opcode.Plus:
			return new(big.Rat).Add(a, b), true
		case opcode.Minus:
			return new(big.Rat).Sub(a, b), true
		case opcode.Mul:
			return new(big.Rat).Mul(a, b), true
		}
		if b.Sign() == 0 {
			return nil, false
		}
		return new(big.Rat).Quo(a, b), true
	}
	return nil, false
}

// compare orders two non-NULL constants of the same family.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case *big.Rat:
		if y, ok := b.(*big.Rat); ok {
			return x.Cmp(y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			if x == y {
				return 0, true
			}
			return 1, true
		}
	}
	return 0, false
}

// asBool converts a constant as Snowflake does in a condition: numbers are
// true when non-zero, and the strings 'true'/'false' and their synonyms.
func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case *big.Rat:
		return x.Sign() != 0, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "t", "yes", "y", "on", "1":
			return true, true
		case "false", "f", "no", "n", "off", "0":
			return false, true
		}
	}
	return false, false
}

// same reports whether two expressions are written identically (after the
// lowering), and so hold the same value on every row.
func same(a, b ast.ExprNode) bool {
	if !deterministic(a) {
		return false
	}
	return restore(a) == restore(b)
}

func deterministic(e ast.ExprNode) bool {
	d := detCheck{ok: true}
	e.Accept(&d)
	return d.ok
}

type detCheck struct{ ok bool }

func (d *detCheck) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.FuncCallExpr:
		switch strings.ToUpper(strings.TrimPrefix(x.FnName.O, opaqueCall)) {
		case "RANDOM", "UNIFORM", "NORMAL", "ZIPF", "RANDSTR", "UUID_STRING", "SEQ1", "SEQ2", "SEQ4", "SEQ8", "RAND":
			d.ok = false
		}
		if strings.HasPrefix(x.FnName.O, opaqueCall) {
			d.ok = false
		}
	case *ast.SubqueryExpr, ast.ParamMarkerExpr:
		d.ok = false
	}
	return n, !d.ok
}

func (d *detCheck) Leave(n ast.Node) (ast.Node, bool) { return n, true }

func restore(e ast.ExprNode) string {
	var sb strings.Builder
	if err := e.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return "\x00" + err.Error()
	}
	return sb.String()
}
