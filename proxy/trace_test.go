package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestTraces: the OpenTelemetry SDK with an in-memory exporter at the
// exporter seam records a span per login and query request, a child per
// statement with its kind, fingerprint, decision and policy revision, and a
// grandchild per stage; no attribute carries the statement's text, its
// literals or the token; a client's W3C trace context is continued.
func TestTraces(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: "ticket", Gateway: proxy.Config{Tracer: tp}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	tok, _ := st.Issuer.Token("analyst")
	db := openDB(t, st, "analyst")
	var email string
	if err := db.QueryRow(`SELECT email FROM customers WHERE country = 'DE' LIMIT 1`).Scan(&email); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`GRANT ROLE SYSADMIN TO USER mallory`); err == nil {
		t.Fatal("GRANT ran")
	}
	if _, err := db.Exec(`DELETE FROM orders WHERE 12345 > 1`); err == nil {
		t.Fatal("DELETE ran without approval")
	}

	// A client that sends W3C trace context has its trace continued.
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	c := &rawClient{t: t, base: "http://" + st.GatewayAddr}
	c.login(tok)
	body, _ := json.Marshal(map[string]any{"sqlText": "SELECT count(*) FROM orders"})
	if r := c.do("POST", "/queries/v1/query-request?requestId=traced", "application/json", bytes.NewReader(body),
		map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"}); !r.Success {
		t.Fatalf("traced query: %s", *r.Message)
	}

	spans := rec.Ended()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s
	}
	parent := func(s sdktrace.ReadOnlySpan) string {
		if p, ok := byID[s.Parent().SpanID()]; ok {
			return p.Name()
		}
		return ""
	}
	count := map[string]int{}
	actions := map[string]bool{}
	for _, s := range spans {
		count[s.Name()]++
		attrs := map[string]string{}
		for _, kv := range s.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
			for _, secret := range []string{"mallory", "12345", "'DE'", tok, "email"} {
				if strings.Contains(strings.ToLower(kv.Value.Emit()), strings.ToLower(secret)) {
					t.Errorf("span %s attribute %s = %q carries %q", s.Name(), kv.Key, kv.Value.Emit(), secret)
				}
			}
		}
		switch s.Name() {
		case "snowgate.statement":
			if parent(s) != "snowgate.query" {
				t.Errorf("statement span's parent: %q", parent(s))
			}
			if attrs["snowgate.decision.action"] == "" || attrs["snowgate.policy.revision"] == "" || attrs["snowgate.statement.kind"] == "" || attrs["snowgate.statement.fingerprint"] == "" {
				t.Errorf("statement span attributes: %v", attrs)
			}
			actions[attrs["snowgate.decision.action"]] = true
		case "snowgate.decision", "snowgate.audit", "snowgate.approval", "snowgate.upstream", "snowgate.encoding":
			if parent(s) != "snowgate.statement" {
				t.Errorf("%s span's parent: %q", s.Name(), parent(s))
			}
		case "snowgate.analysis":
			if parent(s) != "snowgate.query" {
				t.Errorf("analysis span's parent: %q", parent(s))
			}
		}
		if s.SpanContext().TraceID().String() == traceID && s.Name() == "snowgate.query" && s.Parent().SpanID().String() != parentID {
			t.Errorf("the traced query's parent is %s, want the client's %s", s.Parent().SpanID(), parentID)
		}
	}
	for _, name := range []string{"snowgate.login", "snowgate.query", "snowgate.analysis", "snowgate.statement", "snowgate.decision",
		"snowgate.audit", "snowgate.approval", "snowgate.upstream", "snowgate.encoding"} {
		if count[name] == 0 {
			t.Errorf("no %s span (spans: %v)", name, count)
		}
	}
	for _, a := range []string{"mask", "deny", "require_approval", "allow"} {
		if !actions[a] {
			t.Errorf("no statement span decided %s (%v)", a, actions)
		}
	}
	continued := false
	for _, s := range spans {
		if s.Name() == "snowgate.query" && s.SpanContext().TraceID().String() == traceID {
			continued = true
		}
	}
	if !continued {
		t.Error("the client's trace context was not continued")
	}
}
