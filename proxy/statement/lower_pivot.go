package statement

import (
	"strconv"
	"strings"
)

// PIVOT and UNPIVOT become derived tables over the reference they follow,
// with a side record of the columns they remove and add:
//
//	t PIVOT (SUM(x) FOR k IN ('a', 'b')) p
//	  -> (SELECT *, SUM(x) AS "#pv", k AS "#pc" FROM t) AS p
//	t UNPIVOT (v FOR k IN (c1, c2)) u
//	  -> (SELECT *, c1 AS "#u1", c2 AS "#u2" FROM t) AS u

// pivotInfo records what a PIVOT or UNPIVOT does to its input's columns.
type pivotInfo struct {
	unpivot bool
	drop    map[string]bool // input columns that disappear
	added   []string        // PIVOT: one column per IN value; UNPIVOT: name column, value column
	rename  []string        // column aliases written after the alias, if any
}

// pivot lowers PIVOT (...) or UNPIVOT (...) at toks[i]; the reference it
// applies to starts at unit l.lastRef.
func (l *lowerer) pivot(i int) (int, error) {
	t := l.t
	unpivot := t[i].is("UNPIVOT")
	j := i + 1
	if unpivot && (l.peek(j).is("INCLUDE") || l.peek(j).is("EXCLUDE")) && l.peek(j+1).is("NULLS") {
		j += 2
	}
	if l.lastRef < 0 || !l.peek(j).isOp("(") {
		return 0, l.fail(i, "%s without a table", t[i].Value)
	}
	end := l.after(j) // after the closing ')'
	forAt := -1
	for k := j + 1; k < end-1; k++ {
		if t[k].is("FOR") {
			forAt = k
			break
		}
	}
	if forAt < 0 || !l.peek(forAt+2).is("IN") || !l.peek(forAt+3).isOp("(") {
		return 0, l.fail(i, "%s form", t[i].Value)
	}
	key, ok := nameValue(t[forAt+1])
	if !ok {
		return 0, l.fail(forAt+1, "%s column", t[i].Value)
	}
	info := pivotInfo{unpivot: unpivot, drop: map[string]bool{}}
	var b strings.Builder
	b.WriteString("(SELECT *")
	inEnd := l.after(forAt + 3)
	if unpivot {
		value, ok := nameValue(t[j+1])
		if !ok || forAt != j+2 {
			return 0, l.fail(j+1, "UNPIVOT value column")
		}
		n := 0
		for k := forAt + 4; k < inEnd-1; k++ {
			c, ok := nameValue(t[k])
			if !ok {
				continue
			}
			if l.peek(k + 1).is("AS") {
				k += 2 // the alias names the value in the name column only
			}
			n++
			info.drop[c] = true
			b.WriteString(", " + quoteName(c) + ` AS "#u` + strconv.Itoa(n) + `"`)
		}
		info.added = []string{key, value}
	} else {
		sub, err := lower(query{toks: t[j+1 : forAt], src: l.q.src})
		if err != nil {
			return 0, err
		}
		for _, tok := range t[j+1 : forAt] {
			if v, ok := nameValue(tok); ok && (tok.Kind == TokQuotedIdent || !structural[v] && !aggregates[v]) {
				info.drop[v] = true
			}
		}
		info.drop[key] = true
		b.WriteString(", " + sub.sql + ` AS "#pv", ` + quoteName(key) + ` AS "#pc"`)
		for k := forAt + 4; k < inEnd-1; k++ {
			tok := t[k]
			if tok.is("ANY") || tok.is("SELECT") {
				return 0, l.fail(k, "PIVOT over values not written out")
			}
			var name string
			switch tok.Kind {
			case TokString:
				name = "'" + tok.Value + "'"
			case TokNumber:
				name = tok.Value
			default:
				continue
			}
			if l.peek(k + 1).is("AS") {
				if v, ok := nameValue(l.peek(k + 2)); ok {
					name = v
				}
				k += 2
			}
			info.added = append(info.added, name)
		}
	}
	b.WriteString(" FROM ")
	l.insert(l.lastRef, b.String())
	// alias and optional column list
	k := end
	var alias string
	if l.peek(k).is("AS") {
		k++
	}
	if v, ok := nameValue(l.peek(k)); ok && (l.peek(k).Kind == TokQuotedIdent || !structural[v]) {
		alias = quoteName(v)
		k++
	} else {
		l.nfn++
		alias = `"#p` + strconv.Itoa(l.nfn) + `"`
	}
	if l.peek(k).isOp("(") {
		names := []string{}
		e := l.after(k)
		for m := k + 1; m < e-1; m++ {
			if v, ok := nameValue(l.t[m]); ok {
				names = append(names, v)
			}
		}
		info.rename = names
		k = e
	}
	l.emit(") AS "+alias, t[i].Pos)
	put(&l.lw.pivots, alias[1:len(alias)-1], info)
	return k, nil
}
