package proxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Auditor records the audit trail. Record returns only once the event is
// durable; the gateway does not act on a statement it could not record.
// Defer queues an event the gateway does not act on (an outcome), to be
// written with the next commit.
type Auditor interface {
	Record(ctx context.Context, e audit.Event) (id string, err error)
	Defer(e audit.Event) error
}

// CodeAuditUnavailable refuses what could not be recorded.
const CodeAuditUnavailable = "003006"

func (s *Server) record(ctx context.Context, e audit.Event) (string, error) {
	if s.cfg.Audit == nil {
		return "", nil
	}
	id, err := s.cfg.Audit.Record(ctx, e)
	if err != nil {
		s.log.Error("audit record failed", "type", e.Type, "session", e.SessionID, "err", err)
		return "", newError(CodeAuditUnavailable, "58030", "snowgate could not record this in its audit trail, so it was refused; try again later", err)
	}
	return id, nil
}

func auditIdentity(id engine.Identity) *audit.Identity {
	return &audit.Identity{Subject: id.Subject, Email: id.Email, Issuer: id.Issuer, Agent: agentID(id), Groups: id.Groups}
}

func (sess *session) auditClient() *audit.Client {
	return &audit.Client{App: sess.client.App, Version: sess.client.Version, Address: sess.client.Address, QueryTag: sess.queryTag}
}

// auditStatement records stmt as the client sent it, and run's text when
// something else runs in its place (row filters).
func auditStatement(stmt, run statement.Statement, st SessionState, queryTag string) *audit.Statement {
	objs := make([]string, len(stmt.Objects))
	for i, o := range stmt.Objects {
		objs[i] = fmt.Sprintf("%s %s %s", o.Type, qualified(o), o.Access)
	}
	as := &audit.Statement{SQL: stmt.SQL, Fingerprint: stmt.Fingerprint, Kind: string(stmt.Kind), Category: string(stmt.Category),
		Objects: objs, Index: stmt.Index, Count: stmt.Count, Database: st.Database, Schema: st.Schema, QueryTag: queryTag}
	if run.SQL != stmt.SQL {
		as.Rewritten = run.SQL
	}
	return as
}

func auditDecision(d engine.Decision, e *engine.Estimate) *audit.Decision {
	ad := &audit.Decision{ID: d.ID, Action: string(d.Action), Reasons: d.Reasons, Masks: d.Masks, Revision: d.Revision, Rules: d.Rules, RowFilters: d.RowFilters}
	if e != nil {
		ad.Estimate = &audit.Estimate{Object: e.Object, Rows: e.Rows, Total: e.Total, Share: e.Share, Method: e.Method, Bytes: e.Bytes}
		for _, sc := range e.Scans {
			ad.Estimate.Scans = append(ad.Estimate.Scans, audit.Scan(sc))
		}
	}
	return ad
}

func sessionID(sess *session) string { return strconv.FormatInt(sess.id, 10) }

// outcomeOf sums up a result for the trail (nil: no result).
func outcomeOf(res *result) *audit.Outcome {
	o := &audit.Outcome{}
	if res != nil {
		o.Rows = res.Total
		o.Bytes = int64(len(res.Inline))
		if res.Chunks != nil {
			o.Bytes += res.Chunks.Size()
		}
	}
	return o
}

// recordOutcome records what running a statement did.
func (s *Server) recordOutcome(ctx context.Context, q *query, o *audit.Outcome, started time.Time, failure *Error) error {
	o.DurationMS = time.Since(started).Milliseconds()
	if failure != nil {
		o.ErrorCode, o.ErrorMessage = failure.Code, failure.Message
		if errors.Is(failure, errAbandoned) {
			o.Abandoned = true
			s.counters.abandoned.Add(1)
		}
	}
	if s.cfg.Audit == nil {
		return nil
	}
	err := s.cfg.Audit.Defer(audit.Event{Type: audit.TypeOutcome, SessionID: sessionID(q.session), RequestID: q.requestID, QueryID: q.id, Outcome: o})
	if err != nil {
		s.log.Error("audit outcome not recorded", "query", q.id, "err", err)
	}
	return err
}

// ApprovalAuditor records approval transitions; pass it as the approval
// service's OnChange.
func ApprovalAuditor(a Auditor) func(ctx context.Context, r *approval.Request, by *approval.Person) {
	return func(ctx context.Context, r *approval.Request, by *approval.Person) {
		e := audit.Event{Type: audit.TypeApproval, Approval: &audit.Approval{ID: r.ID, State: string(r.State)}}
		if by != nil {
			e.Approval.By = by.Subject
		}
		_, _ = a.Record(context.WithoutCancel(ctx), e)
	}
}
