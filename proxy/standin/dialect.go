package standin

import (
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// session is what a rewrite reads of the session: its stored queries and
// its context.
type session interface {
	storedQuery(id string) (string, bool)
	current(fn string) (*string, bool)
	infoSchema(toks []statement.Token, i int) (query string, end int, ok bool)
}

// Token-level rewrites of Snowflake-only types and functions into DuckDB's.
var (
	typeRewrites = map[string]string{
		"VARIANT": "JSON", "OBJECT": "JSON",
		"TIMESTAMP_NTZ": "TIMESTAMP", "TIMESTAMP_LTZ": "TIMESTAMPTZ", "TIMESTAMP_TZ": "TIMESTAMPTZ",
		"DATETIME": "TIMESTAMP", "STRING": "VARCHAR", "BYTEINT": "TINYINT",
	}
	funcRewrites = map[string]string{
		"PARSE_JSON": "json", "TRY_PARSE_JSON": "json", "TO_VARIANT": "to_json", "TO_OBJECT": "to_json", "TO_ARRAY": "to_json",
		"OBJECT_CONSTRUCT": "json_object", "OBJECT_CONSTRUCT_KEEP_NULL": "json_object", "ARRAY_CONSTRUCT": "json_array",
		"NVL": "coalesce", "IFF": "if", "SYSDATE": "now", "TO_TIMESTAMP_TZ": "sg_tz",
		"DATEADD": "sg_dateadd", "TIMEADD": "sg_dateadd", "TIMESTAMPADD": "sg_dateadd",
		"TIMEDIFF": "datediff", "TIMESTAMPDIFF": "datediff",
	}
	// partFunctions take a date or time part as their first argument,
	// which Snowflake lets be a bare word (DATEADD(year, 1, d)) and DuckDB
	// reads as a column: the stand-in passes it as a string.
	partFunctions = map[string]bool{
		"DATEADD": true, "TIMEADD": true, "TIMESTAMPADD": true, "DATEDIFF": true, "TIMEDIFF": true,
		"TIMESTAMPDIFF": true, "DATE_TRUNC": true, "DATE_PART": true, "TIME_SLICE": true,
	}
)

// rewrite returns sql with the Snowflake-only tokens replaced. The text is
// rebuilt from the tokens, so that DuckDB reads the statement the gateway
// analysed: comments go (DuckDB does not know Snowflake's // comments),
// and strings are written as DuckDB reads them (it does not know the
// backslash escapes of Snowflake's strings, nor its $$ strings' rules).
// The spacing between tokens is kept. TABLE(RESULT_SCAN('<id>')) becomes
// the query stored under that id (resultscan.go); an unknown id is an
// error, as on Snowflake. Context functions become the session's values
// (session.go), and IDENTIFIER('name') the name.
func rewrite(sql string, toks []statement.Token, sess session) (string, error) {
	var b strings.Builder
	last := 0
	gap := func(pos int) {
		between := sql[last:pos]
		if strings.TrimSpace(between) != "" { // a comment
			between = " "
		}
		b.WriteString(between)
	}
	emit := func(t statement.Token, text string) {
		gap(t.Pos)
		b.WriteString(text)
		last = t.End
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if id, end, ok := resultScanAt(toks, i); ok {
			q, known := sess.storedQuery(id)
			if !known {
				return "", sqlError("002003", "02000", "SQL compilation error: Statement "+id+" not found")
			}
			gap(t.Pos)
			b.WriteString("(" + q + ")")
			last = toks[end].End
			i = end
			continue
		}
		if (t.Kind == statement.TokIdent || t.Kind == statement.TokQuotedIdent) && (i == 0 || toks[i-1].Value != ".") {
			if q, end, ok := sess.infoSchema(toks, i); ok {
				gap(t.Pos)
				b.WriteString(q)
				last, i = toks[end].End, end
				continue
			}
		}
		// 'literal'::TIMESTAMP_TZ keeps its offset: see tzMacro.
		if t.Kind == statement.TokString && i+2 < len(toks) && toks[i+1].Value == "::" && toks[i+2].Kind == statement.TokIdent && toks[i+2].Value == "TIMESTAMP_TZ" {
			gap(t.Pos)
			b.WriteString("sg_tz(" + quoteString(t.Value) + ")")
			last = toks[i+2].End
			i += 2
			continue
		}
		switch t.Kind {
		case statement.TokString, statement.TokDollarString:
			text := quoteString(t.Value)
			// E'...' is a DuckDB string with backslash escapes.
			if i > 0 && toks[i-1].End == t.Pos && toks[i-1].Kind == statement.TokIdent && toks[i-1].Value == "E" {
				text = " " + text
			}
			emit(t, text)
			continue
		case statement.TokIdent:
		default:
			emit(t, sql[t.Pos:t.End])
			continue
		}
		prevDot := i > 0 && toks[i-1].Kind == statement.TokOp && toks[i-1].Value == "."
		nextParen := i+1 < len(toks) && toks[i+1].Kind == statement.TokOp && toks[i+1].Value == "("
		emptyCall := nextParen && i+2 < len(toks) && toks[i+2].Value == ")"
		if !prevDot && (emptyCall || (!nextParen && bareContext[t.Value])) {
			if v, ok := sess.current(t.Value); ok {
				text := "NULL"
				if v != nil {
					text = quoteString(*v)
				}
				emit(t, text)
				if emptyCall {
					last, i = toks[i+2].End, i+2
				}
				continue
			}
		}
		if t.Value == "IDENTIFIER" && nextParen && i+3 < len(toks) && toks[i+3].Value == ")" &&
			(toks[i+2].Kind == statement.TokString || toks[i+2].Kind == statement.TokDollarString) {
			name, ok := identifierName(toks[i+2].Value)
			if !ok {
				return "", sqlError("002003", "42S02", "SQL compilation error: invalid identifier "+quoteString(toks[i+2].Value))
			}
			emit(t, name)
			last, i = toks[i+3].End, i+3
			continue
		}
		prevCast := i > 0 && toks[i-1].Kind == statement.TokOp && toks[i-1].Value == "::"
		partArg := i >= 2 && toks[i-1].Value == "(" && toks[i-2].Kind == statement.TokIdent && partFunctions[toks[i-2].Value] &&
			i+1 < len(toks) && toks[i+1].Value == ","
		switch {
		case prevDot:
			emit(t, sql[t.Pos:t.End])
		case t.Value == "TRANSIENT" && i > 0 && (toks[i-1].Value == "CREATE" || toks[i-1].Value == "REPLACE"):
			// Snowflake's tables without fail-safe: DuckDB's tables have none.
			emit(t, "")
		case partArg:
			emit(t, quoteString(strings.ToLower(t.Value)))
		case nextParen && funcRewrites[t.Value] != "":
			emit(t, funcRewrites[t.Value])
		case !nextParen && typeRewrites[t.Value] != "":
			emit(t, typeRewrites[t.Value])
		case t.Value == "ARRAY" && (prevCast || (!nextParen && i+1 < len(toks) && (toks[i+1].Value == "," || toks[i+1].Value == ")"))):
			emit(t, "JSON")
		case t.Value == "NUMBER":
			if nextParen {
				emit(t, "DECIMAL")
			} else {
				emit(t, "DECIMAL(38,0)")
			}
		default:
			emit(t, sql[t.Pos:t.End])
		}
	}
	gap(len(sql))
	return b.String(), nil
}

// tzMacro gives the stand-in TIMESTAMP_TZ values that keep their offset,
// which DuckDB's TIMESTAMPTZ does not: a struct of the instant and the
// offset in minutes, which the stand-in reports as timestamp_tz.
const tzMacro = `CREATE OR REPLACE TEMP MACRO sg_tz(s) AS {'ts': CAST(s AS TIMESTAMPTZ), 'tz': coalesce(
	(CASE WHEN regexp_extract(s, '([+-])(\d{2}):?(\d{2})\s*$', 1) = '-' THEN -1 ELSE 1 END) *
	(TRY_CAST(regexp_extract(s, '([+-])(\d{2}):?(\d{2})\s*$', 2) AS INTEGER) * 60 +
	 TRY_CAST(regexp_extract(s, '([+-])(\d{2}):?(\d{2})\s*$', 3) AS INTEGER)), 0)}`

// dateaddMacro is Snowflake's DATEADD(part, n, d) (and TIMEADD,
// TIMESTAMPADD), with the part as a string and its Snowflake synonyms.
const dateaddMacro = `CREATE OR REPLACE TEMP MACRO sg_dateadd(part, n, d) AS d + CASE
	WHEN lower(part) IN ('year', 'y', 'yy', 'yyy', 'yyyy', 'yr', 'years', 'yrs') THEN to_years(CAST(n AS INTEGER))
	WHEN lower(part) IN ('quarter', 'q', 'qtr', 'qtrs', 'quarters') THEN to_months(CAST(n AS INTEGER) * 3)
	WHEN lower(part) IN ('month', 'mm', 'mon', 'mons', 'months') THEN to_months(CAST(n AS INTEGER))
	WHEN lower(part) IN ('week', 'w', 'wk', 'weekofyear', 'woy', 'wy', 'weeks') THEN to_weeks(CAST(n AS INTEGER))
	WHEN lower(part) IN ('day', 'd', 'dd', 'days', 'dayofmonth') THEN to_days(CAST(n AS INTEGER))
	WHEN lower(part) IN ('hour', 'h', 'hh', 'hr', 'hours', 'hrs') THEN to_hours(CAST(n AS BIGINT))
	WHEN lower(part) IN ('minute', 'm', 'mi', 'min', 'minutes', 'mins') THEN to_minutes(CAST(n AS BIGINT))
	WHEN lower(part) IN ('second', 's', 'sec', 'seconds', 'secs') THEN to_seconds(CAST(n AS DOUBLE))
	WHEN lower(part) IN ('millisecond', 'ms', 'msec', 'milliseconds') THEN to_milliseconds(CAST(n AS DOUBLE))
	WHEN lower(part) IN ('microsecond', 'us', 'usec', 'microseconds') THEN to_microseconds(CAST(n AS BIGINT))
	WHEN lower(part) IN ('nanosecond', 'ns', 'nsec', 'nanosec', 'nsecond', 'nanoseconds', 'nanosecs') THEN to_microseconds(CAST(n AS BIGINT) // 1000)
	END`

// tzStruct is how DuckDB names the type of sg_tz's result.
const tzStruct = `STRUCT("ts" TIMESTAMPTZ, "tz" INTEGER)`
