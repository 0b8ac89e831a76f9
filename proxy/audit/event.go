package audit

import (
	"fmt"
	"time"
)

// The event types. Every event of a session carries its SessionID; a
// statement's decision, approval transitions and outcome carry the same
// RequestID and, once it is known, the upstream QueryID.
const (
	TypeSessionStart = "session_start" // a client logged in: identity, client, upstream user
	TypeSessionEnd   = "session_end"   // the session closed; Reason says why
	TypeLoginRefused = "login_refused" // a login failed; Reason says why
	TypeStatement    = "statement"     // one statement with its analysis and the decision taken on it
	TypeApproval     = "approval"      // an approval changed state (requested, approved, rejected, expired)
	TypeOutcome      = "outcome"       // what running a statement did: rows, bytes, duration, error
	// TypeClassification: columns a write filled inherited the
	// classification of their sources, or an inherited classification was
	// forgotten.
	TypeClassification = "classification"
)

// Types lists every event type in the order a session produces them.
var Types = []string{TypeSessionStart, TypeStatement, TypeApproval, TypeOutcome, TypeClassification, TypeSessionEnd, TypeLoginRefused}

func validType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Event is one entry of the audit trail, as the gateway reports it. Only
// the fields that belong to its Type need be set. It never holds a
// credential: tokens, passwords and keys have no field here.
type Event struct {
	Type      string     `json:"type"`
	Time      time.Time  `json:"time"` // when it happened; zero means "now". Stored in UTC to the microsecond.
	SessionID string     `json:"session_id,omitempty"`
	RequestID string     `json:"request_id,omitempty"`
	QueryID   string     `json:"query_id,omitempty"`
	Identity  *Identity  `json:"identity,omitempty"`
	Client    *Client    `json:"client,omitempty"`
	Upstream  string     `json:"upstream,omitempty"` // the upstream (Snowflake) user of the session
	Statement *Statement `json:"statement,omitempty"`
	Decision  *Decision  `json:"decision,omitempty"`
	Outcome   *Outcome   `json:"outcome,omitempty"`
	Approval  *Approval  `json:"approval,omitempty"`
	// Classification: what a write's targets inherited, or what was forgotten.
	Classification *Classification `json:"classification,omitempty"`
	Reason         string          `json:"reason,omitempty"` // session_end, login_refused: why
}

// Identity is who acted: the verified human, and the agent typing for them.
type Identity struct {
	Subject string   `json:"subject,omitempty"`
	Email   string   `json:"email,omitempty"`
	Issuer  string   `json:"issuer,omitempty"`
	Agent   string   `json:"agent,omitempty"` // empty when the human acted directly
	Groups  []string `json:"groups,omitempty"`
}

// Client is the software and address the session came from.
type Client struct {
	App     string `json:"app,omitempty"`
	Version string `json:"version,omitempty"`
	Address string `json:"address,omitempty"`
	// QueryTag is the QUERY_TAG the client set at login, which tools use
	// to say what they are (Snowflake's MCP server: {"name": "mcp_server", ...}).
	QueryTag string `json:"query_tag,omitempty"`
}

// Statement is one statement and the summary of its analysis.
type Statement struct {
	SQL         string   `json:"sql"` // literals replaced by ? when Config.RedactLiterals is set
	Fingerprint string   `json:"fingerprint,omitempty"`
	Kind        string   `json:"kind,omitempty"`
	Category    string   `json:"category,omitempty"`
	Objects     []string `json:"objects,omitempty"`  // "TYPE DB.SCHEMA.NAME access"
	Database    string   `json:"database,omitempty"` // the session's current database and schema, as the analyser resolved names
	Schema      string   `json:"schema,omitempty"`
	Index       int      `json:"index,omitempty"`     // position in a multi-statement request, from 0
	Count       int      `json:"count,omitempty"`     // statements in the request
	QueryTag    string   `json:"query_tag,omitempty"` // the statement's QUERY_TAG: the request's, else the session's
	// Rewritten is the text that ran in the statement's place, when it was
	// not SQL (the decision's row filters placed), redacted as SQL is.
	Rewritten string `json:"rewritten,omitempty"`
}

// Decision is the policy's decision on a statement.
type Decision struct {
	ID       string            `json:"id"`
	Action   string            `json:"action"`
	Reasons  []string          `json:"reasons,omitempty"`
	Masks    map[string]string `json:"masks,omitempty"` // source column → strategy
	Revision string            `json:"revision,omitempty"`
	Rules    []string          `json:"rules,omitempty"` // what fired (engine.Decision.Rules)
	// RowFilters are the decision's row filters: table to predicate.
	RowFilters map[string]string `json:"row_filters,omitempty"`
	// Estimate is the upstream's estimate the decision was made with
	// (engine.Input.Estimate), when there was one.
	Estimate *Estimate `json:"estimate,omitempty"`
}

// Estimate is what the upstream estimated a statement touches or scans,
// in engine.Estimate's units and JSON names.
type Estimate struct {
	Object string  `json:"object"`
	Rows   int64   `json:"rows"`
	Total  int64   `json:"total"`
	Share  float64 `json:"share"`
	Method string  `json:"method"`
	Bytes  int64   `json:"bytes,omitempty"`
	Scans  []Scan  `json:"scans,omitempty"`
}

// Scan is one table scan of a read's plan.
type Scan struct {
	Object string  `json:"object"`
	Rows   int64   `json:"rows"`
	Total  int64   `json:"total"`
	Share  float64 `json:"share"`
	Full   bool    `json:"full"`
}

// Outcome is what running a statement upstream did.
type Outcome struct {
	Rows         int64  `json:"rows"`
	Bytes        int64  `json:"bytes,omitempty"`
	DurationMS   int64  `json:"duration_ms"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// Abandoned is set when the statement's client left while it was held
	// or running: a held statement was not run, a running one cancelled.
	Abandoned bool `json:"abandoned,omitempty"`
	// NotRun is set on the outcome the trail adds for a statement whose
	// record was written although the gateway was not told so (a commit
	// whose answer was lost, a caller that stopped waiting): the gateway
	// refused the statement, and it did not run.
	NotRun bool `json:"not_run,omitempty"`
}

// Approval is one transition of an approval request.
type Approval struct {
	ID    string `json:"id"`
	State string `json:"state"`        // requested, approved, rejected, expired
	By    string `json:"by,omitempty"` // the approver's subject
}

// Classification is a change to inherited classifications.
type Classification struct {
	Op      string                 `json:"op"` // inherited or forgotten
	Records []ClassificationRecord `json:"records"`
	Reason  string                 `json:"reason,omitempty"` // forgotten: why
}

// ClassificationRecord is one column's inherited classification.
type ClassificationRecord struct {
	ID       string   `json:"id"`
	Column   string   `json:"column"` // DB.SCHEMA.TABLE.COLUMN
	Class    string   `json:"class"`
	Strategy string   `json:"strategy"`
	From     []string `json:"from,omitempty"` // the source columns
}

// validate rejects an event the trail could not make sense of. The gateway
// treats the error like any other failure to record: it refuses the
// statement.
func (e *Event) validate() error {
	if !validType(e.Type) {
		return fmt.Errorf("%w: unknown type %q", ErrInvalidEvent, e.Type)
	}
	if e.Type == TypeStatement && e.Statement == nil {
		return fmt.Errorf("%w: a statement event needs a Statement", ErrInvalidEvent)
	}
	if e.Type == TypeOutcome && e.Outcome == nil {
		return fmt.Errorf("%w: an outcome event needs an Outcome", ErrInvalidEvent)
	}
	if e.Type == TypeClassification && e.Classification == nil {
		return fmt.Errorf("%w: a classification event needs a Classification", ErrInvalidEvent)
	}
	if e.Type == TypeApproval && e.Approval == nil {
		return fmt.Errorf("%w: an approval event needs an Approval", ErrInvalidEvent)
	}
	return nil
}

// subject is the human the event is about, for filtering.
func (e *Event) subject() string {
	if e.Identity == nil {
		return ""
	}
	return e.Identity.Subject
}
