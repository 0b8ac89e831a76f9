package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/statement"
)

// More codes for held statements.
const (
	CodeApprovalRejected = "003004"
	CodeApprovalExpired  = "003005"
)

// approve returns nil when the statement may run now on the strength of an
// approval, which it consumes: one approval runs the statement once.
func (s *Server) approve(ctx context.Context, q *query, stmt statement.Statement, binds []Bind, d engine.Decision, log *slog.Logger) error {
	if s.cfg.Approvals == nil {
		return newError(CodeApprovalRequired, "42501", denyMessage("requires approval", d)+"; approvals are not enabled on this gateway", nil)
	}
	r, err := s.approvalRequest(ctx, q.session, stmt, binds, d)
	if err != nil {
		return newError(CodePolicyUnavailable, "42501", "snowgate could not read or record the approval request; the statement was not run", err)
	}
	if r.State == approval.Approved {
		// approved earlier (ticket mode, or a retried hold): it runs once
		return s.useApproval(ctx, r, log)
	}
	log = log.With("approval", r.ID)
	mode := s.cfg.ApprovalMode
	if d.Approval != nil && d.Approval.Mode != "" {
		mode = d.Approval.Mode // the policy's choice for this caller
	}
	if mode == "ticket" {
		log.Info("statement held: ticket issued")
		return newError(CodeApprovalRequired, "42501", ticketMessage(r, s.cfg.ApprovalPage, d), nil)
	}
	log.Info("statement held until approved")
	q.held.Store(true)
	r, err = s.cfg.Approvals.Wait(ctx, r.ID)
	q.held.Store(false)
	if err != nil {
		if ctx.Err() != nil {
			return canceled(ctx, "while waiting for approval "+r.ID)
		}
		return newError(CodePolicyUnavailable, "42501", "snowgate lost track of the approval request; the statement was not run", err)
	}
	switch r.State {
	case approval.Approved:
		return s.useApproval(ctx, r, log)
	case approval.Rejected:
		by, why := "", ""
		for _, v := range r.Votes {
			if !v.Approve {
				by, why = pick(v.By.Email, v.By.Subject), v.Reason
			}
		}
		msg := fmt.Sprintf("snowgate: approval %s was rejected by %s", r.ID, by)
		if why != "" {
			msg += ": " + why
		}
		return newError(CodeApprovalRejected, "42501", msg+" (decision "+d.ID+")", nil)
	case approval.Expired:
		return newError(CodeApprovalExpired, "42501", fmt.Sprintf("snowgate: approval %s expired before anyone approved it; run the statement again to ask again (decision %s)", r.ID, d.ID), nil)
	}
	return newError(CodeApprovalRequired, "42501", fmt.Sprintf("snowgate: approval %s is %s; the statement was not run", r.ID, r.State), nil)
}

// approvalRequest is the caller's approval request for the exact statement
// (its text and bind values): an approved one first, else a pending one,
// else a new one as the decision asks.
func (s *Server) approvalRequest(ctx context.Context, sess *session, stmt statement.Statement, binds []Bind, d engine.Decision) (*approval.Request, error) {
	svc := s.cfg.Approvals
	id := sess.principal.Identity
	who := approval.Person{Subject: id.Subject, Email: id.Email, Name: id.Name, Agent: agentID(id)}
	sql := exactStatement(stmt.SQL, binds)
	hash := approval.HashSQL(sql)
	r, err := svc.Find(ctx, who, hash, approval.Approved)
	if err == nil && r == nil {
		r, err = svc.Find(ctx, who, hash, approval.Pending)
	}
	if err != nil || r != nil {
		return r, err
	}
	a := d.Approval
	if a == nil {
		a = &engine.Approval{Count: 1, TTLSeconds: 3600}
	}
	objects := make([]string, 0, len(stmt.Objects))
	for _, o := range stmt.Objects {
		objects = append(objects, fmt.Sprintf("%s %s (%s)", o.Type, qualified(o), o.Access))
	}
	return svc.Open(ctx, &approval.Request{
		SQL: sql, Fingerprint: stmt.Fingerprint, Requester: who, Objects: objects,
		Why: a.Why, Reasons: d.Reasons, DecisionID: d.ID, Groups: a.Groups, Count: a.Count,
	}, time.Duration(a.TTLSeconds)*time.Second)
}

func (s *Server) useApproval(ctx context.Context, r *approval.Request, log *slog.Logger) error {
	if err := s.cfg.Approvals.Use(ctx, r); err != nil {
		return newError(CodeApprovalRequired, "42501", fmt.Sprintf("snowgate: approval %s was already used; run the statement again to ask again", r.ID), err)
	}
	log.Info("statement approved", "approval", r.ID)
	return nil
}

func ticketMessage(r *approval.Request, page string, d engine.Decision) string {
	msg := fmt.Sprintf("snowgate: statement requires approval (request %s): %s. An approver in %s must approve it",
		r.ID, pick(r.Why, strings.Join(d.Reasons, "; ")), strings.Join(r.Groups, " or "))
	if page != "" {
		msg += " at " + page + "#" + r.ID
	}
	return msg + "; then run the same statement again (decision " + d.ID + ")"
}

// exactStatement is the statement text with its bind values: an approval
// covers these values, not a look-alike with other literals.
func exactStatement(sql string, binds []Bind) string {
	if len(binds) == 0 {
		return sql
	}
	b, _ := json.Marshal(binds)
	return sql + "\n-- binds: " + string(b)
}

func qualified(o statement.Object) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{o.Database, o.Schema, o.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}
