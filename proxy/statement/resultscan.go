package statement

import (
	"slices"
	"strconv"
	"strings"
)

// RESULT_SCAN reads the stored result of an earlier statement. When the
// gateway remembers what that statement returned (Env.Results), the
// columns of RESULT_SCAN inherit its recorded lineage; otherwise they are
// untraced.

// ResultRef names an earlier statement's result as RESULT_SCAN's argument
// does: a query id literal, RESULT_SCAN('01b2...'), or LAST_QUERY_ID(n),
// where n < 0 counts back from the session's most recent statement (-1,
// the default, is the most recent) and n > 0 counts from its first.
type ResultRef struct {
	QueryID string // the literal id; empty for LAST_QUERY_ID
	Offset  int    // LAST_QUERY_ID's argument; 0 for a literal id
}

// Last reports whether the ref is LAST_QUERY_ID(...).
func (r ResultRef) Last() bool { return r.QueryID == "" }

// ResultLineage answers what an earlier statement of the session returned:
// its outputs, in order, with their lineage, named as the upstream named
// the result's columns. ok is false when the statement is not known or its
// result's columns cannot be told.
type ResultLineage interface {
	ResultLineage(ref ResultRef) (outs []Output, ok bool)
}

// ResultScan is one RESULT_SCAN call whose argument is a ResultRef.
type ResultScan struct {
	Ref ResultRef
	// Start and End are the byte range of the argument in Statement.SQL
	// (the literal, or LAST_QUERY_ID(...)); Start is -1 when the argument
	// cannot be located in the statement's text.
	Start, End int
	// Resolved is true when Env.Results answered the ref and the columns
	// inherited its lineage.
	Resolved bool

	src string // the text Start and End refer to until analyzeOne maps them
}

// resultArg is a RESULT_SCAN argument as the lowering found it.
type resultArg struct {
	ref        ResultRef
	src        string // the text start and end refer to
	start, end int
}

// resultArgAt reads RESULT_SCAN's argument list, the tokens between the
// brackets of toks[open]; nil when it is not a literal id or
// LAST_QUERY_ID with an optional integer literal (a bind, a variable, an
// expression).
func (l *lowerer) resultArgAt(open int) *resultArg {
	close := l.after(open) - 1
	if close <= open || close >= len(l.t) {
		return nil
	}
	a := l.t[open+1 : close]
	if len(a) == 0 {
		return nil
	}
	arg := &resultArg{src: l.q.src, start: a[0].Pos, end: a[len(a)-1].End}
	if len(a) == 1 && (a[0].Kind == TokString || a[0].Kind == TokDollarString) {
		if a[0].Value == "" {
			return nil
		}
		arg.ref.QueryID = a[0].Value
		return arg
	}
	// LAST_QUERY_ID ( [ [+|-] integer ] ), unquoted or quoted in upper case
	if len(a) < 3 || a[0].Value != "LAST_QUERY_ID" || (a[0].Kind != TokIdent && a[0].Kind != TokQuotedIdent) ||
		!a[1].isOp("(") || !a[len(a)-1].isOp(")") {
		return nil
	}
	in := a[2 : len(a)-1]
	switch {
	case len(in) == 0:
		arg.ref.Offset = -1
		return arg
	case len(in) > 2:
		return nil
	}
	sign := 1
	if len(in) == 2 {
		switch {
		case in[0].isOp("-"):
			sign = -1
		case in[0].isOp("+"):
		default:
			return nil
		}
		in = in[1:]
	}
	if in[0].Kind != TokNumber || strings.ContainsAny(in[0].Value, ".eE") {
		return nil
	}
	n, err := strconv.Atoi(in[0].Value)
	if err != nil || n == 0 {
		return nil
	}
	arg.ref.Offset = sign * n
	return arg
}

// resultRelation builds the relation of RESULT_SCAN over a result the
// session remembers: its columns are the recorded outputs, with their
// lineage. It returns nil when the result is not known.
func (w *walker) resultRelation(alias string, tf tableFunc) *relation {
	if tf.scan == nil {
		return nil
	}
	scan := ResultScan{Ref: tf.scan.ref, Start: tf.scan.start, End: tf.scan.end, src: tf.scan.src}
	var outs []Output
	ok := false
	if w.env.Results != nil {
		outs, ok = w.env.Results.ResultLineage(tf.scan.ref)
	}
	if ok && len(tf.columns) > len(outs) {
		ok = false // more column aliases than the result has: not this result
	}
	for _, o := range outs {
		if o.Name == "" || o.Name == "*" { // an unexpanded star: the result's columns are not known
			ok = false
		}
	}
	if len(outs) == 0 {
		ok = false
	}
	scan.Resolved = ok
	w.scans = append(w.scans, scan)
	if !ok {
		return nil
	}
	r := &relation{alias: alias, known: true}
	for i, o := range outs {
		name := o.Name
		if w.env.FoldQuoted {
			name = strings.ToUpper(name)
		}
		if i < len(tf.columns) {
			name = tf.columns[i]
		}
		c := relCol{name: name, sources: append([]Column(nil), o.Sources...), transform: o.Transform, traced: o.Traced, mayFail: o.MayFail}
		if c.transform == "" {
			c.transform = TransformExpression
		}
		if !c.traced {
			w.opaque = true
		}
		for _, s := range c.sources {
			// the data comes from these tables: the policy's object rules
			// (what is guarded, who may read it) hold as for the original
			if s.Table != "" && !strings.HasPrefix(s.Table, "@") {
				o := Object{Type: "table", Database: s.Database, Schema: s.Schema, Name: s.Table, Access: AccessRead}
				if !slices.Contains(w.inherited, o) {
					w.inherited = append(w.inherited, o)
				}
			}
		}
		r.cols = append(r.cols, c)
	}
	// Columns of the same name: a reference by name may mean any of them.
	for i := range r.cols {
		for j := range r.cols {
			if i != j && r.cols[i].name == r.cols[j].name {
				r.cols[i].sources = addColumns(r.cols[i].sources, r.cols[j].sources...)
				r.cols[i].transform = TransformExpression
				r.cols[i].traced = r.cols[i].traced && r.cols[j].traced
			}
		}
	}
	return r
}
