package statement

import (
	"slices"
	"strconv"
	"strings"
)

// Names and calls: column chains, the name encoding, function calls and date parts.

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
		if !knownFunction(fn) {
			return 0, l.fail(i, "window function %s is not a known built-in", fn)
		}
		f.kind = frameKnownCall
		l.lossy("window function " + fn + " read as an aggregate")
		l.emit("GROUP_CONCAT", t.Pos)
	default:
		f.kind = frameCall
		name := fn
		cte := l.peek(closeAt).is("AS") && l.peek(closeAt+1).isOp("(") // WITH name (cols) AS (...)
		if !knownFunction(fn) && !cte {                                // its result may come from anywhere
			name = opaqueCall + fn
		}
		l.emit(`"`+strings.ReplaceAll(name, `"`, `""`)+`"`, t.Pos)
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
	var buf [4]string
	parts := buf[:0]
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
	if l.isLambdaParam(parts) {
		l.operand = len(l.out)
		l.emit("NULL", l.t[i].Pos)
		return next, nil
	}
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
	case len(parts) == 1:
		return quoteName(parts[0]), nil
	case len(parts) <= 3:
		var b strings.Builder
		b.Grow(16 * len(parts))
		for k, p := range parts {
			if k > 0 {
				b.WriteByte('.')
			}
			b.WriteString(`"_`)
			b.WriteString(strings.ReplaceAll(p, `"`, `""`))
			b.WriteByte('"')
		}
		return b.String(), nil
	case len(parts) == 4:
		// a copy: parts is the caller's buffer
		return l.register(qname{parts: slices.Clone(parts[:3])}, nil) + "." + quoteName(parts[3]), nil
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
