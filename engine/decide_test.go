package engine

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

func TestEngine_Decide(t *testing.T) {
	e := newTestEngine(t, Options{})
	grant := statement.Statement{SQL: "GRANT ROLE X TO USER Y", Count: 1, Kind: statement.KindGrant,
		Category: statement.CategoryDCL, Parse: statement.Parse{Complete: true}}
	incomplete := selectOrders()
	incomplete.Parse = statement.Parse{Complete: false, Error: "unexpected token"}
	tests := []struct {
		name     string
		in       Input
		action   Action
		reason   string
		masks    map[string]string
		approval bool
	}{
		{name: "allow", in: input(analyst(), selectOrders()), action: ActionAllow},
		{name: "mask", in: input(analyst(), selectCustomers()), action: ActionMask,
			reason: "EMAIL masked (email_domain)", masks: map[string]string{"DEMO.PUBLIC.CUSTOMERS.EMAIL": "email_domain"}},
		{name: "cleared", in: input(admin(), selectCustomers()), action: ActionAllow},
		{name: "deny grant", in: input(analyst(), grant), action: ActionDeny, reason: "GRANT is not allowed"},
		{name: "approval", in: input(analyst(), deleteAll()), action: ActionRequireApproval,
			reason: "DELETE of every row of DEMO.PUBLIC.ORDERS", approval: true},
		{name: "incomplete", in: input(analyst(), incomplete), action: ActionDeny, reason: "unexpected token"},
		{name: "empty input", in: Input{}, action: ActionDeny, reason: "could not be fully analysed"},
		{name: "bad version", in: Input{Version: "2"}, action: ActionDeny, reason: ReasonVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Decide(context.Background(), tt.in)
			if d.Action != tt.action {
				t.Fatalf("action = %s, want %s (reasons %q)", d.Action, tt.action, d.Reasons)
			}
			if d.ID != "D1" || d.Revision != e.Revision() || d.Revision == "" {
				t.Errorf("id, revision = %q, %q; want D1, %q", d.ID, d.Revision, e.Revision())
			}
			if tt.reason != "" && !strings.Contains(strings.Join(d.Reasons, "\n"), tt.reason) {
				t.Errorf("reasons %q do not mention %q", d.Reasons, tt.reason)
			}
			if !reflect.DeepEqual(d.Masks, tt.masks) {
				t.Errorf("masks = %v, want %v", d.Masks, tt.masks)
			}
			if (d.Approval != nil) != tt.approval {
				t.Errorf("approval = %+v, want present=%v", d.Approval, tt.approval)
			}
		})
	}
}

// A deny the policy gives is the policy's answer, not a failure.
func TestEngine_Decide_policyDenyIsNotAFailure(t *testing.T) {
	e := newTestEngine(t, Options{})
	grant := statement.Statement{SQL: "GRANT ROLE X TO USER Y", Count: 1, Kind: statement.KindGrant,
		Category: statement.CategoryDCL, Parse: statement.Parse{Complete: true}}
	if d := e.Decide(context.Background(), input(analyst(), grant)); d.Action != ActionDeny || d.FailedClosed {
		t.Errorf("GRANT: %s, failed closed %v; want the policy's own deny", d.Action, d.FailedClosed)
	}
}

func TestEngine_Decide_approval(t *testing.T) {
	e := newTestEngine(t, Options{})
	d := e.Decide(context.Background(), input(analyst(), deleteAll()))
	want := &Approval{Groups: []string{"approvers", "data-stewards"}, Count: 1, TTLSeconds: 900,
		Why: "DELETE of every row of DEMO.PUBLIC.ORDERS (no WHERE clause)"}
	if !reflect.DeepEqual(d.Approval, want) {
		t.Errorf("approval = %+v, want %+v", d.Approval, want)
	}
	if !reflect.DeepEqual(d.Rules, []string{"bulk_write"}) {
		t.Errorf("rules = %v, want the approval requirement that fired", d.Rules)
	}
	// An agent's statement is answered at once with the request: a tool
	// call must not hang on a person.
	d = e.Decide(context.Background(), input(agent(), deleteAll()))
	if d.Approval == nil || d.Approval.Mode != "ticket" {
		t.Errorf("agent's approval = %+v, want mode ticket", d.Approval)
	}
}

// TestEngine_Decide_failClosed runs policies that fail in every way a policy
// can: each must end in a deny with the matching reason.
func TestEngine_Decide_failClosed(t *testing.T) {
	tests := []struct {
		name   string
		module string
		reason string
	}{
		{"undefined", "package snowgate\n", ReasonUndefined},
		{"not an object", "package snowgate\ndecision := \"allow\"\n", ReasonMalformed},
		{"unknown action", "package snowgate\ndecision := {\"action\": \"permit\"}\n", "not one of allow"},
		{"reasons not strings", "package snowgate\ndecision := {\"action\": \"allow\", \"reasons\": [1]}\n", "reasons holds"},
		{"unknown mask", "package snowgate\ndecision := {\"action\": \"mask\", \"masks\": {\"A.B.C.D\": \"scramble\"}}\n", "scramble"},
		{"mask without masks", "package snowgate\ndecision := {\"action\": \"mask\"}\n", "mask without masks"},
		{"approval missing", "package snowgate\ndecision := {\"action\": \"require_approval\"}\n", "without an approval"},
		{"approval without groups", "package snowgate\ndecision := {\"action\": \"require_approval\", \"approval\": {\"groups\": []}}\n", "no approver groups"},
		{"rules not strings", "package snowgate\ndecision := {\"action\": \"allow\", \"rules\": [1]}\n", "rules holds"},
		{"approval mode", "package snowgate\ndecision := {\"action\": \"require_approval\", \"approval\": {\"groups\": [\"g\"], \"mode\": \"later\"}}\n", "approval.mode"},
		{"limit of zero", "package snowgate\ndecision := {\"action\": \"allow\", \"limits\": {\"rows\": 0}}\n", "limits.rows"},
		{"negative limit", "package snowgate\ndecision := {\"action\": \"allow\", \"limits\": {\"bytes\": -5}}\n", "limits.bytes"},
		{"approval count", "package snowgate\ndecision := {\"action\": \"require_approval\", \"approval\": {\"groups\": [\"g\"], \"count\": 0}}\n", "approval.count"},
		{"builtin error", "package snowgate\ndecision := {\"action\": \"allow\", \"n\": to_number(\"x\")}\n", ReasonEvalError},
		{"conflict", "package snowgate\ndecision := {\"action\": \"allow\"} if true\ndecision := {\"action\": \"deny\"} if true\n", ReasonEvalError},
		{"timeout", "package snowgate\ndecision := {\"action\": \"allow\", \"n\": count([x | some x in numbers.range(1, 100000000)])}\n", ReasonTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := time.Second
			if tt.reason == ReasonTimeout {
				timeout = 20 * time.Millisecond
			}
			e := newTestEngine(t, Options{FS: policyFS(tt.module), Timeout: timeout})
			d := e.Decide(context.Background(), input(analyst(), selectOrders()))
			if d.Action != ActionDeny {
				t.Fatalf("action = %s, want deny", d.Action)
			}
			if len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], tt.reason) {
				t.Errorf("reasons = %q, want one mentioning %q", d.Reasons, tt.reason)
			}
			if d.Masks != nil || d.Approval != nil {
				t.Errorf("deny carries masks %v or approval %v", d.Masks, d.Approval)
			}
			if !d.FailedClosed {
				t.Error("a deny the policy did not give is not marked failed closed")
			}
		})
	}
}

// TestEngine_Decide_allowWithMasks checks that a policy answering allow with
// masks gets the masks applied rather than dropped.
func TestEngine_Decide_allowWithMasks(t *testing.T) {
	e := newTestEngine(t, Options{FS: policyFS("package snowgate\ndecision := {\"action\": \"allow\", \"masks\": {\"A.B.C.D\": \"redact\"}}\n")})
	d := e.Decide(context.Background(), input(analyst(), selectOrders()))
	if d.Action != ActionMask || d.Masks["A.B.C.D"] != "redact" {
		t.Errorf("decision = %+v, want mask of A.B.C.D", d)
	}
}

func TestEngine_Decide_canceled(t *testing.T) {
	e := newTestEngine(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d := e.Decide(ctx, input(analyst(), selectOrders())); d.Action != ActionDeny || d.Reasons[0] != ReasonCanceled {
		t.Errorf("decision = %+v on a canceled context, want deny: %s", d, ReasonCanceled)
	}
	if d := e.Connect(ctx, ConnectInput{Identity: analyst()}); d.Action != ActionDeny {
		t.Errorf("connect = %+v on a canceled context, want deny", d)
	}
}

func TestEngine_Decide_concurrent(t *testing.T) {
	e := newTestEngine(t, Options{})
	done := make(chan Action, 8)
	for range 8 {
		go func() { done <- e.Decide(context.Background(), input(analyst(), selectCustomers())).Action }()
	}
	for range 8 {
		if a := <-done; a != ActionMask {
			t.Errorf("action = %s, want mask", a)
		}
	}
}
