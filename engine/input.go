package engine

import (
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// InputVersion is the version of the input document. It changes only when the
// meaning of a field shrinks or changes; added fields keep the version.
const InputVersion = "1"

// Input is the document a statement's policy decision is made on
// (input in Rego).
type Input struct {
	Version   string              `json:"version"`
	Identity  Identity            `json:"identity"`
	Session   Session             `json:"session"`
	Statement statement.Statement `json:"statement"`
	Request   Request             `json:"request"`
	// Estimate is the upstream's estimate, made before the decision, of
	// the rows an UPDATE or DELETE touches, or of what a read scans when
	// the policy asked for it (Decision.Estimate); absent otherwise.
	Estimate *Estimate `json:"estimate,omitempty"`
	// Usage is what the caller did in the current windows, from the
	// gateway's quota counters; absent when it keeps none.
	Usage *Usage `json:"usage,omitempty"`
}

// Usage is a caller's counts in the current windows (a minute for
// statements, an hour for rows, a day for bytes; sessions now open), across
// the gateway's replicas: the human's own (Subject), the agent's across
// the humans it acts for, and each of the human's groups'.
type Usage struct {
	Subject Counts            `json:"subject"`
	Agent   *Counts           `json:"agent,omitempty"` // when an agent acts
	Groups  map[string]Counts `json:"groups"`
	// Unavailable is set when the counters could not be read (their store
	// has not synced lately); the counts are zero then.
	Unavailable bool `json:"unavailable,omitempty"`
}

// Counts are one caller's, agent's or group's counts.
type Counts struct {
	StatementsMinute int64 `json:"statements_minute"`
	RowsHour         int64 `json:"rows_hour"`
	BytesDay         int64 `json:"bytes_day"`
	Sessions         int64 `json:"sessions"`
}

// Estimate is how much of its target table a bounded UPDATE or DELETE
// touches, as the upstream estimated it before the decision by running the
// statement's own WHERE clause (which the analysis found free of effects);
// or, for a read, how much of each table it scans, from the upstream's
// plan of the statement (which plans it without running it).
type Estimate struct {
	Object string `json:"object"` // a write's target table, DB.SCHEMA.TABLE; empty for a read
	// Rows of Total are selected: rows with Method "count" and "plan_rows",
	// micro-partitions the predicate cannot prune with "explain_partitions"
	// (an upper bound). For a read, the sums over its scans.
	Rows  int64   `json:"rows"`
	Total int64   `json:"total"`
	Share float64 `json:"share"` // Rows / Total, 0 when Total is 0
	// Method is how the upstream estimated: "count" (exact counts),
	// "explain_partitions" (Snowflake's EXPLAIN, partitions after pruning),
	// "plan_rows" (the stand-in's planner, estimated rows), or "failed" (no
	// estimate could be had).
	Method string `json:"method"`
	// Bytes is what a read scans, when the upstream says (Snowflake's
	// bytesAssigned); 0 otherwise.
	Bytes int64 `json:"bytes,omitempty"`
	// Scans are a read's table scans, in plan order.
	Scans []Scan `json:"scans,omitempty"`
}

// Scan is one table scan of a read's plan, in Estimate's units.
type Scan struct {
	Object string  `json:"object"` // DB.SCHEMA.TABLE
	Rows   int64   `json:"rows"`
	Total  int64   `json:"total"`
	Share  float64 `json:"share"`
	// Full is set when nothing narrows the scan: no filter reaches it, or
	// the plan keeps every row (or micro-partition) of the table.
	Full bool `json:"full"`
}

// The estimate methods.
const (
	EstimateCount             = "count"
	EstimateExplainPartitions = "explain_partitions"
	EstimatePlanRows          = "plan_rows"
	// EstimateFailed: the statement called for an estimate and the
	// upstream could not give one (an error, the time bound); Rows, Total
	// and Share are 0 and the policy should treat the write as unbounded.
	EstimateFailed = "failed"
)

// Identity is the verified caller: the human, and the agent acting for them.
type Identity struct {
	Subject string         `json:"subject"`
	Email   string         `json:"email"`
	Name    string         `json:"name"`
	Issuer  string         `json:"issuer"`
	Groups  []string       `json:"groups"`
	Claims  map[string]any `json:"claims"` // every verified claim of the token
	Agent   *Agent         `json:"agent,omitempty"`
}

// Agent is the software acting for the human named by the identity.
type Agent struct {
	ID string `json:"id"`
	// Source says where the agent was found: "act" (RFC 8693 act claim),
	// "azp" (the OAuth client) or "claim" (a configured claim).
	Source string `json:"source"`
}

// The agent sources.
const (
	AgentSourceAct   = "act"
	AgentSourceAzp   = "azp"
	AgentSourceClaim = "claim"
)

// Session is the client's session with the gateway.
type Session struct {
	ID            string    `json:"id"`
	Client        string    `json:"client"`
	ClientVersion string    `json:"client_version"`
	ClientAddress string    `json:"client_address"`
	Database      string    `json:"database"`
	Schema        string    `json:"schema"`
	Warehouse     string    `json:"warehouse"`
	Role          string    `json:"role"`
	QueryTag      string    `json:"query_tag"`
	StartedAt     time.Time `json:"started_at"`
}

// Request is the client request that carried the statement.
type Request struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
}
