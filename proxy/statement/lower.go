package statement

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Lowering rewrites a Snowflake query, token by token, into SQL the TiDB
// parser (ANSI_QUOTES | PIPES_AS_CONCAT) accepts, keeping a side record of
// every rewrite that changes meaning, so the lineage walk can undo it.
//
// Names are encoded so they cannot collide: every real identifier is
// emitted quoted, with its Snowflake-folded value behind a '_' prefix
// ("_ORDERS", "_my col"); generated names start with '#' ("#3" for the
// third registered three-part table name, "#*" for a '*' argument), and
// positional columns keep their '$' ("$1"). Decoding strips the prefix.

// errUnsupported marks Snowflake syntax the lowering does not handle.
var errUnsupported = errors.New("not supported by the syntax tree reading")

// lowered is a lowered query with its side record.
type lowered struct {
	sql    string
	starts []int // byte offset in sql of each unit
	units  []int // source byte offset of each unit

	tables   []loweredTable       // registered names "#k" -> what they stand for
	funcs    map[string]tableFunc // derived-table alias -> table function it replaces
	stars    map[int]*starMod     // byte offset of a '*' select field -> its modifiers
	hidden   map[string]bool      // generated select fields that are not outputs
	lossy    []string             // rewrites that lose meaning (for the record)
	pivots   map[string]pivotInfo // derived-table alias -> the PIVOT/UNPIVOT it replaces
	renames  map[string][]string  // derived-table alias -> column names written after it
	toks     []Token              // the source tokens
	src      string               // the source text
	topLimit *int64               // TOP n
}

// loweredTable is what a registered "#k" name stands for.
type loweredTable struct {
	name  qname
	stage *Object
}

// tableFunc records a table function (FLATTEN, SPLIT_TO_TABLE, ...) that was
// replaced by a derived table selecting its arguments.
type tableFunc struct {
	name    string     // upper-case function name
	columns []string   // column aliases written after the alias, if any
	scan    *resultArg // RESULT_SCAN's argument, when it names a result
}

// starMod records EXCLUDE / RENAME / REPLACE written after a '*'.
type starMod struct {
	exclude map[string]bool
	rename  map[string]string // old -> new
	replace map[string]string // column -> hidden field name holding the new expression
}

// srcAt returns the source offset for a byte offset in the lowered SQL.
func (lw *lowered) srcAt(off int) int {
	// the last unit starting at or before off
	k := sort.SearchInts(lw.starts, off+1) - 1
	if k >= 0 && k < len(lw.units) {
		return lw.units[k]
	}
	return 0
}

// sourceText returns the Snowflake text that the lowered span
// [off, off+n) came from, or "" when it cannot be mapped.
func (lw *lowered) sourceText(off, n int) string {
	if n <= 0 || len(lw.starts) == 0 {
		return ""
	}
	first := lw.srcAt(off)
	last := lw.srcAt(off + n - 1)
	end := -1
	if k := sort.Search(len(lw.toks), func(i int) bool { return lw.toks[i].Pos >= last }); k < len(lw.toks) && lw.toks[k].Pos == last {
		end = lw.toks[k].End
	}
	if end < first || first < 0 || end > len(lw.src) {
		return ""
	}
	return lw.src[first:end]
}

// frame is an open bracket during lowering.
type frame struct {
	kind       frameKind
	start      int        // unit index where the bracketed operand starts
	fn         string     // function name for calls
	first      bool       // no argument emitted yet (generic calls drop a leading DISTINCT)
	aliasAfter bool       // a table function: read its alias when this closes
	wrapped    bool       // TABLE(f(...)): the inner call closes into a dropped ')'
	derived    bool       // a derived table in FROM: Snowflake lets it go without an alias, TiDB does not
	scan       *resultArg // RESULT_SCAN's argument, for the table function's record
}

type frameKind uint8

const (
	framePlain     frameKind = iota
	frameCall                // generic call: FROM/IN/FOR become ',' at its top level
	frameKnownCall           // a call TiDB knows (aggregates, window functions)
	frameCast
	frameSubscript // x[i]  -> "GET"(x, i)
	frameArray     // [a, b] -> "ARRAY_CONSTRUCT"(a, b)
	frameObject    // {k: v} -> "OBJECT_CONSTRUCT"(k, v)
	frameWithin    // WITHIN GROUP (ORDER BY ...) merged into the call
	frameDrop      // tokens dropped entirely
)

type lowerer struct {
	t     []Token
	q     query
	out   []string
	src   []int
	glue  []bool // no space before this unit
	stack []frame

	operand int // unit index where the last complete operand starts; -1 none
	opEnd   int // token index right after an operand ended by a path or cast
	lw      *lowered
	names   map[string]int // registered qname key -> index
	having  map[int]bool   // per bracket depth: the current SELECT has HAVING
	nfn     int
	nrep    int
	mods    map[int]*starMod // unit index of a star field -> modifiers
	match   []int            // per bracket token: index after its closing bracket
	cases   []int            // unit indexes of open CASE expressions
	lastRef int              // unit index where the last FROM item started; -1 none
	asof    bool             // MATCH_CONDITION became the join's ON
	lambdas []lambdaScope    // lambda parameters in scope
}

// lambdaScope holds the parameters of a lambda until the call around it
// closes.
type lambdaScope struct {
	depth int
	names map[string]bool
}

// isLambdaParam reports whether a one-part name is a lambda parameter.
func (l *lowerer) isLambdaParam(parts []string) bool {
	if len(parts) != 1 {
		return false
	}
	for _, s := range l.lambdas {
		if s.names[parts[0]] {
			return true
		}
	}
	return false
}

// after returns the index just after the bracket group opening at i, in
// constant time (skipParens would make nested calls quadratic).
func (l *lowerer) after(i int) int {
	if i < len(l.match) && l.match[i] > 0 {
		return l.match[i]
	}
	return len(l.t)
}

// matchBrackets pairs every opening bracket with its closing one.
func matchBrackets(t []Token) []int {
	m := make([]int, len(t))
	var stack []int
	for i, tok := range t {
		switch {
		case tok.isOp("(") || tok.isOp("[") || tok.isOp("{"):
			stack = append(stack, i)
		case tok.isOp(")") || tok.isOp("]") || tok.isOp("}"):
			if len(stack) > 0 {
				m[stack[len(stack)-1]] = i + 1
				stack = stack[:len(stack)-1]
			}
		}
	}
	return m
}

// lower rewrites q into TiDB SQL.
func lower(q query) (*lowered, error) {
	n := len(q.toks) + 8 // about a unit a token
	l := &lowerer{
		out:     make([]string, 0, n),
		src:     make([]int, 0, n),
		glue:    make([]bool, 0, n),
		t:       q.toks,
		q:       q,
		operand: -1,
		opEnd:   -1,
		lastRef: -1,
		lw:      &lowered{},
		names:   map[string]int{},
		having:  map[int]bool{},
		match:   matchBrackets(q.toks),
	}
	if err := l.run(); err != nil {
		return nil, err
	}
	l.lw.toks, l.lw.src = q.toks, q.src
	l.finish()
	return l.lw, nil
}

// put sets m[k], making the map first: most statements need few of a
// lowering's maps.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

func (l *lowerer) emit(s string, src int) {
	l.out = append(l.out, s)
	l.src = append(l.src, src)
	l.glue = append(l.glue, false)
}

func (l *lowerer) emitGlued(s string, src int) {
	l.emit(s, src)
	l.glue[len(l.glue)-1] = true
}

// insert puts s in front of unit k (a CAST( or GET_PATH( wrapping the
// operand that starts there). Prefixing the unit keeps every unit index
// stable and costs no copying of the unit list.
func (l *lowerer) insert(k int, s string) {
	l.out[k] = s + l.out[k]
}

func (l *lowerer) finish() {
	var b strings.Builder
	size := len(l.out)
	for _, s := range l.out {
		size += len(s)
	}
	b.Grow(size)
	l.lw.starts = make([]int, 0, len(l.out))
	for k, s := range l.out {
		if k > 0 && !l.glue[k] {
			b.WriteByte(' ')
		}
		l.lw.starts = append(l.lw.starts, b.Len())
		b.WriteString(s)
	}
	l.lw.sql = b.String()
	l.lw.units = l.src
	for k, m := range l.mods {
		put(&l.lw.stars, l.lw.starts[k], m)
	}
}

// quoteName encodes a real identifier.
func quoteName(v string) string {
	return `"_` + strings.ReplaceAll(v, `"`, `""`) + `"`
}

// decodeName reverses quoteName for a name TiDB returns.
func decodeName(s string) string {
	if strings.HasPrefix(s, "_") {
		return s[1:]
	}
	return s
}

func quoteString(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

func (l *lowerer) fail(i int, format string, args ...any) error {
	pos := -1
	if i < len(l.t) {
		pos = l.t[i].Pos
	}
	return fmt.Errorf("%s at offset %d: %w", fmt.Sprintf(format, args...), pos, errUnsupported)
}

func (l *lowerer) lossy(what string) {
	for _, x := range l.lw.lossy {
		if x == what {
			return
		}
	}
	l.lw.lossy = append(l.lw.lossy, what)
}

func (l *lowerer) top() *frame {
	if len(l.stack) == 0 {
		return nil
	}
	return &l.stack[len(l.stack)-1]
}

func (l *lowerer) peek(i int) Token {
	if i < len(l.t) {
		return l.t[i]
	}
	return Token{Kind: TokOp, Value: ""}
}

// run lowers every token.
func (l *lowerer) run() error {
	for i := 0; i < len(l.t); {
		next, err := l.step(i)
		if err != nil {
			return err
		}
		i = next
	}
	if len(l.stack) != 0 {
		return l.fail(len(l.t), "unbalanced brackets")
	}
	return nil
}

// step lowers the token at i and returns the index of the next token.
func (l *lowerer) step(i int) (int, error) {
	t := l.t[i]
	if ref, ok := l.q.refs[l.q.base+i]; ok {
		return l.tableRef(i, ref)
	}
	switch t.Kind {
	case TokIllegal, TokURI:
		return 0, l.fail(i, "unexpected %s", t.Kind)
	case TokString, TokDollarString:
		l.operand = len(l.out)
		l.emit(quoteString(t.Value), t.Pos)
		return i + 1, nil
	case TokNumber:
		l.operand = len(l.out)
		l.emit(t.Value, t.Pos)
		return i + 1, nil
	case TokVariable:
		l.operand = len(l.out)
		if t.Value[1] >= '0' && t.Value[1] <= '9' {
			l.emit(`"`+t.Value+`"`, t.Pos)
		} else {
			l.emit(`"#var"`, t.Pos) // a session variable's value: untraced
		}
		return i + 1, nil
	case TokStage:
		return 0, l.fail(i, "stage outside FROM")
	case TokOp:
		return l.op(i)
	case TokQuotedIdent:
		return l.name(i)
	}
	return l.word(i)
}
