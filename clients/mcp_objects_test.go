package clients_test

import (
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy/audit"
)

// TestMCPServer_objectTools lists and describes objects with the MCP
// server's object manager tools, as an agent exploring the account does.
func TestMCPServer_objectTools(t *testing.T) {
	s := startStack(t)
	agent := startMCP(t, s, "agent")
	for _, c := range []struct {
		name string
		args map[string]any
		want []string
	}{
		{"databases", map[string]any{"object_type": "database"}, []string{"DEMO"}},
		{"schemas of DEMO", map[string]any{"object_type": "schema", "database_name": "DEMO"}, []string{"PUBLIC"}},
		{"tables of DEMO.PUBLIC", map[string]any{"object_type": "table", "database_name": "DEMO", "schema_name": "PUBLIC"}, []string{"CUSTOMERS", "ORDERS", "EVENTS"}},
		{"tables like ORD", map[string]any{"object_type": "table", "database_name": "DEMO", "schema_name": "PUBLIC", "like": "ORD"}, []string{"ORDERS"}},
		{"tables in the account", map[string]any{"object_type": "table"}, []string{"CUSTOMERS", "ORDERS", "EVENTS"}},
		{"views of DEMO.PUBLIC", map[string]any{"object_type": "view", "database_name": "DEMO", "schema_name": "PUBLIC"}, nil},
	} {
		t.Run("list "+c.name, func(t *testing.T) {
			r := agent.call("list_objects", c.args)
			if r.IsError {
				t.Fatalf("list_objects %v: %s", c.args, r.Text)
			}
			for _, w := range c.want {
				if !strings.Contains(r.Text, w) {
					t.Errorf("list_objects %v = %s; lacks %s", c.args, r.Text, w)
				}
			}
		})
	}
	t.Run("describe table", func(t *testing.T) {
		r := agent.call("describe_object", map[string]any{"object_type": "table",
			"target_object": map[string]any{"name": "CUSTOMERS", "database_name": "DEMO", "schema_name": "PUBLIC"}})
		if r.IsError {
			t.Fatalf("describe_object CUSTOMERS: %s", r.Text)
		}
		for _, w := range []string{"EMAIL", "SSN"} {
			if !strings.Contains(r.Text, w) {
				t.Errorf("describe_object CUSTOMERS = %s; lacks column %s", r.Text, w)
			}
		}
		// The tool reads the table through the REST API, which the gateway
		// answers with statements decided as the agent's.
		const describe = `DESCRIBE TABLE "DEMO"."PUBLIC"."CUSTOMERS"`
		decided := false
		for _, e := range s.events(audit.TypeStatement) {
			if e.Statement != nil && e.Statement.SQL == describe && e.Identity != nil && e.Identity.Agent != "" && e.Decision != nil {
				decided = e.Decision.Action == "allow"
			}
		}
		if !decided {
			t.Errorf("no %s allowed for the agent in the audit trail", describe)
		}
	})
}
