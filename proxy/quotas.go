package proxy

// Quotas: what each caller does is counted (statements, rows and bytes
// returned, sessions open) so that the policy reads it in input.usage and
// can cap a statement's result (decision limits), which encode enforces.

import (
	"fmt"
	"log/slog"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/quota"
)

// Quotas counts what callers do (*quota.Counter), by key: a human, an
// agent, a group.
type Quotas interface {
	Usage(keys []string) (map[string]quota.Usage, error)
	Add(keys []string, metric string, n int64)
	Open(keys []string)
	Closed(keys []string)
}

// The counters' keys: a human (issuer and subject), an agent, a group.
func subjectKey(id engine.Identity) string { return "subject:" + id.Issuer + " " + id.Subject }
func agentKey(agent string) string         { return "agent:" + agent }
func groupKey(group string) string         { return "group:" + group }

// CodeQuotaExceeded cuts a result that passes the caller's quota.
const CodeQuotaExceeded = "003008"

// QuotaKeys are the counters a caller's activity goes to: the human's, the
// agent's, each group's.
func QuotaKeys(id engine.Identity) []string {
	keys := []string{subjectKey(id)}
	if id.Agent != nil {
		keys = append(keys, agentKey(id.Agent.ID))
	}
	for _, g := range id.Groups {
		keys = append(keys, groupKey(g))
	}
	return keys
}

// usage is the policy input's counts for the caller with keys
// (QuotaKeys of id); nil without quota counters. Counts that cannot be
// read are marked unavailable (the default library denies when a limit
// applies).
func (s *Server) usage(id engine.Identity, keys []string, log *slog.Logger) *engine.Usage {
	if s.cfg.Quotas == nil {
		return nil
	}
	got, err := s.cfg.Quotas.Usage(keys)
	if err != nil {
		log.Warn("quota counters unavailable; the policy is told so", "err", err)
		return &engine.Usage{Unavailable: true, Groups: map[string]engine.Counts{}}
	}
	return UsageOf(id, got)
}

// UsageOf is the policy input's usage of the caller id from the counts of
// its QuotaKeys.
func UsageOf(id engine.Identity, counts map[string]quota.Usage) *engine.Usage {
	of := func(k string) engine.Counts {
		u := counts[k]
		return engine.Counts{StatementsMinute: u.StatementsMinute, RowsHour: u.RowsHour, BytesDay: u.BytesDay, Sessions: u.Sessions}
	}
	u := &engine.Usage{Subject: of(subjectKey(id)), Groups: make(map[string]engine.Counts, len(id.Groups))}
	if id.Agent != nil {
		c := of(agentKey(id.Agent.ID))
		u.Agent = &c
	}
	for _, g := range id.Groups {
		u.Groups[g] = of(groupKey(g))
	}
	return u
}

// count adds n of metric to a session's counters.
func (s *Server) count(sess *session, metric string, n int64) {
	if s.cfg.Quotas != nil {
		s.cfg.Quotas.Add(sess.quotaKeys, metric, n)
	}
}

// budget is a statement's result caps, as encode counts against them.
type budget struct {
	rows, bytes int64 // 0: no cap
}

func budgetOf(l *engine.Limits) budget {
	if l == nil {
		return budget{}
	}
	return budget{rows: l.Rows, bytes: l.Bytes}
}

// exceeded says which cap rows and bytes of values pass, if any.
func (b budget) exceeded(rows, bytes int64) error {
	switch {
	case b.rows > 0 && rows > b.rows:
		return newError(CodeQuotaExceeded, "54000", fmt.Sprintf("snowgate: result cut: it passes the %d rows left of your quota this hour; narrow the statement or wait", b.rows), nil)
	case b.bytes > 0 && bytes > b.bytes:
		return newError(CodeQuotaExceeded, "54000", fmt.Sprintf("snowgate: result cut: it passes the %d bytes left of your quota today; narrow the statement or wait", b.bytes), nil)
	}
	return nil
}
