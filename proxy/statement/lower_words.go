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

// bareFunctions are niladic functions Snowflake lets one write without
// parentheses; TiDB knows them too.
var bareFunctions = map[string]bool{
	"CURRENT_DATE": true, "CURRENT_TIME": true, "CURRENT_TIMESTAMP": true,
	"LOCALTIME": true, "LOCALTIMESTAMP": true, "CURRENT_USER": true,
}

// tidbFunctions are aggregate and window functions TiDB's grammar knows;
// they are emitted bare so DISTINCT, '*' and OVER keep working.
var tidbFunctions = map[string]bool{
	"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true, "STDDEV": true,
	"STDDEV_POP": true, "STDDEV_SAMP": true, "VARIANCE": true, "VAR_POP": true, "VAR_SAMP": true,
	"APPROX_COUNT_DISTINCT": true,
}

// windowOnly are TiDB window functions that need OVER; without it they are
// read as generic calls.
var windowOnly = map[string]bool{
	"ROW_NUMBER": true, "RANK": true, "DENSE_RANK": true, "PERCENT_RANK": true, "CUME_DIST": true,
	"NTILE": true, "LEAD": true, "LAG": true, "FIRST_VALUE": true, "LAST_VALUE": true, "NTH_VALUE": true,
}

// dateFuncs take a date or time part as a bare word: its first argument,
// or LAST_DAY's second.
var dateFuncs = map[string]bool{
	"DATEADD": true, "DATEDIFF": true, "TIMEADD": true, "TIMEDIFF": true, "TIMESTAMPADD": true,
	"TIMESTAMPDIFF": true, "DATE_TRUNC": true, "DATE_PART": true, "TIME_SLICE": true, "LAST_DAY": true,
	"TRUNC": true, "TIMESTAMP_ADD": true, "TIMESTAMP_DIFF": true,
}

// dateParts are the date and time parts Snowflake accepts unquoted.
var dateParts = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`YEAR Y YY YYY YYYY YR YEARS YRS MONTH MM MON MONS MONTHS DAY D DD DAYS
		DAYOFMONTH WEEK W WK WEEKOFYEAR WOY WY WEEKS QUARTER Q QTR QTRS QUARTERS HOUR H HH HR HOURS HRS
		MINUTE M MI MIN MINUTES MINS SECOND S SEC SECONDS SECS MILLISECOND MS MSEC MILLISECONDS
		MICROSECOND US USEC MICROSECONDS NANOSECOND NS NSEC NANOSEC NSECOND NANOSECONDS NANOSECS NSECONDS
		EPOCH_SECOND EPOCH EPOCH_SECONDS EPOCH_MILLISECOND EPOCH_MILLISECONDS EPOCH_MICROSECOND
		EPOCH_MICROSECONDS EPOCH_NANOSECOND EPOCH_NANOSECONDS DAYOFWEEK DOW WEEKDAY DW DAYOFWEEKISO
		DOW_ISO DAYOFYEAR DOY YEAROFWEEK YEAROFWEEKISO WEEKISO WEEK_ISO TIMEZONE_HOUR TZH TIMEZONE_MINUTE TZM`) {
		dateParts[p] = true
	}
}

// datePart reports whether the unquoted word at toks[i] is a date part
// argument of a date function.
func (l *lowerer) datePart(i int) bool {
	f := l.top()
	if f == nil || f.kind != frameCall || !dateFuncs[f.fn] || !dateParts[l.t[i].Value] || i == 0 {
		return false
	}
	n := l.peek(i + 1)
	if !n.isOp(",") && !n.isOp(")") {
		return false
	}
	p := l.t[i-1]
	if f.fn == "LAST_DAY" || f.fn == "TRUNC" {
		return p.isOp(",") && n.isOp(")")
	}
	return p.isOp("(")
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

// call lowers NAME( ... ): TiDB's own aggregates and window functions stay
// bare; a window call TiDB does not know becomes GROUP_CONCAT (an aggregate
// taking any arguments); everything else becomes a generic call to a
// quoted name, which TiDB accepts for any spelling.
func (l *lowerer) call(i int, fn string, open int) (int, error) {
	t := l.t[i]
	closeAt := l.after(open)
	over := false
	for j := closeAt; j < len(l.t); j++ {
		tj := l.t[j]
		if tj.is("OVER") {
			over = true
			break
		}
		if tj.is("IGNORE") || tj.is("RESPECT") || tj.is("NULLS") || tj.is("WITHIN") || tj.is("GROUP") {
			continue
		}
		if tj.isOp("(") && j > 0 && l.t[j-1].is("GROUP") {
			j = l.after(j) - 1
			continue
		}
		break
	}
	l.operand = len(l.out)
	f := frame{start: len(l.out), fn: fn, first: true}
	switch {
	case tidbFunctions[fn] || bareFunctions[fn] || windowOnly[fn] && over:
		f.kind = frameKnownCall
		l.emit(fn, t.Pos)
	case over:
		f.kind = frameKnownCall
		l.lossy("window function " + fn + " read as an aggregate")
		l.emit("GROUP_CONCAT", t.Pos)
		l.lw.renamed = append(l.lw.renamed, fn)
	default:
		f.kind = frameCall
		l.emit(`"`+strings.ReplaceAll(fn, `"`, `""`)+`"`, t.Pos)
	}
	l.stack = append(l.stack, f)
	l.emitGlued("(", l.t[open].Pos)
	if l.peek(open+1).isOp("*") && l.peek(open+2).isOp(")") && f.kind == frameCall {
		l.emit(`"#*"`, l.t[open+1].Pos)
		return open + 2, nil
	}
	return open + 1, nil
}

// name lowers a (possibly qualified) name, a qualified function call, or
// t.* with its modifiers.
func (l *lowerer) name(i int) (int, error) {
	var parts []string
	j := i
	for {
		v, ok := nameValue(l.peek(j))
		if !ok {
			return 0, l.fail(j, "name expected")
		}
		parts = append(parts, v)
		j++
		if l.peek(j).isOp(".") && (l.peek(j+1).Kind == TokIdent || l.peek(j+1).Kind == TokQuotedIdent) {
			j++
			continue
		}
		break
	}
	if l.peek(j).isOp("(") {
		fn := strings.Join(parts, ".")
		return l.call(i, fn, j)
	}
	if l.peek(j).isOp(".") && l.peek(j+1).isOp("*") {
		enc, err := l.encodeChain(i, parts)
		if err != nil {
			return 0, err
		}
		l.emit(enc+".*", l.t[i].Pos)
		return l.starMods(j+2, len(l.out)-1)
	}
	return l.chain(i, parts, j)
}

// chain emits a column reference.
func (l *lowerer) chain(i int, parts []string, next int) (int, error) {
	enc, err := l.encodeChain(i, parts)
	if err != nil {
		return 0, err
	}
	l.operand = len(l.out)
	l.emit(enc, l.t[i].Pos)
	return next, nil
}

// encodeChain encodes up to three parts directly; a four-part column name
// (db.schema.table.column) registers its table.
func (l *lowerer) encodeChain(i int, parts []string) (string, error) {
	switch {
	case len(parts) <= 3:
		enc := make([]string, len(parts))
		for k, p := range parts {
			enc[k] = quoteName(p)
		}
		return strings.Join(enc, "."), nil
	case len(parts) == 4:
		return l.register(qname{parts: parts[:3]}, nil) + "." + quoteName(parts[3]), nil
	}
	return "", l.fail(i, "name with %d parts", len(parts))
}

// register gives a three-part name or a stage a generated name.
func (l *lowerer) register(q qname, stage *Object) string {
	key := strings.Join(q.parts, "\x00")
	if stage != nil {
		key = "@" + stage.Database + "\x00" + stage.Schema + "\x00" + stage.Name
	}
	k, ok := l.names[key]
	if !ok {
		k = len(l.lw.tables)
		l.names[key] = k
		l.lw.tables = append(l.lw.tables, loweredTable{name: q, stage: stage})
	}
	return `"#` + strconv.Itoa(k) + `"`
}
