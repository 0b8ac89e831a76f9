package engine

import (
	"context"
	"strings"
	"testing"
)

func TestEngine_Connect(t *testing.T) {
	e := newTestEngine(t, Options{})
	nobody := Identity{Subject: "u-9", Groups: []string{"contractors"}}
	blank := analyst()
	blank.Subject = ""
	tests := []struct {
		name   string
		id     Identity
		want   ConnectDecision
		reason string
	}{
		{name: "analyst", id: analyst(), want: ConnectDecision{Action: ActionAllow, Role: "SNOWGATE_ANALYST", Warehouse: "ANALYTICS_WH", VaultRole: "snowgate-analyst"}},
		{name: "agent", id: agent(), want: ConnectDecision{Action: ActionAllow, Role: "SNOWGATE_AGENT", Warehouse: "AGENT_WH", VaultRole: "snowgate-agent"}},
		{name: "admin first profile", id: admin(), want: ConnectDecision{Action: ActionAllow, Role: "SNOWGATE_ADMIN", Warehouse: "ADMIN_WH", VaultRole: "snowgate-admin"}},
		{name: "no profile", id: nobody, want: ConnectDecision{Action: ActionDeny}, reason: "none of your groups"},
		{name: "no subject", id: blank, want: ConnectDecision{Action: ActionDeny}, reason: "no subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Connect(context.Background(), ConnectInput{Identity: tt.id, Session: Session{Database: "DEMO"}})
			if d.ID != "D1" || d.Revision != e.Revision() {
				t.Errorf("id, revision = %q, %q", d.ID, d.Revision)
			}
			if d.Action != tt.want.Action || d.Role != tt.want.Role || d.Warehouse != tt.want.Warehouse || d.VaultRole != tt.want.VaultRole {
				t.Errorf("decision = %+v, want %+v", d, tt.want)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(d.Reasons, "\n"), tt.reason) {
				t.Errorf("reasons %q do not mention %q", d.Reasons, tt.reason)
			}
		})
	}
}

func TestEngine_Connect_failClosed(t *testing.T) {
	tests := []struct{ name, module, reason string }{
		{"undefined", "package snowgate.connect\n", ReasonUndefined},
		{"allow without role", "package snowgate.connect\ndecision := {\"action\": \"allow\"}\n", "without a role"},
		{"other action", "package snowgate.connect\ndecision := {\"action\": \"mask\", \"role\": \"R\"}\n", "not allow or deny"},
		{"role not a string", "package snowgate.connect\ndecision := {\"action\": \"allow\", \"role\": 1}\n", "role is a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, Options{FS: policyFS(tt.module)})
			d := e.Connect(context.Background(), ConnectInput{Identity: analyst()})
			if d.Action != ActionDeny || d.Role != "" {
				t.Fatalf("decision = %+v, want deny without role", d)
			}
			if !strings.Contains(strings.Join(d.Reasons, "\n"), tt.reason) {
				t.Errorf("reasons %q do not mention %q", d.Reasons, tt.reason)
			}
		})
	}
}
