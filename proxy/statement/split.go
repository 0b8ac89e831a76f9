package statement

import "fmt"

// piece is one statement of a request: its tokens and its source range.
type piece struct {
	toks       []Token
	start, end int // byte range of the statement's text in the request
}

// Split cuts a request into its statements at each ';' that is outside
// quotes, comments, $$ strings and Snowflake Scripting blocks (BEGIN ... END,
// DECLARE ... BEGIN ... END, and procedure bodies written AS BEGIN ... END).
// Empty statements, including ones holding only comments, are dropped. Each
// statement keeps its comments; surrounding whitespace is trimmed. An
// unterminated string, quoted identifier or comment is an error wrapping
// ErrUnterminated.
func Split(sql string) ([]string, error) {
	pieces, err := splitPieces(sql)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(pieces))
	for i, p := range pieces {
		out[i] = sql[p.start:p.end]
	}
	return out, nil
}

func splitPieces(sql string) ([]piece, error) {
	toks, err := Lex(sql)
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	var out []piece
	textStart := 0
	emit := func(from, to, textEnd int) {
		if from < to {
			s, e := trimRange(sql, textStart, textEnd)
			out = append(out, piece{toks: toks[from:to], start: s, end: e})
		}
	}
	from := 0
	for from < len(toks) {
		to := statementEnd(toks, from)
		if to < len(toks) { // toks[to] is the ';'
			emit(from, to, toks[to].Pos)
			textStart = toks[to].End
			from = to + 1
			continue
		}
		emit(from, to, len(sql))
		break
	}
	return out, nil
}

func trimRange(sql string, s, e int) (int, int) {
	for s < e && isSpace(sql[s]) {
		s++
	}
	for e > s && isSpace(sql[e-1]) {
		e--
	}
	return s, e
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// statementEnd returns the index of the ';' that ends the statement starting
// at toks[from], or len(toks).
func statementEnd(toks []Token, from int) int {
	block := false // inside a scripting construct: ';' does not end the statement
	depth := 0     // open BEGIN/IF/CASE/FOR/WHILE/REPEAT/LOOP
	opened := false
	routine := false // CREATE ... PROCEDURE/FUNCTION: AS BEGIN starts a body
	first := toks[from]
	switch {
	case first.is("DECLARE"):
		block = true
	case first.is("BEGIN") && !txnBegin(toks, from):
		block = true
	case first.is("CREATE") || first.is("ALTER"):
		routine = true
	}
	for k := from; k < len(toks); k++ {
		t := toks[k]
		if t.isOp(";") && (!block || (opened && depth == 0)) {
			return k
		}
		if routine && t.is("AS") && k+1 < len(toks) && (toks[k+1].is("BEGIN") || toks[k+1].is("DECLARE")) && routineHead(toks[from:k]) {
			block = true
			continue
		}
		if !block {
			continue
		}
		switch {
		case t.is("END"):
			if depth > 0 {
				depth--
			}
		case t.is("CASE"):
			if k == from || !toks[k-1].is("END") {
				depth++
				opened = true
			}
		case opener(t) && (k == from || stmtPosition(toks[k-1])):
			if t.is("BEGIN") && txnBegin(toks, k) {
				continue
			}
			depth++
			opened = true
		}
	}
	return len(toks)
}

// routineHead reports whether the tokens before AS create a procedure or
// function, whose body may be an unquoted scripting block.
func routineHead(toks []Token) bool {
	for _, t := range toks {
		if t.is("PROCEDURE") || t.is("FUNCTION") {
			return true
		}
		if t.isOp("(") {
			break
		}
	}
	return false
}

func opener(t Token) bool {
	if t.Kind != TokIdent {
		return false
	}
	switch t.Value {
	case "BEGIN", "IF", "FOR", "WHILE", "REPEAT", "LOOP":
		return true
	}
	return false
}

// stmtPosition reports whether a scripting statement may start after t.
func stmtPosition(t Token) bool {
	if t.isOp(";") {
		return true
	}
	if t.Kind != TokIdent {
		return false
	}
	switch t.Value {
	case "BEGIN", "THEN", "ELSE", "DO", "LOOP", "AS", "DECLARE", "EXCEPTION":
		return true
	}
	return false
}

// txnBegin reports whether BEGIN at toks[k] starts a transaction rather than
// a block: BEGIN; BEGIN TRANSACTION; BEGIN WORK; BEGIN NAME x.
func txnBegin(toks []Token, k int) bool {
	if k+1 >= len(toks) {
		return true
	}
	n := toks[k+1]
	return n.isOp(";") || n.is("TRANSACTION") || n.is("WORK") || n.is("NAME")
}

// startsWith reports whether the statement's first keywords are words.
func startsWith(toks []Token, words ...string) bool {
	if len(toks) < len(words) {
		return false
	}
	for i, w := range words {
		if !toks[i].is(w) {
			return false
		}
	}
	return true
}
