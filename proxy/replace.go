package proxy

import (
	"context"
	"log/slog"
	"slices"

	"github.com/snowgate/snowgate/proxy/statement"
)

// createsAnew reads CREATE OR REPLACE TABLE or VIEW of an object that does
// not exist as the create it is: no object is replaced, so none needs an
// approval for it (tools such as dbt build every model this way).
//
// The upstream's catalog says whether the object exists. When it cannot
// say — no catalog, an error, another kind of object — the statement stays
// a replace. When it says no, the statement runs upstream without OR
// REPLACE: should the object appear between the look and the run, the
// create fails rather than replace what it did not see.
func createsAnew(ctx context.Context, cat statement.Catalog, stmt statement.Statement, log *slog.Logger) statement.Statement {
	if cat == nil || !stmt.Flags.CreateOrReplace || stmt.Kind != statement.KindCreate {
		return stmt
	}
	var replaced []statement.Effect
	for _, e := range stmt.Effects {
		if e.Effect == statement.EffectProtectionRemoved {
			return stmt
		}
		if e.Effect == statement.EffectObjectReplaced {
			replaced = append(replaced, e)
		}
	}
	if len(replaced) != 1 {
		return stmt
	}
	o := replaced[0].Object
	if (o.Type != "table" && o.Type != "view") || o.Database == "" || o.Schema == "" {
		return stmt
	}
	toks, err := statement.Lex(stmt.SQL)
	if err != nil || len(toks) < 4 || !isWord(toks[0], "CREATE") || !isWord(toks[1], "OR") || !isWord(toks[2], "REPLACE") {
		return stmt
	}
	for i := 3; i+1 < len(toks); i++ {
		if isWord(toks[i], "COPY") && isWord(toks[i+1], "GRANTS") {
			return stmt // COPY GRANTS needs OR REPLACE
		}
	}
	cols, err := cat.Columns(ctx, o.Database, o.Schema, o.Name)
	if err != nil || len(cols) > 0 {
		return stmt
	}
	log.Debug("CREATE OR REPLACE of an object that does not exist: run as CREATE", "object", o.Database+"."+o.Schema+"."+o.Name)
	stmt.SQL = stmt.SQL[:toks[0].End] + stmt.SQL[toks[2].End:]
	stmt.Flags.CreateOrReplace = false
	stmt.Effects = slices.DeleteFunc(slices.Clone(stmt.Effects), func(e statement.Effect) bool {
		return e.Effect == statement.EffectObjectReplaced
	})
	return stmt
}

func isWord(t statement.Token, w string) bool { return t.Kind == statement.TokIdent && t.Value == w }
