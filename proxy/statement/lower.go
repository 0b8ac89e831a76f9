package statement

import (
	"errors"
	"fmt"
	"strconv"
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
	renamed  []string             // window functions read as GROUP_CONCAT
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
	name    string   // upper-case function name
	columns []string // column aliases written after the alias, if any
}

// starMod records EXCLUDE / RENAME / REPLACE written after a '*'.
type starMod struct {
	exclude map[string]bool
	rename  map[string]string // old -> new
	replace map[string]string // column -> hidden field name holding the new expression
}

// srcAt returns the source offset for a byte offset in the lowered SQL.
func (lw *lowered) srcAt(off int) int {
	k := 0
	for k+1 < len(lw.starts) && lw.starts[k+1] <= off {
		k++
	}
	if k < len(lw.units) {
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
	for _, t := range lw.toks {
		if t.Pos == last {
			end = t.End
			break
		}
	}
	if end < first || first < 0 || end > len(lw.src) {
		return ""
	}
	return lw.src[first:end]
}

// frame is an open bracket during lowering.
type frame struct {
	kind       frameKind
	start      int    // unit index where the bracketed operand starts
	fn         string // function name for calls
	first      bool   // no argument emitted yet (generic calls drop a leading DISTINCT)
	aliasAfter bool   // a table function: read its alias when this closes
	wrapped    bool   // TABLE(f(...)): the inner call closes into a dropped ')'
	derived    bool   // a derived table in FROM: Snowflake lets it go without an alias, TiDB does not
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
}

// lower rewrites q into TiDB SQL.
func lower(q query) (*lowered, error) {
	l := &lowerer{
		t:       q.toks,
		q:       q,
		operand: -1,
		opEnd:   -1,
		lw:      &lowered{funcs: map[string]tableFunc{}, stars: map[int]*starMod{}, hidden: map[string]bool{}},
		names:   map[string]int{},
		having:  map[int]bool{},
		mods:    map[int]*starMod{},
	}
	if err := l.run(); err != nil {
		return nil, err
	}
	l.lw.toks, l.lw.src = q.toks, q.src
	l.finish()
	return l.lw, nil
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

// insert puts s before unit k.
func (l *lowerer) insert(k int, s string) {
	l.out = append(l.out[:k], append([]string{s}, l.out[k:]...)...)
	l.src = append(l.src[:k], append([]int{l.src[k]}, l.src[k:]...)...)
	l.glue = append(l.glue[:k], append([]bool{false}, l.glue[k:]...)...)
	if len(l.glue) > k+1 {
		l.glue[k+1] = true
	}
}

func (l *lowerer) finish() {
	var b strings.Builder
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
		l.lw.stars[l.lw.starts[k]] = m
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
			l.emit("?", t.Pos) // a session variable's value
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

// op lowers punctuation and operators.
func (l *lowerer) op(i int) (int, error) {
	t := l.t[i]
	switch t.Value {
	case "(":
		return l.open(i)
	case ")", "]", "}":
		return l.close(i)
	case "[":
		if l.afterOperand(i) {
			l.insert(l.operand, `"GET"(`)
			l.stack = append(l.stack, frame{kind: frameSubscript, start: l.operand})
			l.emit(",", t.Pos)
			return i + 1, nil
		}
		l.stack = append(l.stack, frame{kind: frameArray, start: len(l.out)})
		l.emit(`"ARRAY_CONSTRUCT"`, t.Pos)
		l.emitGlued("(", t.Pos)
		return i + 1, nil
	case "{":
		if k := starObject(l.t, i); k > 0 { // {*}, {* EXCLUDE ...}, {t.*}: every column (a superset when EXCLUDE)
			l.operand = len(l.out)
			l.emit(`"OBJECT_CONSTRUCT"`, t.Pos)
			l.emitGlued(`("#*")`, t.Pos)
			l.opEnd = k
			return k, nil
		}
		l.stack = append(l.stack, frame{kind: frameObject, start: len(l.out)})
		l.emit(`"OBJECT_CONSTRUCT"`, t.Pos)
		l.emitGlued("(", t.Pos)
		return i + 1, nil
	case ":":
		if f := l.top(); f != nil && f.kind == frameObject {
			l.emit(",", t.Pos)
			return i + 1, nil
		}
		if l.afterOperand(i) {
			return l.path(i)
		}
		// a bind variable :name or :1
		n := l.peek(i + 1)
		if n.Kind == TokIdent || n.Kind == TokNumber || n.Kind == TokQuotedIdent {
			l.operand = len(l.out)
			l.emit("?", t.Pos)
			return i + 2, nil
		}
		return 0, l.fail(i, "unexpected ':'")
	case "::":
		if !l.afterOperand(i) {
			return 0, l.fail(i, "'::' without an operand")
		}
		typ, next, err := l.castType(i + 1)
		if err != nil {
			return 0, err
		}
		l.insert(l.operand, "CAST(")
		l.emit("AS "+typ+")", l.t[next-1].Pos)
		l.opEnd = next
		return next, nil
	case "=>":
		// named argument: drop the name already emitted
		if len(l.out) > 0 {
			l.out, l.src, l.glue = l.out[:len(l.out)-1], l.src[:len(l.src)-1], l.glue[:len(l.glue)-1]
		}
		l.lossy("argument names dropped")
		return i + 1, nil
	case "?":
		l.operand = len(l.out)
		l.emit("?", t.Pos)
		return i + 1, nil
	case "->", "->>", ";", ":=", "==", "~", "!", "&", "^", "|":
		return 0, l.fail(i, "operator %s", t.Value)
	case ".":
		if i > 0 && l.t[i-1].isOp("]") && l.afterOperand(i) {
			return l.path(i)
		}
	case "*":
		if f := l.top(); f != nil && f.kind == frameCall && i > 0 && (l.t[i-1].isOp("(") || l.t[i-1].isOp(",")) &&
			(l.peek(i+1).isOp(")") || l.peek(i+1).isOp(",")) { // HASH(*), MINHASH(5, *)
			l.emit(`"#*"`, t.Pos)
			return i + 1, nil
		}
		// a select-list star may carry EXCLUDE / RENAME / REPLACE
		l.emit("*", t.Pos)
		return l.starMods(i+1, len(l.out)-1)
	}
	l.emit(t.Value, t.Pos)
	return i + 1, nil
}

// starObject reports whether toks[i] opens {*...} or {t.*...} and returns
// the index after its '}'.
func starObject(t []Token, i int) int {
	j := i + 1
	for j+1 < len(t) && (t[j].Kind == TokIdent || t[j].Kind == TokQuotedIdent) && t[j+1].isOp(".") {
		j += 2
	}
	if j >= len(t) || !t[j].isOp("*") {
		return 0
	}
	end := skipParens(t, i)
	if end > len(t) || !t[end-1].isOp("}") {
		return 0
	}
	return end
}

// afterOperand reports whether toks[i] directly follows a complete operand.
func (l *lowerer) afterOperand(i int) bool {
	if i == 0 || l.operand < 0 || l.operand >= len(l.out) {
		return false
	}
	if i == l.opEnd {
		return true
	}
	p := l.t[i-1]
	switch p.Kind {
	case TokQuotedIdent, TokVariable, TokString, TokDollarString, TokNumber:
		return true
	case TokIdent:
		return !structural[p.Value] || bareFunctions[p.Value]
	case TokOp:
		return p.Value == ")" || p.Value == "]" || p.Value == "}" || p.Value == "*" && l.t[i].isOp("::")
	}
	return false
}

// open handles '('.
func (l *lowerer) open(i int) (int, error) {
	t := l.t[i]
	f := frame{kind: framePlain, start: len(l.out)}
	if n := l.peek(i + 1); n.is("SELECT") || n.is("WITH") {
		l.having[len(l.stack)+1] = false
		if i > 0 && (l.t[i-1].is("FROM") || l.t[i-1].is("JOIN") || l.t[i-1].is("LATERAL")) {
			f.derived = true
		}
	}
	l.stack = append(l.stack, f)
	l.emit("(", t.Pos)
	return i + 1, nil
}

// close handles ')', ']' and '}'.
func (l *lowerer) close(i int) (int, error) {
	t := l.t[i]
	f := l.top()
	if f == nil {
		return 0, l.fail(i, "unbalanced %q", t.Value)
	}
	want := ")"
	switch f.kind {
	case frameSubscript, frameArray:
		want = "]"
	case frameObject:
		want = "}"
	}
	if t.Value != want {
		return 0, l.fail(i, "mismatched %q", t.Value)
	}
	fr := *f
	l.stack = l.stack[:len(l.stack)-1]
	if fr.kind != frameDrop {
		l.emit(")", t.Pos)
	}
	l.operand = fr.start
	if fr.aliasAfter {
		return l.funcAlias(i+1, fr.fn)
	}
	if fr.derived {
		j := l.skipTableClauses(i + 1)
		n := l.peek(j)
		if !n.is("AS") && n.Kind != TokQuotedIdent && !(n.Kind == TokIdent && !structural[n.Value]) {
			l.nfn++
			l.emit(`AS "#d`+strconv.Itoa(l.nfn)+`"`, t.Pos)
		}
		return j, nil
	}
	return i + 1, nil
}

// path lowers x:a.b[0] into "GET_PATH"(x, 'a.b[0]').
func (l *lowerer) path(i int) (int, error) {
	var b strings.Builder
	j := i + 1
	elem := func(t Token, src string) bool {
		switch t.Kind {
		case TokIdent:
			b.WriteString(t.Text(src))
		case TokQuotedIdent:
			b.WriteString(`"` + t.Value + `"`)
		default:
			return false
		}
		return true
	}
	src := l.srcText()
	if !elem(l.peek(j), src) {
		return 0, l.fail(j, "path element expected")
	}
	j++
	for j < len(l.t) {
		switch {
		case l.t[j].isOp(".") && j+1 < len(l.t) && (l.t[j+1].Kind == TokIdent || l.t[j+1].Kind == TokQuotedIdent):
			b.WriteByte('.')
			elem(l.t[j+1], src)
			j += 2
			continue
		case l.t[j].isOp("[") && j+2 < len(l.t) && l.t[j+2].isOp("]") && (l.t[j+1].Kind == TokNumber || l.t[j+1].Kind == TokString):
			if l.t[j+1].Kind == TokNumber {
				b.WriteString("[" + l.t[j+1].Value + "]")
			} else {
				b.WriteString(`["` + l.t[j+1].Value + `"]`)
			}
			j += 3
			continue
		}
		break
	}
	l.insert(l.operand, `"GET_PATH"(`)
	l.emit(", "+quoteString(b.String())+")", l.t[j-1].Pos)
	l.opEnd = j
	return j, nil
}

// srcText returns the text the tokens were lexed from, as far as needed to
// recover a token's raw spelling.
func (l *lowerer) srcText() string { return l.q.src }

// castType reads a Snowflake type at toks[i] and returns the TiDB cast type.
func (l *lowerer) castType(i int) (string, int, error) {
	t := l.peek(i)
	if t.Kind != TokIdent && t.Kind != TokQuotedIdent {
		return "", i, l.fail(i, "type expected")
	}
	typ, ok := castTypes[t.Value]
	if !ok {
		typ = "CHAR"
		l.lossy("unknown type " + t.Value + " read as text")
	}
	j := i + 1
	switch {
	case t.is("DOUBLE") && l.peek(j).is("PRECISION"):
		j++
	case l.peek(j).is("WITH") && (l.peek(j+1).is("TIME") || l.peek(j+1).is("LOCAL")):
		for j < len(l.t) && !l.t[j].is("ZONE") {
			j++
		}
		j++
	case l.peek(j).is("VARYING"):
		j++
	}
	if l.peek(j).isOp("(") {
		j = skipParens(l.t, j)
	}
	return typ, j, nil
}

// castTypes maps Snowflake types onto TiDB cast targets; the cast is an
// expression either way, so coarsening a type loses no lineage.
var castTypes = map[string]string{
	"NUMBER": "DECIMAL", "NUMERIC": "DECIMAL", "DECIMAL": "DECIMAL", "DEC": "DECIMAL",
	"INT": "SIGNED", "INTEGER": "SIGNED", "BIGINT": "SIGNED", "SMALLINT": "SIGNED", "TINYINT": "SIGNED", "BYTEINT": "SIGNED",
	"FLOAT": "DOUBLE", "FLOAT4": "DOUBLE", "FLOAT8": "DOUBLE", "DOUBLE": "DOUBLE", "REAL": "DOUBLE",
	"VARCHAR": "CHAR", "CHAR": "CHAR", "CHARACTER": "CHAR", "STRING": "CHAR", "TEXT": "CHAR", "NCHAR": "CHAR",
	"NVARCHAR": "CHAR", "NVARCHAR2": "CHAR", "CHAR_VARYING": "CHAR", "NCHAR_VARYING": "CHAR",
	"BINARY": "BINARY", "VARBINARY": "BINARY", "BOOLEAN": "SIGNED", "BOOL": "SIGNED",
	"DATE": "DATE", "TIME": "TIME", "DATETIME": "DATETIME", "TIMESTAMP": "DATETIME",
	"TIMESTAMP_NTZ": "DATETIME", "TIMESTAMP_LTZ": "DATETIME", "TIMESTAMP_TZ": "DATETIME",
	"TIMESTAMPNTZ": "DATETIME", "TIMESTAMPLTZ": "DATETIME", "TIMESTAMPTZ": "DATETIME",
	"VARIANT": "JSON", "OBJECT": "JSON", "ARRAY": "JSON", "MAP": "JSON", "GEOGRAPHY": "JSON",
	"GEOMETRY": "JSON", "VECTOR": "JSON", "FILE": "JSON",
}
