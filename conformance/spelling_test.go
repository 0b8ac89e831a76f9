package conformance

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// A spelling rewrites a statement into one Snowflake reads the same way.
type spelling struct {
	name    string
	rewrite func(sql string, toks []statement.Token, rng *rand.Rand) string
	// demo: the rewrite names the sample's tables in DEMO.PUBLIC, so it
	// holds only for cases in the default session.
	demo bool
}

// spellings are rewrites that change nothing Snowflake runs: the case of
// unquoted words (Snowflake upper-cases them), comments and whitespace
// between tokens, the parts of qualified names written as the quoted
// upper-case names they resolve to, and the sample's tables named by their
// three-part names or through IDENTIFIER().
var spellings = []spelling{
	{"lower case", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachToken(sql, toks, func(t statement.Token, text string) string {
			if t.Kind == statement.TokIdent {
				return strings.ToLower(text)
			}
			return text
		}, nil)
	}, false},
	{"mixed case", func(sql string, toks []statement.Token, rng *rand.Rand) string {
		return eachToken(sql, toks, func(t statement.Token, text string) string {
			if t.Kind != statement.TokIdent {
				return text
			}
			b := []byte(text)
			for i := range b {
				if rng.IntN(2) == 0 {
					b[i] = strings.ToLower(string(b[i]))[0]
				} else {
					b[i] = strings.ToUpper(string(b[i]))[0]
				}
			}
			return string(b)
		}, nil)
	}, false},
	{"block comments", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachToken(sql, toks, nil, func(statement.Token, statement.Token) string { return " /* x; 'y' */ " })
	}, false},
	{"line comments", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachToken(sql, toks, nil, func(statement.Token, statement.Token) string { return " -- DELETE FROM x;\n" })
	}, false},
	{"whitespace", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachToken(sql, toks, nil, func(statement.Token, statement.Token) string { return "\n\t  " })
	}, false},
	{"three-part names", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachTokenAt(sql, toks, func(i int, text string) string {
			if demoTable(toks, i) {
				return "DEMO.PUBLIC." + text
			}
			return text
		}, nil)
	}, true},
	{"IDENTIFIER()", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachTokenAt(sql, toks, func(i int, text string) string {
			if demoTable(toks, i) && !(i+1 < len(toks) && toks[i+1].Kind == statement.TokIdent && !clauseWord[toks[i+1].Value]) {
				return "IDENTIFIER('demo.public." + strings.ToLower(text) + "')"
			}
			return text
		}, nil)
	}, true},
	{"quoted name parts", func(sql string, toks []statement.Token, _ *rand.Rand) string {
		return eachTokenAt(sql, toks, func(i int, text string) string {
			t := toks[i]
			dot := func(j int) bool {
				return j >= 0 && j < len(toks) && toks[j].Kind == statement.TokOp && toks[j].Value == "."
			}
			if t.Kind == statement.TokIdent && (dot(i-1) || dot(i+1)) && !(i+2 < len(toks) && dot(i+1) && toks[i+2].Kind == statement.TokVariable) {
				return `"` + t.Value + `"`
			}
			return text
		}, nil)
	}, false},
}

// demoTable reports whether toks[i] is an unqualified name of a sample
// table right after FROM, JOIN, INTO, UPDATE or TABLE: the session's
// DEMO.PUBLIC table, whichever way it is written.
func demoTable(toks []statement.Token, i int) bool {
	t := toks[i]
	if t.Kind != statement.TokIdent || !map[string]bool{"CUSTOMERS": true, "ORDERS": true, "EVENTS": true}[t.Value] || i == 0 {
		return false
	}
	if i+1 < len(toks) && toks[i+1].Kind == statement.TokOp && (toks[i+1].Value == "." || toks[i+1].Value == "(") {
		return false
	}
	switch toks[i-1].Value {
	case "FROM", "JOIN", "INTO", "UPDATE", "TABLE":
		return toks[i-1].Kind == statement.TokIdent
	}
	return false
}

// clauseWord are the words that may follow a table name without being its
// alias.
var clauseWord = map[string]bool{"WHERE": true, "GROUP": true, "ORDER": true, "LIMIT": true, "JOIN": true, "LEFT": true, "RIGHT": true,
	"INNER": true, "FULL": true, "CROSS": true, "ON": true, "USING": true, "SET": true, "UNION": true, "EXCEPT": true, "MINUS": true,
	"INTERSECT": true, "QUALIFY": true, "HAVING": true, "WHEN": true, "AT": true, "BEFORE": true, "SAMPLE": true, "NATURAL": true}

// eachToken rebuilds sql from its tokens: word rewrites a token's text,
// between gives what goes between two adjacent tokens where the source had
// only whitespace (nil keeps the source's text between them).
func eachToken(sql string, toks []statement.Token, word func(statement.Token, string) string, between func(a, b statement.Token) string) string {
	var w func(int, string) string
	if word != nil {
		w = func(i int, text string) string { return word(toks[i], text) }
	}
	return eachTokenAt(sql, toks, w, between)
}

func eachTokenAt(sql string, toks []statement.Token, word func(int, string) string, between func(a, b statement.Token) string) string {
	var b strings.Builder
	prev := 0
	for i, t := range toks {
		gap := sql[prev:t.Pos]
		if between != nil && i > 0 && strings.TrimSpace(gap) == "" && separable(toks[i-1], t) {
			gap = between(toks[i-1], t)
		}
		b.WriteString(gap)
		text := t.Text(sql)
		if word != nil {
			text = word(i, text)
		}
		b.WriteString(text)
		prev = t.End
	}
	b.WriteString(sql[prev:])
	return b.String()
}

// separable reports whether Snowflake reads a and b the same with a
// comment between them: not inside a multi-character operator the lexer
// split, nor between a name and the dot of a qualified name with a
// positional column ($1).
func separable(a, b statement.Token) bool {
	if a.End != b.Pos {
		return true // the source already separates them
	}
	return a.Kind == statement.TokOp || b.Kind == statement.TokOp
}

// strictness orders actions: a rewrite may never move a statement down.
var strictness = map[engine.Action]int{engine.ActionAllow: 0, engine.ActionMask: 1, engine.ActionRequireApproval: 2, engine.ActionDeny: 3}

var maskStrength = map[string]int{"email_domain": 1, "partial": 2, "hash": 3, "redact": 4, "null": 5}

// TestSpelling_neverLessStrict: every decision case, rewritten in each
// equivalent spelling, is decided at least as strictly as written: never a
// weaker action, and under a mask decision every column the original
// masks masked at least as strongly.
func TestSpelling_neverLessStrict(t *testing.T) {
	cases, err := LoadDecisionCases("decisions")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for _, r := range RunDecisions(ctx, cases, e) {
		if !r.Passed() {
			continue // TestDecisions reports these
		}
		toks, err := statement.Lex(r.Case.SQL)
		if err != nil {
			continue
		}
		for _, sp := range spellings {
			c := r.Case
			if sp.demo && (c.Database != "" || c.Schema != "") {
				continue
			}
			c.SQL = sp.rewrite(c.SQL, toks, rng)
			if c.SQL == r.Case.SQL {
				continue
			}
			got := runDecision(ctx, c, e).Got
			checked++
			if weaker(got, r.Got) {
				t.Errorf("%s/%s spelled with %s: %s %v, as written %s %v\n  sql: %s", c.File, c.Name, sp.name, got.Action, got.Masks, r.Got.Action, r.Got.Masks, c.SQL)
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d rewritten statements checked", checked)
	}
	t.Logf("%d rewritten statements decided at least as strictly as written", checked)
}

func weaker(got, orig engine.Decision) bool {
	if strictness[got.Action] != strictness[orig.Action] {
		return strictness[got.Action] < strictness[orig.Action]
	}
	if got.Action != engine.ActionMask {
		return false
	}
	for col, s := range orig.Masks {
		if maskStrength[got.Masks[col]] < maskStrength[s] {
			return true
		}
	}
	return false
}
