package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestCLI_serveExportsTraces: with OTEL_EXPORTER_OTLP_ENDPOINT set,
// `snowgate serve` exports its spans over OTLP/HTTP; an OTLP receiver
// (protobuf ExportTraceServiceRequest on /v1/traces, in the test process)
// gets the login's, the query's, the statement's and its stages' spans,
// with the service named snowgate. Without the variable nothing is sent
// (the other serve tests run so).
func TestCLI_serveExportsTraces(t *testing.T) {
	var mu sync.Mutex
	names := map[string]int{}
	service := ""
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names[s.Name]++
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer recv.Close()

	sv := startServe(t, "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL, "OTEL_BSP_SCHEDULE_DELAY=100")
	var n int
	if err := sv.open(t, "analyst").QueryRow(`SELECT count(*) FROM orders`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	sv.cmd.Process.Signal(os.Interrupt) // the last spans are flushed on the way out
	select {
	case <-sv.exited:
	case <-time.After(40 * time.Second):
		t.Fatal("snowgate serve did not exit")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"snowgate.login", "snowgate.query", "snowgate.analysis", "snowgate.statement", "snowgate.decision", "snowgate.audit", "snowgate.upstream", "snowgate.encoding"} {
		if names[want] == 0 {
			t.Errorf("the receiver got no %s span (got %v)", want, names)
		}
	}
	if service != "snowgate" {
		t.Errorf("service.name %q", service)
	}
}
