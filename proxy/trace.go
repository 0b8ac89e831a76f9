package proxy

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// Traces: a span per login and per query request, a child per statement,
// and a grandchild per stage of the statement (Stage: analysis, decision,
// audit, approval, upstream, encoding) — the same stages the latency
// histograms time. Attributes name the statement's kind, fingerprint and
// decision, never its text, literals or any credential. A client that sends
// W3C trace context (traceparent) has its trace continued.

const tracerName = "github.com/snowgate/snowgate/proxy"

var traceContext = propagation.TraceContext{}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// remoteParent is ctx with the trace context the client's request carries,
// if any, as the parent of what the gateway does for it.
func remoteParent(ctx context.Context, r *http.Request) context.Context {
	return traceContext.Extract(ctx, propagation.HeaderCarrier(r.Header))
}

// stage starts one stage of a statement: its span, a child of ctx's, and
// its latency timer. end records both; an error marks the span failed.
func (s *Server) stage(ctx context.Context, st Stage) (context.Context, func(err error)) {
	start := time.Now()
	ctx, span := s.tracer.Start(ctx, "snowgate."+string(st))
	return ctx, func(err error) {
		s.counters.since(st, start)
		endSpan(span, err)
	}
}

func endSpan(span trace.Span, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
		span.SetAttributes(attribute.String("snowflake.error_code", e.Code))
		span.SetStatus(codes.Error, e.Code)
	case err != nil:
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}

// statementAttrs describe a statement and its decision on its span.
func statementAttrs(stmt statement.Statement, d engine.Decision) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("snowgate.statement.kind", string(stmt.Kind)),
		attribute.String("snowgate.statement.fingerprint", stmt.Fingerprint),
		attribute.String("snowgate.decision.action", string(d.Action)),
		attribute.String("snowgate.decision.id", d.ID),
		attribute.String("snowgate.policy.revision", d.Revision),
	}
}
