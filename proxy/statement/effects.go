package statement

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Destructive effects: what a statement can destroy or overwrite, however it
// is spelled. The classifier records one Effect per destroyed thing as it
// reads each statement form (inside scripting blocks, EXECUTE IMMEDIATE and
// pipes too), and the syntax tree refines whether a predicate bounds it.

// Effect is one thing a statement can destroy or overwrite.
type Effect struct {
	Effect EffectKind `json:"effect"`
	Object Object     `json:"object"`
	// Bounded is true when a predicate limits the rows affected: a WHERE
	// (or MERGE condition) that is present and not always true once
	// constants are folded. Effects on whole objects are never bounded.
	Bounded bool   `json:"bounded"`
	How     string `json:"how"` // the form, e.g. "INSERT OVERWRITE"
}

// EffectKind classifies destruction.
type EffectKind string

// The effect kinds.
const (
	EffectRowsRemoved       EffectKind = "rows_removed"       // DELETE, TRUNCATE, MERGE ... DELETE, REMOVE of staged files, COPY ... PURGE
	EffectRowsReplaced      EffectKind = "rows_replaced"      // UPDATE, MERGE ... UPDATE, INSERT OVERWRITE, COPY ... OVERWRITE
	EffectObjectReplaced    EffectKind = "object_replaced"    // CREATE OR REPLACE / OR ALTER, SWAP WITH, RENAME
	EffectObjectDropped     EffectKind = "object_dropped"     // DROP, ALTER ... DROP COLUMN
	EffectProtectionRemoved EffectKind = "protection_removed" // masking/row access/aggregation/projection policies, tags, time travel, secure views, managed access
)

func (r *reading) effect(k EffectKind, o Object, bounded bool, how string) {
	o.Access = ""
	r.effects = append(r.effects, Effect{Effect: k, Object: o, Bounded: bounded, How: how})
}

// protectionPhrases are ALTER clauses that remove or weaken a protection.
var protectionPhrases = []struct {
	words []string
	how   string
}{
	{[]string{"UNSET", "MASKING", "POLICY"}, "UNSET MASKING POLICY"},
	{[]string{"SET", "MASKING", "POLICY"}, "SET MASKING POLICY (replaces the column's policy)"},
	{[]string{"DROP", "ROW", "ACCESS", "POLICY"}, "DROP ROW ACCESS POLICY"},
	{[]string{"DROP", "ALL", "ROW", "ACCESS", "POLICIES"}, "DROP ALL ROW ACCESS POLICIES"},
	{[]string{"UNSET", "AGGREGATION", "POLICY"}, "UNSET AGGREGATION POLICY"},
	{[]string{"UNSET", "PROJECTION", "POLICY"}, "UNSET PROJECTION POLICY"},
	{[]string{"UNSET", "JOIN", "POLICY"}, "UNSET JOIN POLICY"},
	{[]string{"DROP", "AGGREGATION", "POLICY"}, "DROP AGGREGATION POLICY"},
	{[]string{"UNSET", "TAG"}, "UNSET TAG (tag-based masking no longer applies)"},
	{[]string{"SET", "TAG"}, "SET TAG (changes which tag-based masking applies)"},
	{[]string{"UNSET", "SECURE"}, "UNSET SECURE"},
	{[]string{"DISABLE", "MANAGED", "ACCESS"}, "DISABLE MANAGED ACCESS"},
	{[]string{"SET", "BODY"}, "SET BODY (rewrites the policy)"},
	{[]string{"UNSET", "DATA_RETENTION_TIME_IN_DAYS"}, "UNSET DATA_RETENTION_TIME_IN_DAYS"},
	{[]string{"UNSET", "MIN_DATA_RETENTION_TIME_IN_DAYS"}, "UNSET MIN_DATA_RETENTION_TIME_IN_DAYS"},
	{[]string{"UNSET", "MAX_DATA_EXTENSION_TIME_IN_DAYS"}, "UNSET MAX_DATA_EXTENSION_TIME_IN_DAYS"},
}

// protectionTypes are the object types that are themselves protections:
// replacing or dropping one removes what it protected.
var protectionTypes = map[string]bool{
	"masking_policy": true, "row_access_policy": true, "aggregation_policy": true, "projection_policy": true,
	"tag": true, "network_policy": true, "password_policy": true, "session_policy": true,
	"authentication_policy": true, "join_policy": true,
}

// alterEffects records what the clauses of ALTER <obj> at toks[from:] destroy.
func (c *classifier) alterEffects(obj Object, typ string, from int) {
	t := c.toks
	for k := from; k < len(t); k++ {
		for _, p := range protectionPhrases {
			if phraseAt(t, k, p.words) {
				c.r.effect(EffectProtectionRemoved, obj, false, "ALTER "+strings.ToUpper(typ)+" ... "+p.how)
			}
		}
		switch {
		case t[k].is("DATA_RETENTION_TIME_IN_DAYS") || t[k].is("MIN_DATA_RETENTION_TIME_IN_DAYS") || t[k].is("MAX_DATA_EXTENSION_TIME_IN_DAYS"):
			if k > 0 && t[k-1].is("UNSET") {
				continue
			}
			if v := k + 1; v+1 < len(t) && t[v].isOp("=") && t[v+1].Kind == TokNumber && strings.Trim(t[v+1].Value, "0.") == "" {
				c.r.effect(EffectProtectionRemoved, obj, false, t[k].Value+" = 0 (time travel off)")
			}
		case t[k].is("SWAP") && k+1 < len(t) && t[k+1].is("WITH"):
			c.r.effect(EffectObjectReplaced, obj, false, "ALTER "+strings.ToUpper(typ)+" ... SWAP WITH")
			if q, _, ok := parseName(t, k+2); ok {
				c.r.effect(EffectObjectReplaced, q.object(typ, "", c.env), false, "ALTER "+strings.ToUpper(typ)+" ... SWAP WITH")
			}
		case t[k].is("RENAME") && k+1 < len(t) && t[k+1].is("TO"):
			c.r.effect(EffectObjectReplaced, obj, false, "ALTER "+strings.ToUpper(typ)+" ... RENAME TO")
		case t[k].is("DROP") && k+1 < len(t) && (t[k+1].is("COLUMN") || typ == "table" && isColumnDrop(t, k+1)):
			c.r.effect(EffectObjectDropped, obj, false, "ALTER TABLE ... DROP COLUMN")
		case typ == "table" && t[k].is("DROP") && k+1 < len(t) && (t[k+1].is("SEARCH") || t[k+1].is("CLUSTERING")):
		case typ == "table" && t[k].is("DROP") && k+1 < len(t) && t[k+1].is("PARTITION"):
			c.r.effect(EffectRowsRemoved, obj, false, "ALTER TABLE ... DROP PARTITION")
		}
	}
}

// isColumnDrop reports whether ALTER TABLE t DROP <x> drops a column
// (DROP c1, DROP "c"): anything that is not a known non-column clause.
func isColumnDrop(t []Token, i int) bool {
	if i >= len(t) {
		return false
	}
	switch t[i].Value {
	case "ROW", "ALL", "AGGREGATION", "PROJECTION", "SEARCH", "CLUSTERING", "PRIMARY", "UNIQUE", "FOREIGN",
		"CONSTRAINT", "PARTITION", "TAG", "JOIN":
		return t[i].Kind != TokIdent
	}
	return t[i].Kind == TokIdent || t[i].Kind == TokQuotedIdent
}

func phraseAt(t []Token, k int, words []string) bool {
	if k+len(words) > len(t) {
		return false
	}
	for j, w := range words {
		if !t[k+j].is(w) {
			return false
		}
	}
	return true
}

// copyEffects records COPY options that destroy: PURGE = TRUE removes the
// loaded files, OVERWRITE = TRUE replaces files at the unload location.
func (c *classifier) copyEffects() {
	t := c.toks
	for k := 0; k+2 < len(t); k++ {
		if !t[k+1].isOp("=") || !(t[k+2].is("TRUE") || t[k+2].Value == "1" || strings.EqualFold(t[k+2].Value, "true")) {
			continue
		}
		switch {
		case t[k].is("PURGE"):
			for _, o := range c.r.objects {
				if (o.Type == "stage" || o.Type == "location" || o.Type == "table_stage") && o.Access == AccessRead {
					c.r.effect(EffectRowsRemoved, o, false, "COPY ... PURGE = TRUE removes the loaded files")
				}
			}
		case t[k].is("OVERWRITE"):
			for _, o := range c.r.objects {
				if o.Access == AccessWrite {
					c.r.effect(EffectRowsReplaced, o, false, "COPY ... OVERWRITE = TRUE replaces the files at the location")
				}
			}
		}
	}
}

// boundBy links the query registered last to effect n (1-based): the tree
// reading of its WHERE refines whether the effect is bounded.
func (c *classifier) boundBy(n int) {
	if k := len(c.r.queries) - 1; k >= 0 && c.r.queries[k].synthetic {
		c.r.queries[k].bounds = n
	}
}

// mergeEffects reads the WHEN MATCHED clauses of a MERGE: THEN DELETE
// removes rows, THEN UPDATE replaces them; each is bounded only by its own
// AND condition, and nothing is bounded when ON holds for every pair.
func (c *classifier) mergeEffects(tbl Object, from int) {
	t := c.toks
	on := c.clauseAt(from, "ON")
	when := c.clauseAt(on, "WHEN")
	onTrue := on < len(t) && condTrue(t[on+1:when], c.src)
	for w := when; w < len(t); {
		next := c.clauseAt(w+1, "WHEN")
		then := min(c.clauseAt(w, "THEN"), next)
		if w+1 < len(t) && t[w+1].is("MATCHED") && then+1 < next {
			bounded := false
			for k := w + 2; k < then; k++ {
				if t[k].is("AND") {
					bounded = !condTrue(t[k+1:then], c.src)
					break
				}
			}
			bounded = bounded && !onTrue
			switch {
			case t[then+1].is("DELETE"):
				c.r.effect(EffectRowsRemoved, tbl, bounded, "MERGE ... WHEN MATCHED THEN DELETE")
			case t[then+1].is("UPDATE"):
				c.r.effect(EffectRowsReplaced, tbl, bounded, "MERGE ... WHEN MATCHED THEN UPDATE")
			}
		}
		w = next
	}
}

// condTrue reports whether a condition written as toks holds for every row
// once constants are folded; a condition it cannot read counts as true
// (it cannot be shown to bound anything).
func condTrue(toks []Token, src string) bool {
	if len(toks) == 0 {
		return true
	}
	q := query{src: src, refs: map[int]tableRef{}, synthetic: true}
	pos := toks[0].Pos
	q.toks = append(q.toks, Token{Kind: TokIdent, Value: "SELECT", Pos: pos, End: pos},
		Token{Kind: TokNumber, Value: "1", Pos: pos, End: pos}, Token{Kind: TokIdent, Value: "WHERE", Pos: pos, End: pos})
	q.toks = append(q.toks, toks...)
	lw, err := lower(q)
	if err != nil {
		return true
	}
	stmt, err := parseTree(lw.sql)
	if err != nil {
		return true
	}
	s, ok := stmt.(*ast.SelectStmt)
	if !ok || s.Where == nil {
		return true
	}
	return alwaysTrue(s.Where)
}
