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
	pos        int64  // 1-based position among the session's statements that ran upstream; 0 for an empty slot
	id         string // the query id the client saw
	upstreamID string // the upstream's own id; empty when the upstream did not report it
	// outputs are the statement's lineage, for a query the analysis read
	// completely, and cols the result's columns as the upstream named
	// them; resultOutputs lines them up when RESULT_SCAN asks.
	outputs []statement.Output
	cols    []Column
}

// remember records a statement that ran upstream: stmt and cols are what
// RESULT_SCAN of it reads, both nil when it has no result (it failed, or
// only described one).
func (s *session) remember(id, upstreamID string, stmt *statement.Statement, cols []Column) {
	e := resultEntry{id: id, upstreamID: upstreamID, cols: cols}
	if stmt != nil && stmt.Kind == statement.KindSelect && stmt.Parse.Complete {
		e.outputs = stmt.Outputs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.results == nil {
		s.results = make([]resultEntry, resultHistory)
	}
	s.ran++
	e.pos = s.ran
	s.results[s.ran%resultHistory] = e
}

// resultView is the session's history as one statement's analysis saw it:
// the statements up to the ran-th. The rewrite of the statement's
// RESULT_SCAN arguments reads the same entries its lineage came from; an
// entry that later statements pushed out of the history in between is
// not found, and the statement is refused.
type resultView struct {
	sess *session
	ran  int64
}

func (s *session) resultView() *resultView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &resultView{sess: s, ran: s.ran}
}

// lookup finds the statement a RESULT_SCAN argument names.
func (v *resultView) lookup(ref statement.ResultRef) (resultEntry, bool) {
	if v == nil {
		return resultEntry{}, false
	}
	s := v.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ref.Last() {
		for _, e := range s.results {
			if e.pos > 0 && e.pos <= v.ran && e.id == ref.QueryID {
				return e, true
			}
		}
		return resultEntry{}, false
	}
	pos := int64(ref.Offset)
	if ref.Offset < 0 {
		pos = v.ran + 1 + int64(ref.Offset)
	}
	if pos < 1 || pos > v.ran || s.results == nil {
		return resultEntry{}, false
	}
	e := s.results[pos%resultHistory]
	return e, e.pos == pos
}

// ResultLineage implements statement.ResultLineage.
func (v *resultView) ResultLineage(ref statement.ResultRef) ([]statement.Output, bool) {
	e, ok := v.lookup(ref)
	if !ok {
		return nil, false
	}
	outs := resultOutputs(e.outputs, e.cols)
	return outs, outs != nil
}

// resultOutputs is the lineage of a result by position, named as the
// upstream named the columns; nil when the two do not line up.
func resultOutputs(lineage []statement.Output, cols []Column) []statement.Output {
	if len(lineage) == 0 || len(lineage) != len(cols) {
		return nil
	}
	out := make([]statement.Output, len(cols))
	for i, o := range lineage {
		if o.Name == "*" || cols[i].Name == "" {
			return nil
		}
		o.Name = cols[i].Name
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
func rewriteResultScans(view *resultView, stmt statement.Statement) (string, error) {
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
		e, ok := view.lookup(s.Ref)
		switch {
		case !ok:
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
