package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/snowgate/snowgate/proxy/audit"
)

// The gateway records a statement with its decision before running it,
// refuses it when the record fails, passes the record id upstream as the
// QUERY_TAG, and records the outcome.
func ExampleLog_Record() {
	dir, _ := os.MkdirTemp("", "audit-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, err := audit.Open(ctx, audit.Config{DSN: "sqlite://" + filepath.Join(dir, "audit.db"), Replica: "gw-1", RedactLiterals: true})
	if err != nil {
		fmt.Println("no audit trail, no statements:", err)
		return
	}
	defer l.Close()

	id, err := l.Record(ctx, audit.Event{
		Type: audit.TypeStatement, SessionID: "17", RequestID: "r-1",
		Identity:  &audit.Identity{Subject: "alice", Agent: "claude-code"},
		Statement: &audit.Statement{SQL: "SELECT * FROM orders WHERE id = 42", Kind: "select", Category: "read"},
		Decision:  &audit.Decision{ID: "d-1", Action: "allow", Revision: "r1"},
	})
	if err != nil {
		fmt.Println("refuse the statement:", err)
		return
	}
	fmt.Println("QUERY_TAG", id)
	id, _ = l.Record(ctx, audit.Event{Type: audit.TypeOutcome, SessionID: "17", RequestID: "r-1", QueryID: "01b2", Outcome: &audit.Outcome{Rows: 1, DurationMS: 3}})
	fmt.Println("outcome", id)
	// Output:
	// QUERY_TAG gw-1:1
	// outcome gw-1:2
}
