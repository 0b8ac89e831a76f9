package proxy

// Explain: what the policy decides for a session's identity on a statement,
// without running it. The statements are analysed and decided as the
// query path does before it acts (session state, catalog, CREATE OR
// REPLACE of what does not exist read as a create, row estimates; no
// binds), and each evaluation is recorded in the audit trail as a
// statement event whose reason says it was not run. Asked to, the gateway
// also opens (or finds) the approval request a held statement needs, as
// ticket mode would, so that a client that must not wait can name it.
//
//	POST /snowgate/v1/explain-request
//	Authorization: Snowflake Token="<session token>"
//	{"sqlText": "DELETE FROM orders", "openApproval": true}

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/statement"
)

// ExplainPath is where a session asks for decisions without running.
const ExplainPath = "/snowgate/v1/explain-request"

// ExplainReason marks an explained statement's audit record: decided, not run.
const ExplainReason = "explained: decided without running"

type explainRequest struct {
	SQLText string `json:"sqlText"`
	// OpenApproval opens the approval request of each statement that
	// needs one, or returns the one already open or approved.
	OpenApproval bool `json:"openApproval"`
}

// Explanation is the answer to an explain request.
type Explanation struct {
	// ApprovalMode is the gateway's own setting (hold or ticket); a
	// decision's approval.mode overrides it for that statement.
	ApprovalMode string             `json:"approvalMode"`
	ApprovalPage string             `json:"approvalPage,omitempty"`
	Statements   []ExplainStatement `json:"statements"`
}

// ExplainStatement is one statement's decision.
type ExplainStatement struct {
	Index    int             `json:"index"`
	SQL      string          `json:"sql"`
	Kind     string          `json:"kind"`
	Category string          `json:"category"`
	Decision engine.Decision `json:"decision"`
	// Runs is the text that would run in the statement's place (the
	// decision's row filters placed).
	Runs string `json:"runs,omitempty"`
	// Approval is the statement's approval request, when one was asked
	// for and the decision requires it.
	Approval *ExplainApproval `json:"approvalRequest,omitempty"`
}

// ExplainApproval names an approval request and where to act on it.
type ExplainApproval struct {
	ID        string    `json:"id"`
	State     string    `json:"state"` // pending or approved
	Page      string    `json:"page,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *Server) explainRoutes() {
	s.handle("POST "+ExplainPath, s.explain)
}

func (s *Server) explain(w http.ResponseWriter, r *http.Request) (any, error) {
	sess, err := s.authSession(r)
	if err != nil {
		return nil, err
	}
	if s.cfg.Unguarded {
		return nil, newError(CodeUnsupported, "0A000", "this server takes no policy decisions", nil)
	}
	var req explainRequest
	if err := decodeBody(r, s.cfg.MaxBody, &req); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.SQLText) == "" {
		return nil, newError(CodeCompilation, "42000", "SQL compilation error: empty SQL statement", nil)
	}
	ctx := r.Context()
	st := sess.snapshot()
	q, ctx := newQuery(ctx, sess, "explain-"+uuid.NewString(), req.SQLText)
	defer q.cancelCtx()
	stmts, err := statement.Analyze(ctx, req.SQLText, s.analysisEnv(q))
	if err != nil {
		return nil, newError(CodeCompilation, "42000", "SQL compilation error: "+err.Error(), err)
	}
	if len(stmts) == 0 {
		return nil, newError(CodeCompilation, "42000", "SQL compilation error: empty SQL statement", nil)
	}
	out := &Explanation{ApprovalMode: pick(s.cfg.ApprovalMode, "hold"), ApprovalPage: s.cfg.ApprovalPage}
	for _, stmt := range stmts {
		log := s.log.With("session", sess.id, "request", q.requestID, "kind", stmt.Kind, "fingerprint", stmt.Fingerprint)
		stmt, run, in, d := s.decide(ctx, q, stmt, nil, log) // as the query path decides (pipeline.go)
		if _, err := s.record(ctx, audit.Event{Type: audit.TypeStatement, SessionID: sessionID(sess), RequestID: q.requestID,
			Identity: auditIdentity(sess.principal.Identity), Statement: auditStatement(stmt, run, st, in.Session.QueryTag), Decision: auditDecision(d, in.Estimate),
			Reason: ExplainReason}); err != nil {
			return nil, err
		}
		log.Info("statement explained", "decision", d.ID, "action", d.Action)
		e := ExplainStatement{Index: stmt.Index, SQL: stmt.SQL, Kind: string(stmt.Kind), Category: string(stmt.Category), Decision: d}
		if run.SQL != stmt.SQL && d.Action != engine.ActionDeny {
			e.Runs = run.SQL
		}
		if req.OpenApproval && d.Action == engine.ActionRequireApproval {
			if e.Approval, err = s.ticket(ctx, sess, stmt, d); err != nil {
				return nil, err
			}
		}
		out.Statements = append(out.Statements, e)
	}
	return out, nil
}

// ticket returns the approval request the query path would use or open
// for stmt without binds: an approved one it has not used yet, else the
// pending one, else a new one.
func (s *Server) ticket(ctx context.Context, sess *session, stmt statement.Statement, d engine.Decision) (*ExplainApproval, error) {
	if s.cfg.Approvals == nil {
		return nil, newError(CodeApprovalRequired, "42501", denyMessage("requires approval", d)+"; approvals are not enabled on this gateway", nil)
	}
	r, err := s.approvalRequest(ctx, sess, stmt, nil, d)
	if err != nil {
		return nil, newError(CodePolicyUnavailable, "42501", "snowgate could not read or record the approval request", err)
	}
	page := ""
	if s.cfg.ApprovalPage != "" {
		page = s.cfg.ApprovalPage + "#" + r.ID
	}
	return &ExplainApproval{ID: r.ID, State: string(r.State), Page: page, ExpiresAt: r.ExpiresAt}, nil
}
