package statement

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenKind is the lexical class of a token.
type TokenKind uint8

// The token kinds. Whitespace and comments are not tokens: the lexer skips
// them, keeping every token's byte offset in the source.
const (
	TokIllegal      TokenKind = iota // a character Snowflake does not accept here
	TokIdent                         // unquoted identifier or keyword; Value is upper-cased
	TokQuotedIdent                   // "quoted" identifier; Value is unescaped, case kept
	TokString                        // '...' string; Value is unescaped
	TokDollarString                  // $$...$$ string; Value is the body
	TokNumber                        // 1, 1.5, .5, 1e-3
	TokVariable                      // $1 (positional column) or $name (session variable); Value upper-cased
	TokStage                         // @stage, @~/path, @%table, @db.s.stage/path
	TokURI                           // an unquoted file:// URI, as PUT and GET take
	TokOp                            // punctuation and operators; Value is the operator
)

// String names the kind for messages.
func (k TokenKind) String() string {
	switch k {
	case TokIllegal:
		return "illegal"
	case TokIdent:
		return "identifier"
	case TokQuotedIdent:
		return "quoted identifier"
	case TokString:
		return "string"
	case TokDollarString:
		return "dollar string"
	case TokNumber:
		return "number"
	case TokVariable:
		return "variable"
	case TokStage:
		return "stage"
	case TokURI:
		return "uri"
	case TokOp:
		return "operator"
	}
	return "token(" + strconv.Itoa(int(k)) + ")"
}

// Token is one lexical token. Pos and End are byte offsets into the source.
type Token struct {
	Kind  TokenKind
	Value string // normalised value, see TokenKind
	Pos   int
	End   int
}

// Text returns the token's source text.
func (t Token) Text(src string) string { return src[t.Pos:t.End] }

// is reports whether t is the unquoted keyword kw (upper case).
func (t Token) is(kw string) bool { return t.Kind == TokIdent && t.Value == kw }

// isOp reports whether t is the operator op.
func (t Token) isOp(op string) bool { return t.Kind == TokOp && t.Value == op }

// ErrUnterminated is returned when a string, quoted identifier or comment is
// not closed before the end of the input.
var ErrUnterminated = errors.New("unterminated")

// LexError reports where lexing failed.
type LexError struct {
	Pos  int    // byte offset of the construct that failed
	What string // e.g. "string", "block comment"
	Err  error  // ErrUnterminated
}

func (e *LexError) Error() string {
	return fmt.Sprintf("statement: %s %v at offset %d", e.What, e.Err, e.Pos)
}

// Unwrap returns the cause.
func (e *LexError) Unwrap() error { return e.Err }

// operators, longest first within each leading byte.
var operators = []string{
	"->>", "::", ":=", "=>", "->", "||", "<=", ">=", "<>", "!=", "==",
	"(", ")", "[", "]", "{", "}", ",", ".", ";", ":", "=", "<", ">",
	"+", "-", "*", "/", "%", "~", "?", "|", "&", "^", "!",
}

// Lex splits sql into tokens, skipping whitespace and comments. It fails only
// on an unterminated string, quoted identifier, $$ string or block comment.
// Characters that cannot start a token become TokIllegal tokens.
func Lex(sql string) ([]Token, error) {
	toks := make([]Token, 0, len(sql)/4+1)
	f := folder{src: sql}
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && strings.HasPrefix(sql[i:], "--"), c == '/' && strings.HasPrefix(sql[i:], "//"):
			i = lineEnd(sql, i)
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return toks, &LexError{Pos: i, What: "block comment", Err: ErrUnterminated}
			}
			i += 2 + end + 2
		case c == '\'':
			val, end, ok := lexString(sql, i)
			if !ok {
				return toks, &LexError{Pos: i, What: "string", Err: ErrUnterminated}
			}
			toks = append(toks, Token{Kind: TokString, Value: val, Pos: i, End: end})
			i = end
		case c == '"':
			val, end, ok := lexQuoted(sql, i)
			if !ok {
				return toks, &LexError{Pos: i, What: "quoted identifier", Err: ErrUnterminated}
			}
			toks = append(toks, Token{Kind: TokQuotedIdent, Value: val, Pos: i, End: end})
			i = end
		case c == '$':
			t, ok := lexDollar(&f, i)
			if !ok {
				return toks, &LexError{Pos: i, What: "$$ string", Err: ErrUnterminated}
			}
			toks = append(toks, t)
			i = t.End
		case c == '@':
			end := lexStage(sql, i)
			toks = append(toks, Token{Kind: TokStage, Value: sql[i:end], Pos: i, End: end})
			i = end
		case c >= '0' && c <= '9', c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9' && !afterName(toks, sql, i):
			end := lexNumber(sql, i)
			toks = append(toks, Token{Kind: TokNumber, Value: sql[i:end], Pos: i, End: end})
			i = end
		case isIdentStart(sql, i):
			end := identEnd(sql, i)
			word := sql[i:end]
			if strings.EqualFold(word, "file") && strings.HasPrefix(sql[end:], "://") {
				uend := uriEnd(sql, end)
				toks = append(toks, Token{Kind: TokURI, Value: sql[i:uend], Pos: i, End: uend})
				i = uend
				continue
			}
			toks = append(toks, Token{Kind: TokIdent, Value: f.upper(i, end), Pos: i, End: end})
			i = end
		default:
			if op := matchOp(sql[i:]); op != "" {
				toks = append(toks, Token{Kind: TokOp, Value: op, Pos: i, End: i + len(op)})
				i += len(op)
				continue
			}
			_, size := utf8.DecodeRuneInString(sql[i:])
			toks = append(toks, Token{Kind: TokIllegal, Value: sql[i : i+size], Pos: i, End: i + size})
			i += size
		}
	}
	return toks, nil
}

// afterName reports whether a '.' at i follows a name, as in t.1 (rare) — a
// dot right after an identifier is a qualifier, not a decimal point.
func afterName(toks []Token, sql string, i int) bool {
	if len(toks) == 0 {
		return false
	}
	last := toks[len(toks)-1]
	if last.End != i {
		return false
	}
	return last.Kind == TokIdent || last.Kind == TokQuotedIdent || last.isOp(")") || last.isOp("]")
}

func lineEnd(sql string, i int) int {
	if n := strings.IndexByte(sql[i:], '\n'); n >= 0 {
		return i + n + 1
	}
	return len(sql)
}

// opIndex lists, per leading byte, the operators starting with it.
var opIndex [256][]string

func init() {
	for _, op := range operators {
		opIndex[op[0]] = append(opIndex[op[0]], op)
	}
}

func matchOp(s string) string {
	for _, op := range opIndex[s[0]] {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

// A folder upper-cases the words of one text, as Snowflake folds unquoted
// identifiers. A word without lower case is itself, and a common keyword
// its constant, until the first ASCII word that needs folding makes one
// upper-cased copy of the whole text; from then on such words are cut from
// it: a query's lower-case names cost one allocation, not one each.
// strings.ToUpper folds ASCII the same way; other words go through it.
type folder struct {
	src string
	up  string
}

// upper returns src[i:end] upper-cased.
func (f *folder) upper(i, end int) string {
	s := f.src[i:end]
	for j := 0; j < len(s); j++ {
		if c := s[j]; c >= 'a' && c <= 'z' || c >= utf8.RuneSelf {
			if !isASCII(s[j:]) {
				return strings.ToUpper(s)
			}
			if f.up == "" {
				if k, ok := keywordUpper[s]; ok { // until the copy is made
					return k
				}
				f.up = asciiUpper(f.src)
			}
			return f.up[i:end]
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiUpper is s with its ASCII letters upper-cased and every other byte
// as it is, so that it keeps s's offsets.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// keywordUpper maps the lower-case spelling of common keywords to their
// folded form.
var keywordUpper = map[string]string{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM WHERE AND OR NOT AS ON JOIN LEFT RIGHT INNER OUTER FULL CROSS
		GROUP BY ORDER HAVING LIMIT OFFSET QUALIFY WITH UNION ALL DISTINCT CASE WHEN THEN ELSE END IS NULL
		IN EXISTS BETWEEN LIKE ILIKE OVER PARTITION ROWS DESC ASC COUNT SUM AVG MIN MAX CAST LATERAL FLATTEN
		INPUT VALUE INDEX KEY TRUE FALSE INSERT INTO VALUES UPDATE SET DELETE MERGE USING CREATE OR REPLACE
		TABLE VIEW DROP ALTER IF COALESCE IFF DATE_TRUNC DATEADD DATEDIFF CURRENT_DATE CURRENT_TIMESTAMP
		ROW_NUMBER RANK LAG LEAD STRING VARCHAR NUMBER INT INTEGER FLOAT DATE TIMESTAMP VARIANT BOOLEAN
		DAY MONTH YEAR WEEK HOUR ID NAME EMAIL`) {
		keywordUpper[strings.ToLower(w)] = w
	}
}

func isIdentStart(sql string, i int) bool {
	c := sql[i]
	if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		return true
	}
	if c < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(sql[i:])
	return unicode.IsLetter(r)
}

func identEnd(sql string, i int) int {
	for i < len(sql) {
		c := sql[i]
		if c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRuneInString(sql[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		i += size
	}
	return i
}

// uriEnd ends an unquoted URI at whitespace or ';'.
func uriEnd(sql string, i int) int {
	for i < len(sql) {
		switch sql[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v', ';':
			return i
		}
		i++
	}
	return i
}

// lexStage reads @name, @~, @%table, @db.schema."Stage"/path/file.csv.
func lexStage(sql string, i int) int {
	i++ // '@'
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '"':
			_, end, ok := lexQuoted(sql, i)
			if !ok {
				return len(sql)
			}
			i = end
		case c == '_' || c == '$' || c == '~' || c == '%' || c == '.' || c == '/' || c == '-' || c == '=' || c == '*' ||
			c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if c == '/' && strings.HasPrefix(sql[i:], "/*") {
				return i
			}
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(sql[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return i
			}
			i += size
		default:
			return i
		}
	}
	return i
}

func lexNumber(sql string, i int) int {
	digits := func() {
		for i < len(sql) && sql[i] >= '0' && sql[i] <= '9' {
			i++
		}
	}
	digits()
	if i < len(sql) && sql[i] == '.' {
		i++
		digits()
	}
	if i < len(sql) && (sql[i] == 'e' || sql[i] == 'E') {
		j := i + 1
		if j < len(sql) && (sql[j] == '+' || sql[j] == '-') {
			j++
		}
		if j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			i = j
			digits()
		}
	}
	return i
}

// lexDollar reads $$body$$, $1 or $name. A lone '$' is illegal.
func lexDollar(f *folder, i int) (Token, bool) {
	sql := f.src
	if strings.HasPrefix(sql[i:], "$$") {
		end := strings.Index(sql[i+2:], "$$")
		if end < 0 {
			return Token{}, false
		}
		return Token{Kind: TokDollarString, Value: sql[i+2 : i+2+end], Pos: i, End: i + 2 + end + 2}, true
	}
	j := i + 1
	if j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
		for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			j++
		}
		return Token{Kind: TokVariable, Value: sql[i:j], Pos: i, End: j}, true
	}
	if j < len(sql) && isIdentStart(sql, j) {
		end := identEnd(sql, j)
		return Token{Kind: TokVariable, Value: "$" + f.upper(j, end), Pos: i, End: end}, true
	}
	return Token{Kind: TokIllegal, Value: "$", Pos: i, End: i + 1}, true
}

// lexQuoted reads a "quoted" identifier with "" escapes.
func lexQuoted(sql string, i int) (string, int, bool) {
	var b strings.Builder
	j := i + 1
	start := j
	for j < len(sql) {
		if sql[j] == '"' {
			if j+1 < len(sql) && sql[j+1] == '"' {
				b.WriteString(sql[start : j+1])
				j += 2
				start = j
				continue
			}
			if b.Len() == 0 {
				return sql[start:j], j + 1, true
			}
			b.WriteString(sql[start:j])
			return b.String(), j + 1, true
		}
		j++
	}
	return "", len(sql), false
}

// lexString reads a '...' string with backslash and ” escapes.
func lexString(sql string, i int) (string, int, bool) {
	var b strings.Builder
	j := i + 1
	start := j
	plain := true
	for j < len(sql) {
		switch sql[j] {
		case '\'':
			if j+1 < len(sql) && sql[j+1] == '\'' {
				b.WriteString(sql[start : j+1])
				plain = false
				j += 2
				start = j
				continue
			}
			if plain {
				return sql[start:j], j + 1, true
			}
			b.WriteString(sql[start:j])
			return b.String(), j + 1, true
		case '\\':
			if j+1 >= len(sql) {
				return "", len(sql), false
			}
			plain = false
			b.WriteString(sql[start:j])
			n := unescape(&b, sql, j+1)
			j = n
			start = j
			continue
		}
		j++
	}
	return "", len(sql), false
}

// unescape writes the character escaped at sql[j] (after a backslash) and
// returns the offset after the escape.
func unescape(b *strings.Builder, sql string, j int) int {
	c := sql[j]
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		k := j
		for k < len(sql) && k < j+3 && sql[k] >= '0' && sql[k] <= '7' {
			k++
		}
		v, _ := strconv.ParseUint(sql[j:k], 8, 8)
		b.WriteByte(byte(v))
		return k
	case 'x':
		if j+3 <= len(sql) {
			if v, err := strconv.ParseUint(sql[j+1:j+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				return j + 3
			}
		}
		b.WriteByte('x')
	case 'u':
		if j+5 <= len(sql) {
			if v, err := strconv.ParseUint(sql[j+1:j+5], 16, 32); err == nil {
				b.WriteRune(rune(v))
				return j + 5
			}
		}
		b.WriteByte('u')
	default:
		_, size := utf8.DecodeRuneInString(sql[j:])
		b.WriteString(sql[j : j+size])
		return j + size
	}
	return j + 1
}
