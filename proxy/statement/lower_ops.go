package statement

import (
	"strconv"
	"strings"
)

// Operators and brackets: casts, paths, subscripts, array and object literals.

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
	case "->":
		return l.lambda(i)
	case "->>", ";", ":=", "==", "~", "!", "&", "^", "|":
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
	if end > len(t) || end == 0 || !t[end-1].isOp("}") {
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
	if n := l.peek(i + 1); n.is("SELECT") || n.is("WITH") || n.is("VALUES") {
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
	for len(l.lambdas) > 0 && l.lambdas[len(l.lambdas)-1].depth > len(l.stack) {
		l.lambdas = l.lambdas[:len(l.lambdas)-1]
	}
	if fr.kind != frameDrop {
		l.emit(")", t.Pos)
	}
	l.operand = fr.start
	if fr.aliasAfter {
		return l.funcAlias(i+1, fr.fn, fr.scan)
	}
	if fr.derived {
		l.lastRef = fr.start
		return l.derivedAlias(l.skipTableClauses(i+1), t.Pos)
	}
	return i + 1, nil
}

// derivedAlias emits the alias of a derived table at toks[j] — one is
// generated when Snowflake's optional alias is missing, as TiDB needs one —
// and records a column list written after it, which TiDB does not take.
func (l *lowerer) derivedAlias(j, pos int) (int, error) {
	n := l.peek(j)
	if n.is("AS") {
		j++
		n = l.peek(j)
	}
	var alias string
	if v, ok := nameValue(n); ok && (n.Kind == TokQuotedIdent || !structural[v]) {
		alias = quoteName(v)
		j++
	} else {
		l.nfn++
		alias = `"#d` + strconv.Itoa(l.nfn) + `"`
	}
	l.emit("AS "+alias, pos)
	if l.peek(j).isOp("(") {
		var names []string
		e := l.after(j)
		for k := j + 1; k < e-1; k++ {
			if v, ok := nameValue(l.t[k]); ok {
				names = append(names, v)
			}
		}
		put(&l.lw.renames, alias[1:len(alias)-1], names)
		j = e
	}
	return j, nil
}

// lambda lowers "x -> expr" and "(x, y) -> expr" (FILTER, TRANSFORM,
// REDUCE): the parameters are dropped from the text and read as NULL in the
// body, so they never become columns.
func (l *lowerer) lambda(i int) (int, error) {
	if i == 0 {
		return 0, l.fail(i, "'->' without parameters")
	}
	params := map[string]bool{}
	p := l.t[i-1]
	switch {
	case p.Kind == TokIdent || p.Kind == TokQuotedIdent:
		params[p.Value] = true
		l.out, l.src, l.glue = l.out[:len(l.out)-1], l.src[:len(l.src)-1], l.glue[:len(l.glue)-1]
	case p.isOp(")") && l.operand >= 0:
		// (x, y): the group was emitted from unit l.operand on
		for k := i - 2; k >= 0 && !l.t[k].isOp("("); k-- {
			if v, ok := nameValue(l.t[k]); ok {
				params[v] = true
			}
		}
		l.out, l.src, l.glue = l.out[:l.operand], l.src[:l.operand], l.glue[:l.operand]
	default:
		return 0, l.fail(i, "'->' without parameters")
	}
	l.lambdas = append(l.lambdas, lambdaScope{depth: len(l.stack), names: params})
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
		j = l.after(j)
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
