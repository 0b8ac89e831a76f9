// Package inputs builds policy inputs the way the gateway does: SQL through
// the statement analyser, with an identity and a session. `snowgate policy
// input`, the Rego test fixtures and the conformance runner all use it, so
// what the policy is tested on is what the gateway sends.
package inputs

import (
	"context"
	"fmt"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Options describe the session a statement runs in. Zero values get the
// demo defaults: database DEMO, schema PUBLIC, the demo catalog, and a fixed
// session, request id and time (so that fixtures are reproducible).
type Options struct {
	Database string
	Schema   string
	// Catalog expands '*'. Defaults to DemoCatalog; set NoCatalog to
	// analyse without one, as a gateway without catalog access would.
	Catalog   statement.Catalog
	NoCatalog bool
	// Role is the session's role; default SNOWGATE_ANALYST.
	Role string
	// Session overrides the session; Database and Schema win over its fields.
	Session *engine.Session
	// Time is the request and session start time. Defaults to FixedTime.
	Time      time.Time
	RequestID string
}

// FixedTime is the default request time of generated inputs.
var FixedTime = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

// Build analyses sql and returns one input per statement.
func Build(ctx context.Context, sql string, id engine.Identity, o Options) ([]engine.Input, error) {
	if o.Database == "" {
		o.Database = "DEMO"
	}
	if o.Schema == "" {
		o.Schema = "PUBLIC"
	}
	if o.Catalog == nil && !o.NoCatalog {
		o.Catalog = DemoCatalog
	}
	if o.Time.IsZero() {
		o.Time = FixedTime
	}
	if o.RequestID == "" {
		o.RequestID = "req-0001"
	}
	sess := engine.Session{
		ID: "sess-0001", Client: "Go", ClientVersion: "1.19.1", ClientAddress: "127.0.0.1",
		Warehouse: "ANALYTICS_WH", Role: "SNOWGATE_ANALYST", StartedAt: o.Time,
	}
	if o.Role != "" {
		sess.Role = o.Role
	}
	if o.Session != nil {
		sess = *o.Session
	}
	sess.Database, sess.Schema = o.Database, o.Schema
	stmts, err := statement.Analyze(ctx, sql, statement.Env{Database: o.Database, Schema: o.Schema, Catalog: o.Catalog})
	if err != nil {
		return nil, fmt.Errorf("analyse: %w", err)
	}
	if len(stmts) == 0 {
		return nil, fmt.Errorf("analyse: no statement in %q", sql)
	}
	out := make([]engine.Input, len(stmts))
	for i, st := range stmts {
		out[i] = engine.Input{
			Version:   engine.InputVersion,
			Identity:  id,
			Session:   sess,
			Statement: st,
			Request:   engine.Request{ID: o.RequestID, Time: o.Time},
		}
	}
	return out, nil
}
