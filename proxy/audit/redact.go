package audit

import (
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// redactedUnlexable replaces a statement the lexer cannot read (an
// unterminated string, say): where the literals are is unknown, so none of
// the text is kept.
const redactedUnlexable = "/* statement redacted: it could not be lexed */"

// RedactLiterals returns sql with every literal (string, $$ string,
// number, file URI) replaced by ? and every comment replaced by an empty
// one, keeping identifiers, keywords and layout. It uses the gateway's own
// Snowflake lexer, so quoting rules are the ones the analyser applies.
func RedactLiterals(sql string) string {
	toks, err := statement.Lex(sql)
	if err != nil {
		return redactedUnlexable
	}
	var b strings.Builder
	b.Grow(len(sql))
	last := 0
	for _, t := range toks {
		writeGap(&b, sql[last:t.Pos])
		switch t.Kind {
		case statement.TokString, statement.TokDollarString, statement.TokNumber, statement.TokURI:
			b.WriteByte('?')
		default:
			b.WriteString(sql[t.Pos:t.End])
		}
		last = t.End
	}
	writeGap(&b, sql[last:])
	return b.String()
}

// writeGap copies the text between two tokens: whitespace as it is, and a
// comment (anything else) as /**/, since a comment can hold anything.
func writeGap(b *strings.Builder, gap string) {
	if strings.TrimSpace(gap) == "" {
		b.WriteString(gap)
		return
	}
	lead := gap[:len(gap)-len(strings.TrimLeft(gap, " \t\r\n"))]
	trail := gap[len(strings.TrimRight(gap, " \t\r\n")):]
	b.WriteString(lead)
	b.WriteString("/**/")
	b.WriteString(trail)
}
