package statement

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Name resolution: columns to relations through scopes, and '*' expansion.

// relColumn finds a column of a relation.
func (w *walker) relColumn(r *relation, name string) (relCol, bool) {
	if r.untraced {
		c := relCol{name: name, transform: TransformExpression}
		if r.base != nil { // a stage: name the files' column, still untraced
			b := *r.base
			b.Name = name
			c.sources = []Column{b}
		}
		return c, true
	}
	if r.known {
		for _, c := range r.cols {
			if c.name == name {
				return c, true
			}
		}
		return relCol{}, false
	}
	if r.fn {
		return relCol{name: name, sources: r.fnSrc, transform: TransformExpression, traced: true}, true
	}
	if r.base != nil {
		c := *r.base
		c.Name = name
		return relCol{name: name, sources: []Column{c}, transform: TransformCopy, traced: true}, true
	}
	return relCol{}, false
}

// expandStar expands '*' or 't.*' with its EXCLUDE/RENAME/REPLACE.
func (w *walker) expandStar(f *ast.SelectField, sc *scope) []relCol {
	var rels []*relation
	if f.WildCard.Table.O != "" {
		q := decodeName(f.WildCard.Table.O)
		for _, r := range sc.rels {
			if r.alias == q {
				rels = append(rels, r)
			}
		}
		if len(rels) == 0 {
			w.problems = append(w.problems, "unknown table in "+q+".*")
		}
	} else {
		rels = sc.rels
	}
	mod := w.lw.stars[f.Offset]
	var outs []relCol
	for _, r := range rels {
		switch {
		case r.known && !r.untraced:
			for _, c := range r.cols {
				if c.hidden || r.noStar[c.name] {
					continue
				}
				outs = append(outs, c)
			}
		default:
			var src []Column
			if r.base != nil {
				c := *r.base
				c.Name = "*"
				src = []Column{c}
			}
			src = addColumns(src, r.fnSrc...)
			outs = append(outs, relCol{name: "*", sources: src, transform: TransformCopy, traced: false})
		}
	}
	for _, o := range outs {
		w.read.add(o.sources...)
	}
	if mod == nil {
		return outs
	}
	kept := outs[:0:0]
	for _, o := range outs {
		switch {
		case mod.exclude[o.name]:
			continue
		case mod.rename[o.name] != "":
			o.name = mod.rename[o.name]
		case mod.replace[o.name] != "":
			o.name = "\x00replace:" + mod.replace[o.name] + "\x00" + o.name
		}
		kept = append(kept, o)
	}
	return kept
}

// resolve finds what a column reference names, searching the scopes
// outwards (correlated subqueries), then the current SELECT's aliases.
func (w *walker) resolve(cn *ast.ColumnName, sc *scope) (relCol, bool) {
	name := decodeName(cn.Name.O)
	positional := strings.HasPrefix(cn.Name.O, "$") // raw: "$1", never a real name
	table := cn.Table.O
	var qual []string
	if strings.HasPrefix(table, "#") {
		if k, err := strconv.Atoi(table[1:]); err == nil && k < len(w.lw.tables) {
			o := w.lw.tables[k].name.object("table", AccessRead, w.env)
			qual = []string{o.Database, o.Schema, o.Name}
		}
		table = ""
	} else {
		table = decodeName(table)
	}
	schema := decodeName(cn.Schema.O)
	for s := sc; s != nil; s = s.parent {
		if qual != nil || table != "" {
			for _, r := range s.rels {
				if !matchRel(r, qual, schema, table) {
					continue
				}
				if c, ok := w.relColumn(r, name); ok {
					return c, true
				}
			}
			continue
		}
		if positional && len(s.rels) == 1 {
			r := s.rels[0]
			if r.stage || !r.known {
				c, ok := w.relColumn(r, name)
				return c, ok
			}
			if n, err := strconv.Atoi(name[1:]); err == nil && n >= 1 && n <= len(r.cols) {
				return r.cols[n-1], true
			}
		}
		var found []relCol
		var unknown []*relation
		for _, r := range s.rels {
			if r.known && !r.untraced {
				if c, ok := w.relColumn(r, name); ok {
					found = append(found, c)
				}
			} else {
				unknown = append(unknown, r)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], true
		case len(found) > 1:
			return relCol{name: name, transform: TransformExpression}, true
		}
		for _, o := range s.outs {
			if o.name == name && !o.hidden {
				return o, true
			}
		}
		switch len(unknown) {
		case 0:
			continue
		case 1:
			return w.relColumn(unknown[0], name)
		default:
			return relCol{name: name, transform: TransformExpression}, true
		}
	}
	return relCol{}, false
}

func matchRel(r *relation, qual []string, schema, table string) bool {
	if qual != nil {
		return len(r.qual) == 3 && r.qual[0] == qual[0] && r.qual[1] == qual[1] && r.qual[2] == qual[2]
	}
	if r.alias != table {
		return false
	}
	if schema != "" {
		return len(r.qual) == 3 && r.qual[1] == schema
	}
	return true
}
