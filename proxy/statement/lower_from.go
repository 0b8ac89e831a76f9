package statement

import (
	"strconv"
	"strings"
)

// tableRef lowers a table or stage reference the classifier found in a FROM
// list, with its time travel, sampling and alias.
func (l *lowerer) tableRef(i int, ref tableRef) (int, error) {
	if ref.fn {
		return l.tableFunc(i)
	}
	if ref.result { // FROM $1: an earlier statement's result, untraced
		l.emit("(SELECT NULL)", l.t[i].Pos)
		return l.funcAlias(i+1, "RESULT_SCAN", nil)
	}
	end := ref.end - l.q.base
	var enc, alias string
	switch {
	case ref.stage != nil:
		enc = l.register(qname{}, ref.stage)
		alias = `"#s` + strconv.Itoa(len(l.lw.tables)-1) + `"`
	case ref.name.dynamic != "":
		return 0, l.fail(i, "table name from %s", ref.name.dynamic)
	case len(ref.name.parts) == 3:
		enc = l.register(ref.name, nil)
		alias = quoteName(ref.name.parts[2])
	default:
		var err error
		if enc, err = l.encodeChain(i, ref.name.parts); err != nil {
			return 0, err
		}
	}
	l.lastRef = len(l.out)
	l.emit(enc, l.t[i].Pos)
	j := l.skipTableClauses(end)
	if ref.stage != nil && l.peek(j).isOp("(") { // @stage (FILE_FORMAT => ...)
		j = l.skipTableClauses(l.after(j))
	}
	switch n := l.peek(j); {
	case n.is("AS"):
		l.emit("AS", n.Pos)
		j++
		v, ok := nameValue(l.peek(j))
		if !ok {
			return 0, l.fail(j, "alias expected")
		}
		l.emit(quoteName(v), l.peek(j).Pos)
		j++
	case n.Kind == TokQuotedIdent || n.Kind == TokIdent && !structural[n.Value]:
		l.emit(quoteName(n.Value), n.Pos)
		j++
	default:
		if alias != "" {
			l.emit("AS "+alias, l.t[i].Pos)
		}
	}
	return l.skipTableClauses(j), nil
}

// skipTableClauses drops time travel (AT, BEFORE, CHANGES), sampling and
// their arguments after a table reference; none changes which columns the
// query reads.
func (l *lowerer) skipTableClauses(j int) int {
	return tableClauses(l.t, j, func(what string) { l.lossy(what + " dropped") })
}

// tableClauses returns the index after the time travel (AT, BEFORE,
// CHANGES, END), sampling and their arguments that follow a table
// reference at toks[j], telling passed of each ("time travel",
// "sampling"; END's range closes a CHANGES clause, which told already).
func tableClauses(toks []Token, j int, passed func(what string)) int {
	for {
		n := peekTok(toks, j)
		switch {
		case (n.is("AT") || n.is("BEFORE") || n.is("CHANGES")) && peekTok(toks, j+1).isOp("("):
			passed("time travel")
			j = skipParens(toks, j+1)
		case n.is("END") && peekTok(toks, j+1).isOp("(") && j > 0 && toks[j-1].isOp(")"):
			j = skipParens(toks, j+1)
		case n.is("SAMPLE") || n.is("TABLESAMPLE"):
			k := j + 1
			if m := peekTok(toks, k); m.is("BERNOULLI") || m.is("ROW") || m.is("SYSTEM") || m.is("BLOCK") {
				k++
			}
			if !peekTok(toks, k).isOp("(") {
				return j
			}
			passed("sampling")
			j = skipParens(toks, k)
			if m := peekTok(toks, j); (m.is("REPEATABLE") || m.is("SEED")) && peekTok(toks, j+1).isOp("(") {
				j = skipParens(toks, j+1)
			}
		default:
			return j
		}
	}
}

// tableFunc lowers a table function in FROM — TABLE(f(args)), LATERAL
// f(args), f(args) — into a derived table selecting its arguments:
// (SELECT args) AS alias. The side record keeps the function's name, so
// every column read from the alias derives from the arguments.
func (l *lowerer) tableFunc(i int) (int, error) {
	j := i
	wrapped := false
	if l.t[j].is("TABLE") && l.peek(j+1).isOp("(") {
		wrapped = true
		j += 2
	}
	q, end, ok := parseName(l.t, j)
	if !ok || !l.peek(end).isOp("(") {
		return 0, l.fail(j, "table function expected")
	}
	fn := strings.Join(q.parts, ".") // a qualified name is never the built-in
	var scan *resultArg
	if fn == "RESULT_SCAN" {
		scan = l.resultArgAt(end)
	}
	if wrapped {
		l.stack = append(l.stack, frame{kind: frameDrop, start: len(l.out), fn: fn, aliasAfter: true, scan: scan})
	}
	f := frame{kind: framePlain, start: len(l.out), fn: fn, aliasAfter: !wrapped, scan: scan}
	l.stack = append(l.stack, f)
	l.emit("(SELECT", l.t[j].Pos)
	if l.peek(end + 1).isOp(")") {
		l.emit("NULL", l.t[j].Pos)
	}
	return end + 1, nil
}

// funcAlias reads the alias after a lowered table function and records it.
func (l *lowerer) funcAlias(j int, fn string, scan *resultArg) (int, error) {
	var alias string
	switch n := l.peek(j); {
	case n.is("AS"):
		j++
		v, ok := nameValue(l.peek(j))
		if !ok {
			return 0, l.fail(j, "alias expected")
		}
		alias = quoteName(v)
		j++
	case n.Kind == TokQuotedIdent || n.Kind == TokIdent && !structural[n.Value]:
		alias = quoteName(n.Value)
		j++
	default:
		l.nfn++
		alias = `"#f` + strconv.Itoa(l.nfn) + `"`
	}
	tf := tableFunc{name: fn, scan: scan}
	if l.peek(j).isOp("(") { // alias(col, col, ...)
		end := l.after(j)
		for k := j + 1; k < end-1; k++ {
			if v, ok := nameValue(l.t[k]); ok {
				tf.columns = append(tf.columns, v)
			}
		}
		j = end
	}
	l.emit("AS "+alias, l.t[j-1].Pos)
	put(&l.lw.funcs, alias[1:len(alias)-1], tf)
	return j, nil
}

// starMods reads EXCLUDE, RENAME and REPLACE after a select-list star whose
// field starts at unit k.
func (l *lowerer) starMods(i, k int) (int, error) {
	var m *starMod
	get := func() *starMod {
		if m == nil {
			m = &starMod{exclude: map[string]bool{}, rename: map[string]string{}, replace: map[string]string{}}
			put(&l.mods, k, m)
		}
		return m
	}
	for {
		n := l.peek(i)
		switch {
		case n.is("EXCLUDE") || n.is("RENAME"):
			cols, next, err := l.modList(i + 1)
			if err != nil {
				return 0, err
			}
			for _, c := range cols {
				if n.is("EXCLUDE") {
					get().exclude[c[0]] = true
				} else if len(c) == 2 {
					get().rename[c[0]] = c[1]
				} else {
					return 0, l.fail(i, "RENAME without AS")
				}
			}
			i = next
		case n.is("REPLACE") && l.peek(i+1).isOp("("):
			next, err := l.replaceList(i+2, get())
			if err != nil {
				return 0, err
			}
			i = next
		case n.is("ILIKE") || n.is("LIKE"):
			return 0, l.fail(i, "* %s", n.Value)
		default:
			return i, nil
		}
	}
}

// modList reads "col" or "(col, col)" or "(a AS b, ...)" lists.
func (l *lowerer) modList(i int) ([][]string, int, error) {
	var out [][]string
	paren := l.peek(i).isOp("(")
	if paren {
		i++
	}
	for {
		v, ok := nameValue(l.peek(i))
		if !ok {
			return nil, i, l.fail(i, "column expected")
		}
		item := []string{v}
		i++
		if l.peek(i).is("AS") {
			w, ok := nameValue(l.peek(i + 1))
			if !ok {
				return nil, i, l.fail(i, "column expected")
			}
			item = append(item, w)
			i += 2
		}
		out = append(out, item)
		if paren && l.peek(i).isOp(",") {
			i++
			continue
		}
		break
	}
	if paren {
		if !l.peek(i).isOp(")") {
			return nil, i, l.fail(i, "')' expected")
		}
		i++
	}
	return out, i, nil
}

// replaceList emits each REPLACE (expr AS col) expression as a hidden
// select field "#rN" and records which column it replaces.
func (l *lowerer) replaceList(i int, m *starMod) (int, error) {
	for {
		l.emit(",", l.peek(i).Pos)
		depth := len(l.stack)
		for i < len(l.t) && !(len(l.stack) == depth && l.t[i].is("AS")) {
			next, err := l.step(i)
			if err != nil {
				return 0, err
			}
			i = next
		}
		col, ok := nameValue(l.peek(i + 1))
		if !ok {
			return 0, l.fail(i, "REPLACE without a column")
		}
		l.nrep++
		hidden := "#r" + strconv.Itoa(l.nrep)
		l.emit(`AS "`+hidden+`"`, l.peek(i).Pos)
		put(&l.lw.hidden, hidden, true)
		m.replace[col] = hidden
		i += 2
		if l.peek(i).isOp(",") {
			i++
			continue
		}
		if !l.peek(i).isOp(")") {
			return 0, l.fail(i, "')' expected after REPLACE")
		}
		return i + 1, nil
	}
}
