package classify

import (
	"context"
	"slices"
	"sort"

	"github.com/snowgate/snowgate/proxy/statement"
)

// derive turns one derivation of a write into records: for every target
// column that receives a classified value, the combined classification of
// what it receives. Nothing is returned for unclassified data.
func derive(ctx context.Context, v *view, dv *statement.Derivation, cat statement.Catalog) []*Record {
	t := dv.Target
	if dv.Source != nil {
		return deriveWhole(v, dv)
	}
	if t.Type != "table" && t.Type != "view" {
		return nil
	}
	col := func(name string) Column { return Column{t.Database, t.Schema, t.Name, name} }
	var out []*Record
	emit := func(target Column, c *candidate) {
		if r := c.record(target); r != nil {
			out = append(out, r)
		}
	}
	names, ok := targetNames(ctx, dv, cat)
	if !ok {
		// Which column took which value is unknown: every column of the
		// target may carry every classified value.
		all := newCandidate(v)
		for i := range dv.Columns {
			all.add(dv, &dv.Columns[i])
		}
		if all.empty() {
			return nil
		}
		cols := catalogColumns(ctx, cat, t)
		if len(cols) == 0 {
			cols = []string{AnyColumn}
		}
		for _, n := range cols {
			emit(col(n), all)
		}
		return out
	}
	for i := range dv.Columns {
		c := newCandidate(v)
		c.add(dv, &dv.Columns[i])
		if !c.empty() {
			emit(col(names[i]), c)
		}
	}
	return out
}

// targetNames names the target columns of dv.Columns, one by one, from the
// derivation and, for values that fill the target by position, from the
// catalog's columns of the target after the write. ok is false when they
// cannot be told.
func targetNames(ctx context.Context, dv *statement.Derivation, cat statement.Catalog) ([]string, bool) {
	if dv.AnyColumn || len(dv.Columns) == 0 {
		return nil, false
	}
	names := make([]string, len(dv.Columns))
	for i, c := range dv.Columns {
		names[i] = c.Name
	}
	if !dv.ByPosition {
		return names, !slices.Contains(names, "")
	}
	cols := catalogColumns(ctx, cat, dv.Target)
	switch {
	case len(cols) == len(names):
		return cols, true // by position: the catalog's names win
	case cols == nil && !slices.Contains(names, "") && !slices.Contains(names, "*"):
		return names, true // the analyser's names, as Snowflake gives them
	}
	return nil, false
}

func catalogColumns(ctx context.Context, cat statement.Catalog, o statement.Object) []string {
	if cat == nil {
		return nil
	}
	cols, err := cat.Columns(ctx, o.Database, o.Schema, o.Name)
	if err != nil || len(cols) == 0 {
		return nil
	}
	return cols
}

// deriveWhole carries every classified column of dv.Source over, by name,
// into dv.Target: a clone, a rename or a swap of a table, view, schema or
// database.
func deriveWhole(v *view, dv *statement.Derivation) []*Record {
	src, t := *dv.Source, dv.Target
	var out []*Record
	for i, m := range []map[Column]Entry{v.config, v.inherited} {
		for c := range m {
			var target Column
			switch src.Type {
			case "table", "view":
				if c.Database != src.Database || c.Schema != src.Schema || c.Table != src.Name {
					continue
				}
				target = Column{t.Database, t.Schema, t.Name, c.Name}
			case "schema":
				if c.Database != src.Database || c.Schema != src.Name {
					continue
				}
				target = Column{t.Database, t.Name, c.Table, c.Name}
			case "database":
				if c.Database != src.Name {
					continue
				}
				target = Column{t.Name, c.Schema, c.Table, c.Name}
			default:
				continue
			}
			if i == 1 {
				if _, configured := v.config[c]; configured {
					continue // counted once, as configured
				}
			}
			cand := newCandidate(v)
			cand.source(c, statement.TransformCopy)
			if r := cand.record(target); r != nil {
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target.Key() < out[j].Target.Key() })
	return out
}

// candidate collects what one target column receives.
type candidate struct {
	v         *view
	c         combiner
	from      []string
	transform string
}

func newCandidate(v *view) *candidate {
	return &candidate{v: v, c: combiner{defaultDenyIn: v.defaultDenyIn}, transform: string(statement.TransformCopy)}
}

// add takes in one written value: its sources' classifications, and for
// an untraced value every classified column of the tables the write reads.
func (c *candidate) add(dv *statement.Derivation, dc *statement.DerivedColumn) {
	how := dc.Transform
	if how == "" || !dc.Traced {
		how = statement.TransformExpression
	}
	for _, s := range dc.Sources {
		c.source(Column{s.Database, s.Schema, s.Table, s.Name}, how)
	}
	if !dc.Traced {
		for _, o := range dv.Reads {
			for _, col := range c.v.columns(o.Database, o.Schema, o.Name) {
				c.source(col, statement.TransformExpression)
			}
		}
	}
}

// source takes in one source column, copied or computed on (how).
func (c *candidate) source(col Column, how statement.Transform) {
	e, ok := c.v.get(col)
	if !ok {
		return
	}
	c.c.add(Entry{Class: e.Class, Classes: e.Classes, Strategy: e.Strategy, DenyIn: e.DenyIn}, how != statement.TransformCopy)
	if k := col.Key(); !slices.Contains(c.from, k) {
		c.from = append(c.from, k)
	}
	if how == statement.TransformAggregate || how == statement.TransformExpression && c.transform == string(statement.TransformCopy) {
		c.transform = string(how)
	}
}

func (c *candidate) empty() bool { return c.c.n == 0 }

func (c *candidate) record(target Column) *Record {
	if c.empty() {
		return nil
	}
	e := c.c.entry()
	from := slices.Clone(c.from)
	sort.Strings(from)
	return &Record{Target: target, Class: e.Class, Classes: e.Classes, Strategy: e.Strategy, DenyIn: e.DenyIn, From: from, Transform: c.transform}
}
