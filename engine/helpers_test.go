package engine

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

var testTime = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// newTestEngine starts an engine on the embedded library with a fixed clock
// and decision IDs.
func newTestEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	opts.Now = func() time.Time { return testTime }
	opts.NewID = func() string { return "D1" }
	e, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// policyFS is a policy of one module plus optional data.json.
func policyFS(module string) fstest.MapFS {
	return fstest.MapFS{"p.rego": {Data: []byte(module)}}
}

func analyst() Identity {
	return Identity{Subject: "u-1001", Email: "ana.lyst@example.com", Name: "Ana Lyst",
		Issuer: "https://idp.example.com", Groups: []string{"analysts"}, Claims: map[string]any{"sub": "u-1001"}}
}

func agent() Identity {
	id := analyst()
	id.Agent = &Agent{ID: "sql-agent", Source: AgentSourceAct}
	return id
}

func admin() Identity {
	return Identity{Subject: "u-3001", Email: "ada.admin@example.com", Name: "Ada Admin",
		Groups: []string{"platform-admins", "pii-readers"}, Claims: map[string]any{}}
}

func input(id Identity, s statement.Statement) Input {
	return Input{
		Version:  InputVersion,
		Identity: id,
		Session: Session{ID: "s-1", Client: "Go", ClientVersion: "1.19.1", ClientAddress: "127.0.0.1",
			Database: "DEMO", Schema: "PUBLIC", Warehouse: "ANALYTICS_WH", Role: "SNOWGATE_ANALYST", StartedAt: testTime},
		Statement: s,
		Request:   Request{ID: "r-1", Time: testTime},
	}
}

func col(table, name string) statement.Column {
	return statement.Column{Database: "DEMO", Schema: "PUBLIC", Table: table, Name: name}
}

func table(name string, access statement.Access) statement.Object {
	return statement.Object{Type: "table", Database: "DEMO", Schema: "PUBLIC", Name: name, Access: access}
}

// selectCustomers is SELECT ID, EMAIL FROM CUSTOMERS, analysed by hand.
func selectCustomers() statement.Statement {
	return statement.Statement{
		SQL: "SELECT id, email FROM customers", Fingerprint: "f1", Count: 1,
		Kind: statement.KindSelect, Category: statement.CategoryRead, Parse: statement.Parse{Complete: true},
		Objects: []statement.Object{table("CUSTOMERS", statement.AccessRead)},
		Columns: statement.Columns{Read: []statement.Column{col("CUSTOMERS", "ID"), col("CUSTOMERS", "EMAIL")}},
		Outputs: []statement.Output{
			{Name: "ID", Sources: []statement.Column{col("CUSTOMERS", "ID")}, Transform: statement.TransformCopy, Traced: true},
			{Name: "EMAIL", Sources: []statement.Column{col("CUSTOMERS", "EMAIL")}, Transform: statement.TransformCopy, Traced: true},
		},
		Functions: []string{},
	}
}

func selectOrders() statement.Statement {
	return statement.Statement{
		SQL: "SELECT id, amount FROM orders", Fingerprint: "f2", Count: 1,
		Kind: statement.KindSelect, Category: statement.CategoryRead, Parse: statement.Parse{Complete: true},
		Objects: []statement.Object{table("ORDERS", statement.AccessRead)},
		Columns: statement.Columns{Read: []statement.Column{col("ORDERS", "ID"), col("ORDERS", "AMOUNT")}},
		Outputs: []statement.Output{
			{Name: "ID", Sources: []statement.Column{col("ORDERS", "ID")}, Transform: statement.TransformCopy, Traced: true},
			{Name: "AMOUNT", Sources: []statement.Column{col("ORDERS", "AMOUNT")}, Transform: statement.TransformCopy, Traced: true},
		},
	}
}

func deleteAll() statement.Statement {
	return statement.Statement{
		SQL: "DELETE FROM orders", Count: 1, Kind: statement.KindDelete, Category: statement.CategoryWrite,
		Parse: statement.Parse{Complete: true}, Objects: []statement.Object{table("ORDERS", statement.AccessDelete)},
		Flags: statement.Flags{NoWhere: true},
	}
}
