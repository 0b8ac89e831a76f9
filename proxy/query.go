package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/snowgate/snowgate/engine"
)

// Decider takes the policy decision for a statement. It never fails: an
// error is a deny.
type Decider interface {
	Decide(ctx context.Context, in engine.Input) engine.Decision
}

type queryRequest struct {
	SQLText      string                 `json:"sqlText"`
	AsyncExec    bool                   `json:"asyncExec"`
	DescribeOnly bool                   `json:"describeOnly"`
	SequenceID   int64                  `json:"sequenceId"`
	Parameters   map[string]any         `json:"parameters"`
	Bindings     map[string]bindingJSON `json:"bindings"`
	BindStage    string                 `json:"bindStage"`
}

type bindingJSON struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) (any, error) {
	sess, err := s.authSession(r)
	if err != nil {
		return nil, err
	}
	var req queryRequest
	if err := decodeBody(r, s.cfg.MaxBody, &req); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.SQLText) == "" {
		return nil, newError(CodeCompilation, "42000", "SQL compilation error: empty SQL statement", nil)
	}
	if req.BindStage != "" {
		return nil, newError(CodeUnsupported, "0A000", "snowgate does not accept staged binds; send binds inline", nil)
	}
	binds, err := decodeBinds(req.Bindings)
	if err != nil {
		return nil, err
	}
	req.SQLText, binds = bindIdentifiers(req.SQLText, binds)
	requestID := r.URL.Query().Get("requestId")
	s.log.Debug("query request", "session", sess.id, "request", requestID, "parameters", req.Parameters, "async", req.AsyncExec)

	// A driver resends the same requestId when it retries: answer with the
	// statement already running or run, never run it twice.
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return nil, newError(CodeSessionGone, "08003", "session no longer exists", nil)
	}
	q := sess.requests[requestID]
	fresh := q == nil || requestID == ""
	var ctx context.Context
	var dropped []*query
	if fresh {
		// Counted and listed under the session's lock, so that requests
		// at once cannot all pass the bound.
		if req.AsyncExec {
			if n := s.queries.pendingAsync(sess.id); n >= maxPendingAsync {
				sess.mu.Unlock()
				s.log.Warn("asynchronous statement refused: too many pending", "session", sess.id, "pending", n)
				return nil, newError(CodeTooManyPending, "53400", fmt.Sprintf("this session has %d asynchronous statements running or with results not fetched, the most it may have; fetch their results (or cancel them) before starting more", n), nil)
			}
		}
		q, ctx = newQuery(remoteParent(s.ctx, r), sess, requestID, req.SQLText)
		q.async = req.AsyncExec
		q.queryTag, _ = req.Parameters["QUERY_TAG"].(string) // a tool names itself per statement (snowgate mcp: the tool)
		if requestID != "" {
			sess.requests[requestID] = q
		}
		dropped = s.queries.insert(q)
	}
	sess.mu.Unlock()
	release(dropped)

	if fresh {
		go s.run(ctx, q, req, binds)
	} else {
		s.log.Info("request retried; answering with the original statement", "session", sess.id, "query", q.id)
	}
	if req.AsyncExec {
		return coded{code: CodeAsyncInProgress, message: "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.", data: pending(q)}, nil
	}
	return s.await(r, q)
}

// await answers with the query's result once it is done, or with 333333
// (ping-pong) when it takes longer than the client should wait.
func (s *Server) await(r *http.Request, q *query) (any, error) {
	defer q.watch()()
	t := time.NewTimer(s.cfg.PingPong)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
		code := CodeQueryInProgress
		if q.async {
			code = CodeAsyncInProgress
		}
		return coded{code: code, message: "Query execution in progress. Poll " + resultPath(q.id) + " for the result.", data: pending(q)}, nil
	case <-r.Context().Done():
		return nil, errClientLeft
	}
	if q.err != nil {
		q.delivered.Store(true)
		return nil, q.err
	}
	body, err := q.res.render(q.id, baseURL(r))
	if err != nil {
		return nil, fmt.Errorf("render result: %w", err)
	}
	q.delivered.Store(true)
	return rawEnvelope(body), nil
}

func pending(q *query) map[string]any {
	return map[string]any{"queryId": q.id, "getResultUrl": resultPath(q.id), "queryAbortsAfterSecs": 300, "progressDesc": nil}
}

func resultPath(id string) string { return "/queries/" + id + "/result" }

// run executes a request's statements in order and finishes q.
func (s *Server) run(ctx context.Context, q *query, req queryRequest, binds []Bind) {
	// A panic fails the statement, not the gateway: it runs on a goroutine
	// of its own, outside the HTTP handler's recovery.
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic running a statement", "query", q.id, "panic", v)
			if !q.finished() {
				q.finish(nil, newError(CodeInternal, "XX000", "internal error in snowgate; see the gateway log", fmt.Errorf("panic: %v", v)))
			}
		}
	}()
	defer q.abandonWhenLeft(s.cfg.AbandonAfter)()
	ctx, span := s.tracer.Start(ctx, "snowgate.query", trace.WithAttributes(attribute.String("snowgate.session", sessionID(q.session))))
	res, err := s.execute(ctx, q, req, binds)
	endSpan(span, err)
	if err != nil {
		e := asError(err)
		if e.Err == nil {
			e.Err = queryIDError(q.id)
		} else {
			e = &Error{Code: e.Code, SQLState: e.SQLState, Message: e.Message, Err: withQueryID{e.Err, q.id}}
		}
		if ctx.Err() != nil && q.finished() {
			return // cancelled: the client already has its answer
		}
		q.finish(nil, e)
		return
	}
	q.finish(res, nil)
}

// statement is the per-statement pipeline: decide, execute, encode.
// runUpstream executes a statement upstream and encodes its result.
// track keeps the session's database, schema, warehouse and role current.
// encode turns an outcome into a result: rows streamed into the inline part
// and spooled chunks, a DML row count, or a status line.
// upstreamError passes an upstream SQL error on with its code, and hides
// anything else.
// statementTypeID maps a kind to Snowflake's statementTypeId, which drivers
// use to tell result sets, DML counts and DDL apart.
func decodeBinds(m map[string]bindingJSON) ([]Bind, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make([]Bind, 0, len(m))
	for name, b := range m {
		bind := Bind{Name: name, Type: strings.ToUpper(b.Type)}
		raw := strings.TrimSpace(string(b.Value))
		switch {
		case raw == "" || raw == "null":
		case strings.HasPrefix(raw, "["):
			var vals []*string
			if err := json.Unmarshal(b.Value, &vals); err != nil {
				return nil, newError(CodeBadRequest, "22023", "bind "+name+": array values must be strings or null", err)
			}
			bind.Values, bind.Array = vals, true
		default:
			var v string
			if err := json.Unmarshal(b.Value, &v); err != nil {
				return nil, newError(CodeBadRequest, "22023", "bind "+name+": value must be a string or null", err)
			}
			bind.Value = &v
		}
		out = append(out, bind)
	}
	sort.Slice(out, func(i, j int) bool {
		a, errA := strconv.Atoi(out[i].Name)
		b, errB := strconv.Atoi(out[j].Name)
		if errA == nil && errB == nil {
			return a < b
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// result answers GET /queries/{id}/result: a finished query's result, or
// ping-pong while it runs.
func (s *Server) result(w http.ResponseWriter, r *http.Request) (any, error) {
	sess, err := s.authSession(r)
	if err != nil {
		return nil, err
	}
	q, err := s.ownQuery(sess, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.await(r, q)
}

// ownQuery finds a query the session's principal may see: queries of the
// same human and agent, from any of their sessions.
func (s *Server) ownQuery(sess *session, id string) (*query, error) {
	q := s.queries.get(id)
	if q == nil || !samePrincipal(q.session.principal, sess.principal) {
		return nil, newError(CodeQueryNotFound, "02000", "no query "+strconv.Quote(id)+" in this session's history", nil)
	}
	return q, nil
}

func samePrincipal(a, b *Principal) bool {
	if a == b {
		return true
	}
	return a.Identity.Issuer == b.Identity.Issuer && a.Identity.Subject == b.Identity.Subject && agentID(a.Identity) == agentID(b.Identity)
}

func (s *Server) monitor(w http.ResponseWriter, r *http.Request) (any, error) {
	sess, err := s.authSession(r)
	if err != nil {
		return nil, err
	}
	q, err := s.ownQuery(sess, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	status, code, msg := "RUNNING", "", ""
	if q.finished() {
		status = "SUCCESS"
		if q.err != nil {
			status, code, msg = "FAILED_WITH_ERROR", q.err.Code, q.err.Message
			if q.err.Code == CodeCanceled {
				status = "ABORTED"
			}
		}
	}
	entry := map[string]any{
		"id": q.id, "status": status, "sqlText": q.sql, "startTime": q.started.UnixMilli(),
		"errorCode": code, "errorMessage": msg,
	}
	if q.finished() {
		entry["endTime"] = q.ended.UnixMilli()
		if q.res != nil {
			entry["stats"] = map[string]any{"producedRows": q.res.Total}
		}
	}
	return map[string]any{"queries": []any{entry}}, nil
}

// abort answers both abort forms: POST /queries/v1/abort-request with the
// statement's requestId, and POST /queries/{id}/abort-request.
func (s *Server) abort(w http.ResponseWriter, r *http.Request) (any, error) {
	sess, err := s.authSession(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		RequestID string `json:"requestId"`
	}
	if err := decodeBody(r, 1<<16, &body); err != nil {
		return nil, err
	}
	var q *query
	if id := r.PathValue("id"); id != "" {
		q, _ = s.ownQuery(sess, id)
	} else {
		sess.mu.Lock()
		q = sess.requests[body.RequestID]
		sess.mu.Unlock()
	}
	if q == nil || !q.cancel() {
		return nil, newError(CodeNotExecuting, "01000", "Identified SQL statement is not currently executing.", nil)
	}
	s.log.Info("statement cancelled by client", "session", sess.id, "query", q.id)
	return nil, nil
}
