package statement

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Fingerprint returns the hash of a statement's normalised token stream:
// comments and whitespace dropped, unquoted identifiers and keywords folded
// to upper case, quoted identifiers that Snowflake would fold the same way
// written unquoted, every literal (string, $$ string, number, file URI)
// replaced by '?', and a list of literals collapsed to one '?'. Statements
// that differ only in literals share a fingerprint. It is the hex of the
// first 16 bytes of a SHA-256.
func Fingerprint(sql string) (string, error) {
	toks, err := Lex(sql)
	if err != nil {
		return "", err
	}
	return fingerprint(toks), nil
}

func fingerprint(toks []Token) string {
	b := make([]byte, 0, 256)
	prevLit := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		var s string
		lit := false
		switch t.Kind {
		case TokString, TokDollarString, TokNumber, TokURI:
			s, lit = "?", true
		case TokQuotedIdent:
			if plainIdent(t.Value) {
				s = t.Value
			} else {
				s = `"` + strings.ReplaceAll(t.Value, `"`, `""`) + `"`
			}
		default:
			s = t.Value
		}
		// collapse "?, ?, ?" into "?"
		if lit && prevLit && len(b) >= 4 && string(b[len(b)-4:]) == "?\x00,\x00" {
			b = b[:len(b)-2]
			continue
		}
		b = append(b, s...)
		b = append(b, 0)
		if !t.isOp(",") {
			prevLit = lit
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// plainIdent reports whether a quoted identifier's value is what an
// unquoted identifier folds to (upper-case letters, digits, _ and $, not
// starting with a digit or $), so "ABC" and abc are the same name.
func plainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9' || c == '$') && i > 0:
		default:
			return false
		}
	}
	return true
}
