package proxy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// bindIdentifiers resolves the binds that name objects, IDENTIFIER(?) and
// IDENTIFIER(:n), before the statement is analysed: each becomes
// IDENTIFIER('<the bound text>'), which Snowflake reads exactly as it reads
// the bind, and the bind leaves the request (the remaining numbered binds
// are renumbered). The gateway then analyses, decides on and records the
// statement with its real objects.
//
// Anything it cannot resolve with certainty — a missing, null, array or
// non-text bind, positional and numbered binds mixed, a bind no placeholder
// uses — leaves the statement as it came, and the analyser reads a name
// that comes from a bind as not fully analysed, which the policy denies.
func bindIdentifiers(sqlText string, binds []Bind) (string, []Bind) {
	if len(binds) == 0 || !containsFold(sqlText, "IDENTIFIER") {
		return sqlText, binds
	}
	toks, err := statement.Lex(sqlText)
	if err != nil {
		return sqlText, binds
	}
	type placeholder struct {
		from, to int // the text the placeholder spans
		num      int // the bind it names: "1", "2"...
		numbered bool
		ident    bool // inside IDENTIFIER( )
	}
	var phs []placeholder
	positional := 0
	for i := 0; i < len(toks); i++ {
		var p placeholder
		switch {
		case toks[i].Kind == statement.TokOp && toks[i].Value == "?":
			positional++
			p = placeholder{from: toks[i].Pos, to: toks[i].End, num: positional}
		case toks[i].Kind == statement.TokOp && toks[i].Value == ":" && i+1 < len(toks) && toks[i+1].Kind == statement.TokNumber:
			n, err := strconv.Atoi(toks[i+1].Value)
			if err != nil || n < 1 {
				return sqlText, binds
			}
			p = placeholder{from: toks[i].Pos, to: toks[i+1].End, num: n, numbered: true}
		default:
			continue
		}
		end := i + 1
		if p.numbered {
			end++
		}
		p.ident = i >= 2 && toks[i-1].Value == "(" && toks[i-2].Kind == statement.TokIdent && toks[i-2].Value == "IDENTIFIER" &&
			end < len(toks) && toks[end].Value == ")"
		phs = append(phs, p)
		i = end - 1
	}
	if !slices.ContainsFunc(phs, func(p placeholder) bool { return p.ident }) {
		return sqlText, binds
	}
	byName := make(map[string]Bind, len(binds))
	for _, b := range binds {
		byName[b.Name] = b
	}
	used := map[int]bool{}
	var kept []int // the binds still bound as values, in order
	for _, p := range phs {
		if p.numbered != phs[0].numbered {
			return sqlText, binds
		}
		b, ok := byName[strconv.Itoa(p.num)]
		if !ok {
			return sqlText, binds
		}
		used[p.num] = true
		if p.ident {
			if b.Array || b.Value == nil || b.Type != "TEXT" {
				return sqlText, binds
			}
			continue
		}
		if !slices.Contains(kept, p.num) {
			kept = append(kept, p.num)
		}
	}
	if len(used) != len(binds) {
		return sqlText, binds
	}
	slices.Sort(kept)
	renumber := make(map[int]int, len(kept))
	out := make([]Bind, 0, len(kept))
	for i, n := range kept {
		b := byName[strconv.Itoa(n)]
		b.Name = strconv.Itoa(i + 1)
		renumber[n] = i + 1
		out = append(out, b)
	}
	var sb strings.Builder
	last := 0
	for _, p := range phs {
		sb.WriteString(sqlText[last:p.from])
		switch {
		case p.ident:
			sb.WriteString(quoteSQLString(*byName[strconv.Itoa(p.num)].Value))
		case p.numbered:
			sb.WriteString(":" + strconv.Itoa(renumber[p.num]))
		default:
			sb.WriteString("?")
		}
		last = p.to
	}
	sb.WriteString(sqlText[last:])
	return sb.String(), out
}

// quoteSQLString writes s as a Snowflake string literal, whose backslashes
// are escapes.
func quoteSQLString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// containsFold reports whether s contains word in any case, without
// copying s (every request with binds asks).
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}
