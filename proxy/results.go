package proxy

// What each session remembers of the results it produced, so that
// RESULT_SCAN of one of them inherits its lineage (statement.Env.Results)
// and reaches the upstream with the upstream's own query id.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// resultHistory is how many of its latest statements a session remembers.
const resultHistory = 64

// resultEntry is one statement the session ran upstream.
type resultEntry struct {
	pos        int64  // 1-based position among the session's statements that ran upstream
	id         string // the query id the client saw
	upstreamID string // the upstream's own id; empty when the upstream did not report it
	// outputs are the result's columns, named as the upstream named them,
	// with the statement's lineage; nil when they cannot be told (not a
	// query, failed, describe only, or lineage that does not line up).
	outputs []statement.Output
}

// remember records a statement that ran upstream.
func (s *session) remember(id, upstreamID string, outputs []statement.Output) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ran++
	s.results = append(s.results, &resultEntry{pos: s.ran, id: id, upstreamID: upstreamID, outputs: outputs})
	if n := len(s.results); n > resultHistory {
		s.results = append(s.results[:0:0], s.results[n-resultHistory:]...)
	}
}

// resultSnapshot is the session's history as one statement's analysis saw
// it: the rewrite of the statement's RESULT_SCAN arguments uses the same
// entries its lineage came from, whatever runs in between.
type resultSnapshot struct {
	entries []*resultEntry
	ran     int64
}

func (s *session) resultSnapshot() *resultSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &resultSnapshot{entries: append([]*resultEntry(nil), s.results...), ran: s.ran}
}

// lookup finds the statement a RESULT_SCAN argument names.
func (r *resultSnapshot) lookup(ref statement.ResultRef) *resultEntry {
	if r == nil {
		return nil
	}
	if !ref.Last() {
		for _, e := range r.entries {
			if e.id == ref.QueryID {
				return e
			}
		}
		return nil
	}
	pos := int64(ref.Offset)
	if ref.Offset < 0 {
		pos = r.ran + 1 + int64(ref.Offset)
	}
	if len(r.entries) == 0 || pos < r.entries[0].pos || pos > r.ran {
		return nil
	}
	return r.entries[pos-r.entries[0].pos]
}

// ResultLineage implements statement.ResultLineage.
func (r *resultSnapshot) ResultLineage(ref statement.ResultRef) ([]statement.Output, bool) {
	e := r.lookup(ref)
	if e == nil || e.outputs == nil {
		return nil, false
	}
	return append([]statement.Output(nil), e.outputs...), true
}

// resultOutputs is what a session remembers of a statement's result: its
// lineage by position, named as the upstream named the columns; nil when
// the two do not line up.
func resultOutputs(stmt statement.Statement, cols []Column) []statement.Output {
	if stmt.Kind != statement.KindSelect || !stmt.Parse.Complete || len(stmt.Outputs) == 0 || len(stmt.Outputs) != len(cols) {
		return nil
	}
	out := make([]statement.Output, len(cols))
	for i, o := range stmt.Outputs {
		if o.Name == "*" || cols[i].Name == "" {
			return nil
		}
		o.Name = cols[i].Name
		o.Sources = append([]statement.Column(nil), o.Sources...)
		out[i] = o
	}
	return out
}

// rewriteResultScans returns the statement's text with each RESULT_SCAN
// argument whose lineage came from the session's history replaced by the
// upstream's id of that statement: the client knows the gateway's query
// ids, not the upstream's, and LAST_QUERY_ID() upstream also counts what
// the gateway itself runs in the session (catalog lookups) and child
// statements. It fails when an id is not known or the argument cannot be
// located: the statement must not read another result than the one its
// lineage came from.
func rewriteResultScans(snap *resultSnapshot, stmt statement.Statement) (string, error) {
	sql := stmt.SQL
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	for _, s := range stmt.ResultScans {
		if !s.Resolved {
			continue
		}
		e := snap.lookup(s.Ref)
		switch {
		case e == nil:
			return "", fmt.Errorf("RESULT_SCAN names a result the session no longer holds")
		case e.upstreamID == "":
			return "", fmt.Errorf("RESULT_SCAN of query %s cannot run: the upstream did not report its own id for that query", e.id)
		case s.Start < 0 || s.End > len(sql) || s.Start >= s.End:
			return "", fmt.Errorf("RESULT_SCAN of query %s cannot run: its argument could not be located in the statement", e.id)
		}
		edits = append(edits, edit{s.Start, s.End, "'" + strings.ReplaceAll(e.upstreamID, "'", "''") + "'"})
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	// from the end, so earlier offsets stay valid
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		if i+1 < len(edits) && e.end > edits[i+1].start {
			return "", fmt.Errorf("RESULT_SCAN arguments overlap")
		}
		sql = sql[:e.start] + e.text + sql[e.end:]
	}
	return sql, nil
}
