package proxy

import (
	"context"
	"fmt"
	"slices"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// tableTypes answers what kind of relation a name is, in INFORMATION_SCHEMA's
// words ("BASE TABLE", "VIEW", ...; empty when there is none).
type tableTypes interface {
	TableType(ctx context.Context, database, schema, name string) (string, error)
}

// plainTables are the relations whose rows are their own: reading one
// cannot read a filtered table's rows out of the gateway's sight.
var plainTables = []string{"BASE TABLE", "TEMPORARY TABLE", "EXTERNAL TABLE"}

// filterRows places the decision's row filters on stmt and returns what
// runs in its place (statement.FilterRows). Every other relation the
// statement reads must be a table the upstream knows: a view or a
// materialized view may read a filtered table where the gateway cannot
// place the filter, and so is refused unless it is itself filtered.
func (s *Server) filterRows(ctx context.Context, q *query, stmt statement.Statement, rowFilters map[string]string) (statement.Statement, error) {
	st := q.session.snapshot()
	env := statement.Env{Database: st.Database, Schema: st.Schema, Catalog: q.session.catalog, FoldQuoted: s.cfg.FoldQuotedIdentifiers}
	if q.results != nil {
		env.Results = q.results
	}
	filters, err := statement.ParseRowFilters(rowFilters, env)
	if err != nil {
		return stmt, err
	}
	types, _ := q.session.conn.(tableTypes)
	for _, o := range stmt.Objects {
		if o.Type != "table" || o.Access != statement.AccessRead || slices.ContainsFunc(filters, func(f statement.RowFilter) bool { return f.Covers(o) }) {
			continue
		}
		if o.Database == "" || o.Schema == "" || types == nil {
			return stmt, fmt.Errorf("row filters apply, and the gateway cannot tell whether %s is a table or a view over a filtered one", qualified(o))
		}
		typ, err := types.TableType(ctx, o.Database, o.Schema, o.Name)
		if err != nil {
			return stmt, fmt.Errorf("row filters apply, and the gateway could not ask what %s is: %w", qualified(o), err)
		}
		if !slices.Contains(plainTables, typ) {
			what := "not a table the upstream knows"
			if typ != "" {
				what = "a " + typ
			}
			return stmt, fmt.Errorf("row filters apply, and %s is %s, which may read a filtered table where no filter can be placed; read the tables it reads instead", qualified(o), what)
		}
	}
	return statement.FilterRows(ctx, stmt, env, filters)
}

// RefuseRows is the decision that stands when row filters cannot be
// placed: a deny that names why and keeps the filters for the trail.
func RefuseRows(d engine.Decision, err error) engine.Decision {
	return engine.Decision{ID: d.ID, Revision: d.Revision, Action: engine.ActionDeny, Reasons: []string{err.Error()},
		Rules: []string{"row_filters"}, RowFilters: d.RowFilters}
}
