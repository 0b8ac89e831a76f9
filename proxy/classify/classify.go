// Package classify makes classifications follow derived data. When a write
// copies classified columns into a table or view (CREATE TABLE AS, CREATE
// VIEW, INSERT ... SELECT, MERGE, UPDATE, COPY from a query, CLONE, RENAME,
// SWAP), the target's columns inherit the classification of their sources:
// the configured one (data.snowgate.config.classifications) or one they
// inherited themselves, so a copy of a copy is classified too. Records say
// where each came from (the statement, session, identity and source
// columns), live in a Store (SQLite for one replica, PostgreSQL shared by
// several, memory for tests), and are handed to the policy as
// data.snowgate.inherited.classifications, in the shape of the configured
// ones, so that reading a copy is masked exactly like the original.
package classify

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"
)

// Column names a column: the target of a record.
type Column struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	Table    string `json:"table"`
	Name     string `json:"name"` // AnyColumn when the column could not be told
}

// AnyColumn stands for "any column of the table": the write's values
// could not be matched to the table's columns.
const AnyColumn = "*"

// Key is the column's full name, DB.SCHEMA.TABLE.COLUMN.
func (c Column) Key() string {
	return c.Database + "." + c.Schema + "." + c.Table + "." + c.Name
}

// Person is who acted: the human, and the agent typing for them.
type Person struct {
	Subject string `json:"subject"`
	Email   string `json:"email,omitempty"`
	Agent   string `json:"agent,omitempty"`
}

// Origin is the statement a record came from.
type Origin struct {
	AuditID     string    `json:"audit_id,omitempty"` // the statement's record in the audit trail
	RequestID   string    `json:"request_id,omitempty"`
	QueryID     string    `json:"query_id,omitempty"`
	SessionID   string    `json:"session_id,omitempty"`
	By          Person    `json:"by"`
	Kind        string    `json:"kind,omitempty"` // the statement's kind: create, insert, merge, ...
	Fingerprint string    `json:"fingerprint,omitempty"`
	At          time.Time `json:"at"`
}

// Forgotten says who forgot a record, when and why.
type Forgotten struct {
	By     Person    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// Record is one inherited classification: the target column carries the
// classification of the source columns in From.
type Record struct {
	ID       string   `json:"id"`
	Target   Column   `json:"target"`
	Class    string   `json:"class"`
	Classes  []string `json:"classes,omitempty"` // every class of the sources, when there are several
	Strategy string   `json:"strategy"`
	DenyIn   []string `json:"deny_in,omitempty"`
	// From are the source columns (DB.SCHEMA.TABLE.COLUMN).
	From []string `json:"from"`
	// Transform is copy when the values are the sources' unchanged;
	// expression or aggregate otherwise (partial, email_domain and hash
	// then become redact).
	Transform string     `json:"transform"`
	Origin    Origin     `json:"origin"`
	CreatedAt time.Time  `json:"created_at"`
	Forgotten *Forgotten `json:"forgotten,omitempty"`
}

// Active reports whether the record still applies.
func (r *Record) Active() bool { return r.Forgotten == nil }

// Errors.
var ErrNotFound = errors.New("no inherited classification for that object")

// Store keeps records. Records are never deleted: forgetting one marks it
// so that its provenance stays readable.
type Store interface {
	// Add stores new records, all or none.
	Add(ctx context.Context, recs []*Record) error
	// List returns every record, forgotten ones too, oldest first.
	List(ctx context.Context) ([]*Record, error)
	// Forget marks the active records among ids forgotten and returns how
	// many it marked.
	Forget(ctx context.Context, ids []string, f Forgotten) (int, error)
	// Version changes whenever List's answer does (a replica polls it).
	Version(ctx context.Context) (string, error)
	Close() error
}

// Entry is one column's effective classification, in the shape of
// data.snowgate.config.classifications entries; inherited ones also say
// where they came from.
type Entry struct {
	Class    string   `json:"class"`
	Strategy string   `json:"strategy"`
	DenyIn   []string `json:"deny_in,omitempty"`
	Classes  []string `json:"classes,omitempty"`
	From     []string `json:"from,omitempty"`
	Record   string   `json:"record,omitempty"`  // the newest record
	Records  []string `json:"records,omitempty"` // every record, oldest first
}

// Strategies by strength, as in rego/decision.rego: an unknown strategy
// outranks all, so that the engine, which rejects it, fails closed.
var strength = map[string]int{"email_domain": 1, "partial": 2, "hash": 3, "redact": 4, "null": 5}

func strategyRank(s string) int {
	if n, ok := strength[s]; ok {
		return n
	}
	return 100
}

// stronger returns the stronger of two strategies.
func stronger(a, b string) string {
	if a == "" {
		return b
	}
	if strategyRank(b) > strategyRank(a) {
		return b
	}
	return a
}

// derivedStrategy is what a strategy becomes for a value computed from the
// source (not a plain copy): partial, email_domain and hash keep part of a
// value, or let it be matched, only for the original value.
func derivedStrategy(s string) string {
	switch s {
	case "partial", "email_domain", "hash":
		return "redact"
	}
	return s
}

// classOf names the class of a column that carries several: one class
// alone, or the sorted classes joined by "+" (a class no one is cleared
// for unless the clearances name it).
func classOf(classes []string) string {
	if len(classes) == 1 {
		return classes[0]
	}
	return strings.Join(classes, "+")
}

// combiner folds classifications into one: the strongest strategy, every
// class, the union of the places they may not be used (defaultDenyIn for
// those that name none).
type combiner struct {
	strategy      string
	classes       []string
	denyIn        []string
	from          []string
	records       []string
	n             int
	defaultDenyIn []string
}

func (c *combiner) add(e Entry, derived bool) {
	c.n++
	s := e.Strategy
	if derived {
		s = derivedStrategy(s)
	}
	c.strategy = stronger(c.strategy, s)
	classes := e.Classes
	if len(classes) == 0 {
		classes = []string{e.Class}
	}
	for _, cl := range classes {
		if cl != "" && !slices.Contains(c.classes, cl) {
			c.classes = append(c.classes, cl)
		}
	}
	deny := e.DenyIn
	if deny == nil {
		deny = c.defaultDenyIn
	}
	for _, d := range deny {
		if !slices.Contains(c.denyIn, d) {
			c.denyIn = append(c.denyIn, d)
		}
	}
	for _, f := range e.From {
		if !slices.Contains(c.from, f) {
			c.from = append(c.from, f)
		}
	}
	c.records = append(c.records, e.Records...)
}

func (c *combiner) entry() Entry {
	sort.Strings(c.classes)
	e := Entry{Class: classOf(c.classes), Strategy: c.strategy, From: c.from, Records: c.records}
	if len(c.classes) > 1 {
		e.Classes = c.classes
	}
	if !sameSet(c.denyIn, c.defaultDenyIn) {
		e.DenyIn = sorted(c.denyIn)
		if e.DenyIn == nil {
			e.DenyIn = []string{}
		}
	}
	if n := len(c.records); n > 0 {
		e.Record = c.records[n-1]
	}
	return e
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	if s == nil {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
