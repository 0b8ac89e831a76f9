package main

import (
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/quota"
)

// usageTally replays what the trail says callers did — statements decided,
// rows and bytes their results returned, sessions opened and closed — as
// the gateway's quota counters count it, so that audit shadow decides with
// the input.usage each statement would have had. The counts are what the
// recorded traffic did, not what it would have done under the candidate.
type usageTally struct {
	counts   map[quota.Cell]int64
	sessions map[string]int64    // open sessions by key
	open     map[string][]string // a session's keys, while it is open
	queries  map[string]query    // by query id
}

type query struct {
	keys    []string
	returns bool // a result set: its rows and bytes count
	rows    int64
	bytes   int64
	ran     bool // its outcome is in the trail, without an error
}

func newUsageTally() *usageTally {
	return &usageTally{counts: map[quota.Cell]int64{}, sessions: map[string]int64{}, open: map[string][]string{}, queries: map[string]query{}}
}

func tallyKeys(id *audit.Identity) []string {
	return proxy.QuotaKeys(shadowIdentity(id))
}

// usage is what id had done by t, before the statement at t.
func (u *usageTally) usage(id *audit.Identity, t time.Time) *engine.Usage {
	counts := map[string]quota.Usage{}
	for _, k := range tallyKeys(id) {
		counts[k] = quota.Usage{
			StatementsMinute: u.counts[quota.Cell{Key: k, Metric: quota.Statements, Window: quota.Window(quota.Statements, t)}],
			RowsHour:         u.counts[quota.Cell{Key: k, Metric: quota.Rows, Window: quota.Window(quota.Rows, t)}],
			BytesDay:         u.counts[quota.Cell{Key: k, Metric: quota.Bytes, Window: quota.Window(quota.Bytes, t)}],
			Sessions:         u.sessions[k],
		}
	}
	return proxy.UsageOf(shadowIdentity(id), counts)
}

// observe counts one recorded event.
func (u *usageTally) observe(e audit.Event) {
	switch e.Type {
	case audit.TypeSessionStart:
		if e.Identity != nil {
			keys := tallyKeys(e.Identity)
			u.open[e.SessionID] = keys
			for _, k := range keys {
				u.sessions[k]++
			}
		}
	case audit.TypeSessionEnd:
		for _, k := range u.open[e.SessionID] {
			u.sessions[k]--
		}
		delete(u.open, e.SessionID)
	case audit.TypeStatement:
		if e.Identity == nil || e.Statement == nil {
			return
		}
		keys := tallyKeys(e.Identity)
		for _, k := range keys {
			u.counts[quota.Cell{Key: k, Metric: quota.Statements, Window: quota.Window(quota.Statements, e.Time)}]++
		}
		kind := e.Statement.Kind
		u.queries[e.QueryID] = query{keys: keys, returns: e.Statement.Category == "read" || kind == "show" || kind == "describe"}
	case audit.TypeOutcome:
		q, ok := u.queries[e.QueryID]
		if !ok || e.Outcome == nil || e.Outcome.ErrorCode != "" || e.Outcome.NotRun {
			return
		}
		q.rows, q.bytes, q.ran = e.Outcome.Rows, e.Outcome.Bytes, true
		u.queries[e.QueryID] = q
		if !q.returns {
			return
		}
		for _, k := range q.keys {
			u.counts[quota.Cell{Key: k, Metric: quota.Rows, Window: quota.Window(quota.Rows, e.Time)}] += q.rows
			u.counts[quota.Cell{Key: k, Metric: quota.Bytes, Window: quota.Window(quota.Bytes, e.Time)}] += q.bytes
		}
	}
}

// cut says whether a result the trail recorded passes limits: the
// candidate would have cut it.
func (u *usageTally) cut(queryID string, l *engine.Limits) bool {
	q, ok := u.queries[queryID]
	if !ok || !q.ran || !q.returns || l == nil {
		return false
	}
	return l.Rows > 0 && q.rows > l.Rows || l.Bytes > 0 && q.bytes > l.Bytes
}
