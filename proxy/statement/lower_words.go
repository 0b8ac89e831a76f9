package statement

import (
	"strconv"
	"strings"
)

// structural lists the keywords of query syntax that are emitted as they
// are. Every other unquoted word is a name and is emitted quoted.
var structural = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT DISTINCT ALL FROM WHERE GROUP BY HAVING ORDER ASC DESC LIMIT
		OFFSET AS ON USING JOIN INNER LEFT RIGHT OUTER CROSS NATURAL UNION EXCEPT INTERSECT WITH
		RECURSIVE AND OR NOT IN IS NULL TRUE FALSE LIKE RLIKE REGEXP BETWEEN CASE WHEN THEN ELSE END
		EXISTS ANY SOME OVER PARTITION ROWS RANGE UNBOUNDED PRECEDING FOLLOWING CURRENT ROW INTERVAL
		ESCAPE LATERAL WINDOW QUALIFY ILIKE MINUS FULL TOP FETCH NULLS IGNORE RESPECT WITHIN ASOF
		PIVOT UNPIVOT MATCH_RECOGNIZE CONNECT START SAMPLE TABLESAMPLE MATCH_CONDITION COLLATE VALUES
		CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP LOCALTIME LOCALTIMESTAMP CURRENT_USER
		INTO SET UPDATE DELETE INSERT MERGE CHANGES`) {
		structural[w] = true
	}
}

// word lowers an unquoted word.
func (l *lowerer) word(i int) (int, error) {
	t := l.t[i]
	v := t.Value
	n := l.peek(i + 1)
	depth := len(l.stack)
	if f := l.top(); f != nil && (f.kind == frameCall || f.kind == frameCast) {
		switch {
		case f.kind == frameCall && (v == "FROM" || v == "FOR" || v == "IN" && f.fn == "POSITION"):
			l.emit(",", t.Pos)
			return i + 1, nil
		case f.kind == frameCall && (v == "BOTH" || v == "LEADING" || v == "TRAILING"):
			return i + 1, nil
		case f.kind == frameCall && v == "DISTINCT" && f.first:
			return i + 1, nil
		case f.kind == frameCast && v == "AS":
			typ, next, err := l.castType(i + 1)
			if err != nil {
				return 0, err
			}
			l.emit("AS "+typ, t.Pos)
			return next, nil
		}
	}
	if f := l.top(); f != nil && f.kind == frameWithin && (v == "ASC" || v == "DESC") {
		return i + 1, nil
	}
	if l.datePart(i) { // DATEADD(day, ...): a date part, not a column named DAY
		l.operand = len(l.out)
		l.emit(quoteString(v), t.Pos)
		return i + 1, nil
	}
	switch v {
	case "CASE":
		l.cases = append(l.cases, len(l.out))
	case "END":
		if len(l.cases) > 0 {
			l.operand = l.cases[len(l.cases)-1]
			l.cases = l.cases[:len(l.cases)-1]
			l.opEnd = i + 1
		}
	}
	if n.isOp("(") && (v == "LIKE" || v == "ILIKE" || v == "RLIKE" || v == "REGEXP" || v == "COLLATE") && !l.afterOperand(i) {
		return l.call(i, v, i+1)
	}
	switch v {
	case "SELECT":
		l.having[depth] = false
		l.emit(v, t.Pos)
		if n.is("DISTINCT") || n.is("ALL") {
			l.emit(n.Value, n.Pos)
			i++
		}
		if l.peek(i+1).is("TOP") && l.peek(i+2).Kind == TokNumber {
			if depth == 0 {
				if v, err := strconv.ParseInt(l.peek(i+2).Value, 10, 64); err == nil {
					l.lw.topLimit = &v
				}
			}
			return i + 3, nil
		}
		return i + 1, nil
	case "HAVING":
		l.having[depth] = true
		l.emit(v, t.Pos)
		return i + 1, nil
	case "QUALIFY":
		l.lossy("QUALIFY read as HAVING")
		if l.having[depth] {
			l.emit("AND", t.Pos)
		} else {
			l.having[depth] = true
			l.emit("HAVING", t.Pos)
		}
		return i + 1, nil
	case "ILIKE":
		l.emit("LIKE", t.Pos)
		return l.likeAny(i + 1)
	case "LIKE", "RLIKE":
		l.emit(v, t.Pos)
		return l.likeAny(i + 1)
	case "MINUS":
		l.emit("EXCEPT", t.Pos)
		return i + 1, nil
	case "FULL":
		l.lossy("FULL JOIN read as LEFT JOIN")
		l.emit("LEFT", t.Pos)
		return i + 1, nil
	case "FETCH":
		if (n.is("FIRST") || n.is("NEXT")) && l.peek(i+2).Kind == TokNumber {
			l.emit("LIMIT "+l.peek(i+2).Value, t.Pos)
			j := i + 3
			for j < len(l.t) && (l.t[j].is("ROW") || l.t[j].is("ROWS") || l.t[j].is("ONLY")) {
				j++
			}
			return j, nil
		}
		return 0, l.fail(i, "FETCH form")
	case "NULLS":
		if n.is("FIRST") || n.is("LAST") {
			return i + 2, nil
		}
	case "IGNORE", "RESPECT":
		if n.is("NULLS") {
			return i + 2, nil
		}
	case "WITHIN":
		return l.withinGroup(i)
	case "GROUP":
		if n.is("BY") {
			l.emit("GROUP BY", t.Pos)
			j := i + 2
			switch {
			case l.peek(j).is("ALL"):
				l.emit(`"#all"`, l.peek(j).Pos)
				return j + 1, nil
			case (l.peek(j).is("ROLLUP") || l.peek(j).is("CUBE")) && l.peek(j+1).isOp("("):
				return j + 1, nil
			case l.peek(j).is("GROUPING") && l.peek(j+1).is("SETS"):
				return j + 2, nil
			}
			return j, nil
		}
	case "IS":
		k := i + 1
		not := false
		if l.peek(k).is("NOT") {
			not = true
			k++
		}
		if l.peek(k).is("DISTINCT") && l.peek(k+1).is("FROM") {
			if not {
				l.emit("<=>", t.Pos)
			} else {
				l.lossy("IS DISTINCT FROM read as <>")
				l.emit("<>", t.Pos)
			}
			return k + 2, nil
		}
	case "INTERVAL":
		if n.Kind == TokString {
			l.emit("INTERVAL 1 DAY", t.Pos)
			return i + 2, nil
		}
	case "COLLATE":
		if n.Kind == TokString {
			return i + 2, nil
		}
	case "ESCAPE":
		if n.Kind == TokString && i > 0 && l.t[i-1].isOp(")") { // after LIKE ANY (...) read as IN
			return i + 2, nil
		}
	case "CAST", "TRY_CAST":
		if n.isOp("(") {
			l.stack = append(l.stack, frame{kind: frameCast, start: len(l.out)})
			l.emit("CAST", t.Pos)
			l.emitGlued("(", n.Pos)
			return i + 2, nil
		}
	case "EXTRACT", "DATE_PART":
		if n.isOp("(") && (l.peek(i+2).Kind == TokIdent || l.peek(i+2).Kind == TokString) && l.peek(i+3).is("FROM") {
			l.stack = append(l.stack, frame{kind: frameCall, start: len(l.out), fn: "DATE_PART"})
			l.emit(`"DATE_PART"`, t.Pos)
			l.emitGlued("(", n.Pos)
			l.emit(quoteString(l.peek(i+2).Value), l.peek(i+2).Pos)
			return i + 3, nil
		}
	case "DATE", "TIME", "TIMESTAMP":
		if n.Kind == TokString {
			l.operand = len(l.out)
			l.emit(v, t.Pos)
			return i + 1, nil
		}
	case "IDENTIFIER":
		if n.isOp("(") {
			q, end, ok := parseIdentifierCall(l.t, i)
			if !ok || q.dynamic != "" {
				return 0, l.fail(i, "IDENTIFIER of a variable")
			}
			return l.chain(i, q.parts, end)
		}
	case "SAMPLE", "TABLESAMPLE":
		if j := l.skipTableClauses(i); j > i {
			return j, nil
		}
		return 0, l.fail(i, "%s", v)
	case "INTO":
		// SELECT ... INTO :a, :b assigns scripting variables: no table, no column
		if n.isOp(":") {
			j := i + 1
			for l.peek(j).isOp(":") && l.peek(j+1).Kind == TokIdent {
				j += 2
				if !l.peek(j).isOp(",") || !l.peek(j+1).isOp(":") {
					break
				}
				j++
			}
			return j, nil
		}
		return 0, l.fail(i, "INTO")
	case "PIVOT", "UNPIVOT":
		if n.isOp("(") || n.is("INCLUDE") || n.is("EXCLUDE") {
			return l.pivot(i)
		}
		return 0, l.fail(i, "%s", v)
	case "ASOF":
		if n.is("JOIN") { // ASOF JOIN b MATCH_CONDITION (c) [ON d] -> JOIN b ON (c) [AND d]
			l.lossy("ASOF JOIN read as JOIN")
			return i + 1, nil
		}
		return 0, l.fail(i, "%s", v)
	case "MATCH_CONDITION":
		if n.isOp("(") {
			l.emit("ON", t.Pos)
			l.asof = true
			return i + 1, nil
		}
		return 0, l.fail(i, "%s", v)
	case "ON":
		if l.asof && i > 0 && l.t[i-1].isOp(")") {
			l.asof = false
			l.emit("AND", t.Pos)
			return i + 1, nil
		}
		l.asof = false
	case "VALUES":
		if i > 0 && (l.t[i-1].isOp("(") || l.t[i-1].is("FROM") || l.t[i-1].is("JOIN") || l.t[i-1].isOp(",")) && n.isOp("(") {
			return l.values(i)
		}
		return 0, l.fail(i, "%s", v)
	case "MATCH_RECOGNIZE", "CONNECT", "START",
		"CHANGES", "SET", "UPDATE", "DELETE", "INSERT", "MERGE", "TOP":
		if !n.isOp("(") || structural[v] && v != "INSERT" {
			return 0, l.fail(i, "%s", v)
		}
	}
	if v == "X" && n.Kind == TokString && n.Pos == t.End { // X'0A1B' binary literal
		l.operand = len(l.out)
		l.emit(quoteString(n.Value), n.Pos)
		return i + 2, nil
	}
	if v == "DIRECTED" && l.peek(i+1).is("JOIN") {
		return i + 1, nil
	}
	if n.isOp("(") && (!structural[v] || v == "LEFT" || v == "RIGHT" || bareFunctions[v] || v == "INSERT" ||
		(v == "LIKE" || v == "ILIKE" || v == "RLIKE" || v == "REGEXP" || v == "COLLATE") && !l.afterOperand(i)) {
		return l.call(i, v, i+1)
	}
	if structural[v] {
		if bareFunctions[v] || v == "NULL" || v == "TRUE" || v == "FALSE" {
			l.operand = len(l.out)
			l.opEnd = i + 1
		}
		l.emit(v, t.Pos)
		return i + 1, nil
	}
	return l.name(i)
}

// values lowers a VALUES list used as a table into a UNION ALL of SELECTs
// whose columns are named COLUMN1, COLUMN2... as Snowflake names them.
func (l *lowerer) values(i int) (int, error) {
	bare := !l.t[i-1].isOp("(")
	if bare {
		l.lastRef = len(l.out)
		l.emit("(", l.t[i].Pos)
	}
	j := i + 1
	for row := 0; l.peek(j).isOp("("); row++ {
		end := l.after(j)
		if row == 0 {
			l.emit("SELECT", l.t[j].Pos)
		} else {
			l.emit("UNION ALL SELECT", l.t[j].Pos)
		}
		col, k, depth := 1, j+1, len(l.stack)
		for k < end-1 {
			if row == 0 && len(l.stack) == depth && l.t[k].isOp(",") {
				l.emit(`AS "_COLUMN`+strconv.Itoa(col)+`"`, l.t[k].Pos)
				col++
			}
			next, err := l.step(k)
			if err != nil {
				return 0, err
			}
			k = next
		}
		if row == 0 {
			l.emit(`AS "_COLUMN`+strconv.Itoa(col)+`"`, l.t[end-1].Pos)
		}
		j = end
		if !l.peek(j).isOp(",") || !l.peek(j+1).isOp("(") {
			break
		}
		j++
	}
	if !bare {
		return j, nil
	}
	l.emit(")", l.t[j-1].Pos)
	return l.derivedAlias(j, l.t[j-1].Pos)
}

// likeAny lowers LIKE ANY (...) to IN (...).
func (l *lowerer) likeAny(i int) (int, error) {
	n := l.peek(i)
	if (n.is("ANY") || n.is("ALL") || n.is("SOME")) && l.peek(i+1).isOp("(") {
		l.lossy("LIKE ANY read as IN")
		l.out[len(l.out)-1] = "IN"
		return i + 1, nil
	}
	return i, nil
}

// withinGroup merges WITHIN GROUP (ORDER BY x) into the preceding call's
// arguments, so x stays a source of the aggregate.
func (l *lowerer) withinGroup(i int) (int, error) {
	if !l.peek(i+1).is("GROUP") || !l.peek(i+2).isOp("(") || !l.peek(i+3).is("ORDER") || !l.peek(i+4).is("BY") {
		return 0, l.fail(i, "WITHIN form")
	}
	if len(l.out) == 0 || l.out[len(l.out)-1] != ")" {
		return 0, l.fail(i, "WITHIN GROUP after a non-call")
	}
	start := l.operand
	l.out, l.src, l.glue = l.out[:len(l.out)-1], l.src[:len(l.src)-1], l.glue[:len(l.glue)-1]
	if len(l.out) > 0 && l.out[len(l.out)-1] != "(" {
		l.emit(",", l.t[i].Pos)
	}
	l.stack = append(l.stack, frame{kind: frameWithin, start: start})
	return i + 5, nil
}
