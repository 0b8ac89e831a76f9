package proxy

import (
	"context"
	"testing"
)

// TestQueries_keptPerSession: a session that runs statements for hours
// holds its latest keptPerSession queries, not every one until ResultTTL;
// a query still running, or whose answer was not delivered, is never
// dropped; dropping forgets its request id and releases its result.
func TestQueries_keptPerSession(t *testing.T) {
	qs := newQueries()
	sess := &session{id: 7, requests: map[string]*query{}}
	other := &session{id: 8, requests: map[string]*query{}}
	run := func(s *session, requestID string, delivered bool) *query {
		q, _ := newQuery(context.Background(), s, requestID, "SELECT 1")
		s.requests[requestID] = q
		qs.add(q)
		q.finish(&result{}, nil)
		q.delivered.Store(delivered)
		return q
	}
	undelivered := run(sess, "async", false)
	running, _ := newQuery(context.Background(), sess, "running", "SELECT 2")
	qs.add(running)
	first := run(sess, "r0", true)
	for i := 1; i < 100; i++ {
		run(sess, "r"+string(rune('0'+i%10))+string(rune('a'+i/10)), true)
	}
	run(other, "o", true)

	if n := len(qs.bySession[sess.id]); n != keptPerSession {
		t.Errorf("the session holds %d queries, want %d", n, keptPerSession)
	}
	if qs.get(undelivered.id) == nil || qs.get(running.id) == nil {
		t.Error("a query not delivered or still running was dropped")
	}
	if qs.get(first.id) != nil || sess.requests["r0"] != nil {
		t.Error("the session's first delivered query is still held")
	}
	if len(qs.byID) != keptPerSession+1 {
		t.Errorf("%d queries held in all, want %d", len(qs.byID), keptPerSession+1)
	}
	qs.dropSession(sess.id)
	if len(qs.byID) != 1 || len(qs.bySession) != 1 {
		t.Errorf("after the session ended: %d queries, %d sessions listed; want the other session's one", len(qs.byID), len(qs.bySession))
	}
}
