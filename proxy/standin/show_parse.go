package standin

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Reading SHOW's clauses (show.go answers them).

// parseShow reads SHOW [TERSE] <what> and its clauses, in any order.
func parseShow(p *parser) (*showQuery, error) {
	q := &showQuery{limit: -1}
	q.terse = p.accept("TERSE")
	switch {
	case q.terse && p.accept("COLUMNS"):
		return nil, syntaxError(p.toks[p.i-1])
	case p.accept("DATABASES"), p.accept("SCHEMAS"), p.accept("OBJECTS"), p.accept("TABLES"), p.accept("VIEWS"), p.accept("COLUMNS"):
		q.what = p.toks[p.i-1].Value
	case p.accept("PRIMARY", "KEYS"), p.accept("IMPORTED", "KEYS"), p.accept("UNIQUE", "KEYS"):
		q.what = p.toks[p.i-2].Value + " KEYS"
	default:
		return nil, unsupported("SHOW " + p.words(3))
	}
	for !p.end() {
		t := p.toks[p.i]
		var clause string
		switch {
		case p.accept("HISTORY"):
			return nil, unsupported("SHOW " + q.what + " HISTORY")
		case p.accept("LIKE"):
			clause = "LIKE"
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			q.like = likePattern(s)
		case p.accept("IN"):
			clause = "IN"
			if err := q.parseIn(p); err != nil {
				return nil, err
			}
		case p.accept("STARTS", "WITH"):
			clause = "STARTS"
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			q.starts = &s
		case p.accept("LIMIT"):
			clause = "LIMIT"
			n := p.next()
			v, err := strconv.Atoi(n.Value)
			if n.Kind != statement.TokNumber || err != nil || v < 0 {
				return nil, syntaxError(n)
			}
			q.limit = v
			if p.accept("FROM") {
				s, err := p.str()
				if err != nil {
					return nil, err
				}
				q.from = &s
			}
		default:
			return nil, syntaxError(t)
		}
		if !strings.Contains(showClauses[q.what], clause) {
			return nil, syntaxError(t)
		}
	}
	return q, nil
}

func (q *showQuery) parseIn(p *parser) error {
	q.hasIn = true
	if !p.end() {
		q.inTok = p.toks[p.i]
	}
	switch {
	case p.accept("ACCOUNT"):
		q.in = "ACCOUNT"
		return nil
	case p.accept("DATABASE"), p.accept("SCHEMA"), p.accept("TABLE"), p.accept("VIEW"):
		q.in = p.toks[p.i-1].Value
		if !p.atName() {
			return nil
		}
	case p.accept("APPLICATION"):
		return unsupported("SHOW " + q.what + " IN APPLICATION")
	}
	name, err := p.objectName()
	q.inName = name
	return err
}

// atName reports whether a name follows, rather than the next clause.
func (p *parser) atName() bool {
	if p.end() {
		return false
	}
	t := p.toks[p.i]
	return t.Kind == statement.TokQuotedIdent ||
		t.Kind == statement.TokIdent && t.Value != "LIKE" && t.Value != "STARTS" && t.Value != "LIMIT" && t.Value != "HISTORY"
}

// objectName reads a name of up to three parts, each unquoted (folded to
// upper case by the lexer), "quoted", or IDENTIFIER('db.schema.name').
func (p *parser) objectName() ([]string, error) {
	if p.accept("IDENTIFIER", "(") {
		s := p.next()
		if s.Kind != statement.TokString || !p.accept(")") {
			return nil, unsupported("IDENTIFIER() of anything but a string")
		}
		toks, err := statement.Lex(s.Value)
		if err != nil {
			return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier "+quoteString(s.Value))
		}
		inner := &parser{toks: toks}
		name, err := inner.objectName()
		if err != nil || !inner.end() {
			return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier "+quoteString(s.Value))
		}
		return name, nil
	}
	var parts []string
	for {
		t := p.next()
		if t.Kind != statement.TokIdent && t.Kind != statement.TokQuotedIdent {
			return nil, syntaxError(t)
		}
		parts = append(parts, t.Value)
		if !p.accept(".") {
			break
		}
	}
	if len(parts) > 3 {
		return nil, sqlError("001003", "42000", "SQL compilation error:\ninvalid identifier '"+strings.Join(parts, ".")+"'")
	}
	return parts, nil
}

// str reads a string literal.
func (p *parser) str() (string, error) {
	t := p.next()
	if t.Kind != statement.TokString && t.Kind != statement.TokDollarString {
		return "", syntaxError(t)
	}
	return t.Value, nil
}

// words is up to n words from here, for messages.
func (p *parser) words(n int) string {
	var w []string
	for k := p.i; k < len(p.toks) && len(w) < n && p.toks[k].Kind == statement.TokIdent; k++ {
		w = append(w, p.toks[k].Value)
	}
	return strings.Join(w, " ")
}

func syntaxError(t statement.Token) error {
	if t.Value == "" {
		return sqlError("001003", "42000", "SQL compilation error:\nsyntax error: unexpected end of statement.")
	}
	return sqlError("001003", "42000", fmt.Sprintf("SQL compilation error:\nsyntax error at position %d unexpected '%s'.", t.Pos, t.Value))
}

func unsupported(what string) error {
	return sqlError("002099", "0A000", "SQL compilation error:\n"+strings.TrimSpace(what)+" is not supported by the stand-in. It answers SHOW [TERSE] DATABASES, SCHEMAS, OBJECTS, TABLES, VIEWS, "+
		"SHOW COLUMNS, SHOW PRIMARY|IMPORTED|UNIQUE KEYS, SHOW USERS and DESCRIBE TABLE|VIEW.")
}

// likePattern compiles SHOW's LIKE: case-insensitive, % any run of
// characters, _ any one, a backslash makes the next one literal.
func likePattern(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?is)\A`)
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\\' && i+1 < len(rs):
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case r == '%':
			b.WriteString(`.*`)
		case r == '_':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

// apply filters (LIKE, STARTS WITH, FROM), orders and limits the rows.
// STARTS WITH and FROM are case-sensitive; FROM keeps the names after it.
func (q *showQuery) apply(items []item) []item {
	kept := items[:0]
	for _, it := range items {
		if q.like != nil && !q.like.MatchString(it.name) ||
			q.starts != nil && !strings.HasPrefix(it.name, *q.starts) ||
			q.from != nil && it.name <= *q.from {
			continue
		}
		kept = append(kept, it)
	}
	sortItems(kept)
	if q.limit >= 0 && len(kept) > q.limit {
		kept = kept[:q.limit]
	}
	return kept
}

func sortItems(items []item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].order, items[j].order
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
}
