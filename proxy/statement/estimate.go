package statement

import (
	"strconv"
	"strings"
)

// Row estimates: for a single-table UPDATE or DELETE whose WHERE clause
// bounds it, the gateway can ask the upstream, before the policy decides,
// how many of the table's rows the predicate selects. It runs the
// statement's own predicate, so the analysis offers one only when running
// it has no effect: no function that is not a known built-in, no system or
// external function, no dynamic SQL, no subquery, a complete analysis.

// EstimateQuery is what the upstream needs to estimate the rows a write
// touches: the target table and the predicate, as written in the statement.
type EstimateQuery struct {
	// Object is the target table, resolved against the session (Access
	// empty).
	Object Object
	// Target is the target's source text, the name and its alias as
	// written: "orders", "demo.public.orders AS o".
	Target string
	// Predicate is the WHERE clause's condition as written, without the
	// WHERE keyword, its bind variables (?, :1) written as ?.
	Predicate string
	// Binds are, for each ? of Predicate in order, the index (from 0) of
	// the request's bind value it stands for.
	Binds []int
	// Kind is update or delete.
	Kind Kind
}

// estimateSpan is where the parts of an estimate query lie among the
// statement's tokens.
type estimateSpan struct {
	obj           Object
	kind          Kind
	nameAt, alias int // the target's tokens are [nameAt, alias)
	where         int // the WHERE keyword
	effect        int // 1 + the index of the effect the WHERE bounds
}

// estimateCandidate records the estimate span of a top-level UPDATE
// (verb at 0, target at [1, nameEnd)) or DELETE FROM (target at [2,
// nameEnd)) when the statement's shape is the plain single-table one:
// the name, an optional [AS] alias, then SET ... WHERE (with no FROM) or
// WHERE, and a predicate with no subquery, variable, stage or sequence.
func (c *classifier) estimateCandidate(kind Kind, verbAt, nameAt, nameEnd int) {
	t := c.toks
	if c.nest != 0 || verbAt != 0 || nameEnd <= nameAt {
		return
	}
	if q, end, ok := parseName(t, nameAt); !ok || end != nameEnd || q.ident || q.dynamic != "" {
		return
	}
	next := "WHERE"
	if kind == KindUpdate {
		next = "SET"
	}
	alias := nameEnd
	switch {
	case alias < len(t) && t[alias].is(next):
	case alias+1 < len(t) && t[alias].is("AS") && isAliasToken(t[alias+1]) && alias+2 < len(t) && t[alias+2].is(next):
		alias += 2
	case alias < len(t) && isAliasToken(t[alias]) && alias+1 < len(t) && t[alias+1].is(next):
		alias++
	default:
		return
	}
	where := alias
	if kind == KindUpdate {
		where = c.clauseAt(alias, "WHERE")
		if c.clauseAt(alias, "FROM") < where {
			return
		}
	}
	if where >= len(t) || !t[where].is("WHERE") || where+1 >= len(t) || !plainPredicate(t[where+1:]) {
		return
	}
	o := c.last
	o.Access = ""
	c.r.estimate = &estimateSpan{obj: o, kind: kind, nameAt: nameAt, alias: alias, where: where, effect: len(c.r.effects)}
}

func isAliasToken(t Token) bool {
	if t.Kind == TokQuotedIdent {
		return true
	}
	if t.Kind != TokIdent {
		return false
	}
	switch t.Value {
	case "WHERE", "SET", "FROM", "USING", "AS", "AT", "BEFORE", "CHANGES", "SAMPLE", "TABLESAMPLE":
		return false
	}
	return true
}

// plainPredicate reports whether a WHERE condition can be embedded in
// another query as it is: balanced parentheses, and nothing that reads
// beyond the row (subqueries, session variables, stages, sequences), that
// ends the statement, or that binds a value by name (:name); positional
// binds (?, :1) are carried over (bindMarker).
func plainPredicate(t []Token) bool {
	depth := 0
	for i, x := range t {
		if x.isOp(":") && bindPosition(t, i) && (i+1 >= len(t) || t[i+1].Kind != TokNumber) {
			return false
		}
		switch x.Kind {
		case TokVariable, TokStage, TokURI, TokIllegal, TokDollarString:
			return false
		case TokIdent:
			switch x.Value {
			case "SELECT", "WITH", "NEXTVAL", "TABLE", "LATERAL", "VALUES", "EXISTS":
				return false
			}
		case TokOp:
			switch x.Value {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
				if depth < 0 {
					return false
				}
			case ";", "->>":
				return false
			}
		}
	}
	return depth == 0
}

// estimateOf returns the statement's estimate query, or nil when there is
// none or running its predicate could have an effect.
func estimateOf(st *Statement, r *reading, toks []Token, src string) *EstimateQuery {
	e := r.estimate
	if e == nil || !st.Parse.Complete || st.Kind != e.kind {
		return nil
	}
	f := st.Flags
	if f.UntracedSource || f.SystemFunction || f.ExternalFunction || f.DynamicSQL || f.Identifier || f.Scripting || f.Stage {
		return nil
	}
	if !st.Where.Present || st.Where.AlwaysTrue || e.effect < 1 || e.effect > len(st.Effects) || !st.Effects[e.effect-1].Bounded {
		return nil
	}
	pred, binds, ok := predicateText(toks, e.where+1, src)
	if !ok {
		return nil
	}
	return &EstimateQuery{
		Object:    e.obj,
		Kind:      e.kind,
		Target:    src[toks[e.nameAt].Pos:toks[e.alias-1].End],
		Predicate: pred,
		Binds:     binds,
	}
}

// predicateText is the source of toks[from:] with every bind variable
// written as ?, and the request's bind index of each. A statement that
// mixes ? with :1, or numbers a bind 0, has none.
func predicateText(toks []Token, from int, src string) (string, []int, bool) {
	questions := 0 // ? before the predicate: its first ? is the next bind
	for _, t := range toks[:from] {
		if t.isOp("?") {
			questions++
		}
	}
	var b strings.Builder
	var binds []int
	numbered := false
	last := toks[from].Pos
	for i := from; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.isOp("?"):
			b.WriteString(src[last:t.Pos] + "?")
			binds = append(binds, questions)
			questions++
			last = t.End
		case t.isOp(":") && i+1 < len(toks) && toks[i+1].Kind == TokNumber && toks[i+1].Pos == t.End && bindPosition(toks, i):
			n, err := strconv.Atoi(toks[i+1].Value)
			if err != nil || n < 1 {
				return "", nil, false
			}
			b.WriteString(src[last:t.Pos] + "?")
			binds = append(binds, n-1)
			numbered = true
			last = toks[i+1].End
			i++
		}
	}
	b.WriteString(src[last:toks[len(toks)-1].End])
	if numbered && questions > 0 {
		return "", nil, false
	}
	return b.String(), binds, true
}

// bindPosition reports whether the : at toks[i] starts a bind variable
// rather than a path (v:a) or a cast (::).
func bindPosition(toks []Token, i int) bool {
	return i == 0 || toks[i-1].isOp("(") || toks[i-1].isOp(",") || isComparison(toks[i-1])
}

// isComparison reports whether t is an operator after which a bind
// variable (:1, :name) can stand.
func isComparison(t Token) bool {
	if t.Kind == TokIdent {
		switch t.Value {
		case "AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "BETWEEN", "IS", "WHEN", "THEN", "ELSE":
			return true
		}
		return false
	}
	if t.Kind != TokOp {
		return false
	}
	switch t.Value {
	case "=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "*", "/", "%", "||":
		return true
	}
	return false
}
