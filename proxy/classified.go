package proxy

import (
	"context"
	"log/slog"
	"strings"

	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/classify"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Classifier records what the tables and views a write fills inherit from
// the classified columns it copies (classify.Service), so that the policy
// masks the copies like the originals. Without one, classifications do not
// follow copies.
type Classifier interface {
	Record(ctx context.Context, w classify.Write) ([]*classify.Record, error)
}

// CodeClassificationUnrecorded: a write ran but what its targets inherit
// could not be recorded.
const CodeClassificationUnrecorded = "003007"

// classifyWrite hands a write that ran upstream, and the data it derived,
// to the classifier. A failure is the client's error: the write happened,
// but its copies are not protected yet, and someone must know.
func (s *Server) classifyWrite(ctx context.Context, q *query, stmt statement.Statement, auditID string, describe bool, log *slog.Logger) error {
	if s.cfg.Classifier == nil || s.cfg.Unguarded || describe || len(stmt.Derived) == 0 {
		return nil
	}
	sess := q.session
	cat, _ := sess.conn.(statement.Catalog) // uncached: the target may be new
	id := sess.principal.Identity
	w := classify.Write{Derived: stmt.Derived, Catalog: cat, Origin: classify.Origin{
		AuditID: auditID, RequestID: q.requestID, QueryID: q.id, SessionID: sessionID(sess),
		By:   classify.Person{Subject: id.Subject, Email: id.Email, Agent: agentID(id)},
		Kind: string(stmt.Kind), Fingerprint: stmt.Fingerprint,
	}}
	recs, err := s.cfg.Classifier.Record(context.WithoutCancel(ctx), w)
	if err != nil {
		log.Error("classifications of derived data not recorded", "err", err)
		return newError(CodeClassificationUnrecorded, "58030", "snowgate: the statement ran, but snowgate could not record the classifications its targets inherit "+
			"from the classified columns it copied; they may be read unmasked until an administrator records them: "+targets(stmt), err)
	}
	if len(recs) > 0 {
		log.Info("derived data classified", "records", len(recs))
	}
	return nil
}

func targets(stmt statement.Statement) string {
	var names []string
	for _, d := range stmt.Derived {
		names = append(names, qualified(d.Target))
	}
	return strings.Join(names, ", ")
}

// ClassificationAuditor records inherited and forgotten classifications
// in the audit trail; pass it as the classification service's OnChange.
func ClassificationAuditor(a Auditor) func(ctx context.Context, c classify.Change) error {
	return func(ctx context.Context, c classify.Change) error {
		e := audit.Event{Type: audit.TypeClassification, Classification: &audit.Classification{Op: c.Op}}
		var by classify.Person
		switch {
		case c.Origin != nil:
			e.SessionID, e.RequestID, e.QueryID, by = c.Origin.SessionID, c.Origin.RequestID, c.Origin.QueryID, c.Origin.By
		case c.Forgotten != nil:
			by, e.Classification.Reason = c.Forgotten.By, c.Forgotten.Reason
		}
		e.Identity = &audit.Identity{Subject: by.Subject, Email: by.Email, Agent: by.Agent}
		for _, r := range c.Records {
			e.Classification.Records = append(e.Classification.Records, audit.ClassificationRecord{
				ID: r.ID, Column: r.Target.Key(), Class: r.Class, Strategy: r.Strategy, From: r.From})
		}
		_, err := a.Record(context.WithoutCancel(ctx), e)
		return err
	}
}
