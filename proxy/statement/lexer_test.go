package statement

import (
	"fmt"
	"strings"
	"testing"
)

// render prints tokens as kind:value for compact comparison.
func render(toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = fmt.Sprintf("%s:%s", t.Kind, t.Value)
	}
	return strings.Join(parts, " | ")
}

func TestLex(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{"fold", `select a_1$, "MixedCase", "a""b"`, `identifier:SELECT | identifier:A_1$ | operator:, | quoted identifier:MixedCase | operator:, | quoted identifier:a"b`},
		{"strings", `'it''s' 'a\'b' 'x\ny' '\x41\101\u00e9'`, "string:it's | string:a'b | string:x\ny | string:AAé"},
		{"dollar", `$$ a ; b $$ $1 $my_var`, `dollar string: a ; b  | variable:$1 | variable:$MY_VAR`},
		{"numbers", `1 1.5 .5 1e-3 t.5`, `number:1 | number:1.5 | number:.5 | number:1e-3 | identifier:T | operator:. | number:5`},
		{"operators", `a::int b:c.d e => f ->> g <> h != i || j`, `identifier:A | operator::: | identifier:INT | identifier:B | operator:: | identifier:C | operator:. | identifier:D | identifier:E | operator:=> | identifier:F | operator:->> | identifier:G | operator:<> | identifier:H | operator:!= | identifier:I | operator:|| | identifier:J`},
		{"comments", "a -- x\n b // y\n c /* z */ d", `identifier:A | identifier:B | identifier:C | identifier:D`},
		{"stages", `@my_stage/p/f.csv @~ @%t @db.s."St g"/x`, `stage:@my_stage/p/f.csv | stage:@~ | stage:@%t | stage:@db.s."St g"/x`},
		{"uri", `PUT file:///tmp/a.csv @s`, `identifier:PUT | uri:file:///tmp/a.csv | stage:@s`},
		{"unicode ident", `SELECT naïve, ÄBC`, `identifier:SELECT | identifier:NAÏVE | operator:, | identifier:ÄBC`},
		{"illegal", "a \u00a0 ；", `identifier:A | illegal:` + "\u00a0" + ` | illegal:；`},
		{"bind", `? :name`, `operator:? | operator:: | identifier:NAME`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, err := Lex(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(toks); got != tt.want {
				t.Errorf("Lex(%q)\n got %s\nwant %s", tt.sql, got, tt.want)
			}
			for _, tok := range toks {
				if tok.Pos < 0 || tok.End > len(tt.sql) || tok.Pos >= tok.End {
					t.Errorf("bad position %d..%d for %v", tok.Pos, tok.End, tok)
				}
			}
		})
	}
}

// TestLex_folds checks every identifier's value against strings.ToUpper of
// its text, on the sqlglot corpus and on texts that mix ASCII and other
// words: ASCII words are cut from one upper-cased copy of the text, and
// that copy must keep every offset and fold exactly as ToUpper does.
func TestLex_folds(t *testing.T) {
	texts := append(readCorpus(t),
		`select naïve, c, Ünïcode_x, mixedCase, "q" || lower_after_ünï, dollar$1 from s.t`,
		`SELECT ÄBC, abc, aÄb, Straße, ǆ, x FROM ǅ.ǈ`,
		`select a`, `A`, `already UPPER and lower`)
	words := 0
	for _, sql := range texts {
		toks, err := Lex(sql)
		if err != nil {
			continue
		}
		for _, tok := range toks {
			if tok.Kind != TokIdent {
				continue
			}
			words++
			if want := strings.ToUpper(tok.Text(sql)); tok.Value != want {
				t.Fatalf("Lex(%q): %q at %d..%d folds to %q, want %q", sql, tok.Text(sql), tok.Pos, tok.End, tok.Value, want)
			}
		}
	}
	if words < 5000 {
		t.Fatalf("only %d identifiers checked", words)
	}
}
