package proxy

// The per-statement pipeline: analyse, decide, record, execute, encode.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/quota"
	"github.com/snowgate/snowgate/proxy/rowset"
	"github.com/snowgate/snowgate/proxy/statement"
)

type withQueryID struct {
	err error
	id  string
}

func (w withQueryID) Error() string   { return w.err.Error() }
func (w withQueryID) Unwrap() error   { return w.err }
func (w withQueryID) QueryID() string { return w.id }

// analysisEnv is what a query's statements are read against: the
// session's database, schema and catalog, and — when statements are
// decided — its results as they are now, which q keeps.
func (s *Server) analysisEnv(q *query) statement.Env {
	st := q.session.snapshot()
	env := statement.Env{Database: st.Database, Schema: st.Schema, Catalog: q.session.catalog, FoldQuoted: s.cfg.FoldQuotedIdentifiers}
	if !s.cfg.Unguarded {
		q.results = q.session.resultView()
		env.Results = q.results
	}
	return env
}

func (s *Server) execute(ctx context.Context, q *query, req queryRequest, binds []Bind) (*result, error) {
	sess := q.session
	env := s.analysisEnv(q)
	actx, end := s.stage(ctx, StageAnalysis)
	stmts, err := statement.Analyze(actx, req.SQLText, env)
	if err != nil {
		err = newError(CodeCompilation, "42000", "SQL compilation error: "+err.Error(), err)
	}
	end(err)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, newError(CodeCompilation, "42000", "SQL compilation error: empty SQL statement", nil)
	}
	if want := multiCount(req.Parameters); want != 0 && want != len(stmts) {
		return nil, newError(CodeCountMismatch, "0A000", fmt.Sprintf("Actual statement count %d did not match the desired statement count %d.", len(stmts), want), nil)
	}
	if len(stmts) == 1 {
		return s.statement(ctx, q, stmts[0], req, binds)
	}
	if len(binds) > 0 {
		return nil, newError(CodeUnsupported, "0A000", "binds are not supported in a multi-statement request", nil)
	}
	// Multi-statement: each statement becomes a child query whose result
	// the driver fetches by id; the parent lists them.
	var ids, types []string
	for i, stmt := range stmts {
		child, cctx := newQuery(ctx, sess, "", stmt.SQL)
		child.results, child.queryTag = q.results, q.queryTag
		cur := sess.snapshot()
		moved := cur.Database != env.Database || cur.Schema != env.Schema
		if i > 0 && (moved || len(stmt.ResultScans) > 0 && env.Results != nil) {
			// An earlier statement of the request may have moved the
			// session (USE, CREATE SCHEMA): its names are the new
			// database's and schema's. RESULT_SCAN may name a statement of
			// this request that ran after the request was analysed. Read
			// it again against the session as it is now.
			env.Database, env.Schema = cur.Database, cur.Schema
			if env.Results != nil {
				child.results = sess.resultView()
				env.Results = child.results
			}
			again, err := statement.Analyze(ctx, stmt.SQL, env)
			if err != nil || len(again) != 1 {
				return nil, newError(CodeCompilation, "42000", "SQL compilation error: statement could not be read again", err)
			}
			again[0].Index, again[0].Count = stmt.Index, stmt.Count
			stmt = again[0]
		}
		s.queries.add(child)
		res, err := s.statement(cctx, child, stmt, req, nil)
		if err != nil {
			child.finish(nil, asError(err))
			return nil, err
		}
		child.finish(res, nil)
		ids = append(ids, child.id)
		types = append(types, strconv.Itoa(res.statementType))
	}
	res := &result{
		statementType: 0xA000,
		columns:       []Column{{Name: "multiple statement execution", Type: "text"}},
		resultIDs:     strings.Join(ids, ","), resultTypes: strings.Join(types, ","),
		state: sess.snapshot(),
	}
	res.setText("Multiple statements executed successfully.")
	return res, nil
}

// statement runs one statement through the pipeline in its own span.
func (s *Server) statement(ctx context.Context, q *query, stmt statement.Statement, req queryRequest, binds []Bind) (*result, error) {
	ctx, span := s.tracer.Start(ctx, "snowgate.statement", trace.WithAttributes(attribute.Int("snowgate.statement.index", stmt.Index)))
	res, err := s.decideAndRun(ctx, q, stmt, req, binds)
	endSpan(span, err)
	return res, err
}

func (s *Server) decideAndRun(ctx context.Context, q *query, stmt statement.Statement, req queryRequest, binds []Bind) (*result, error) {
	sess := q.session
	log := s.log.With("session", sess.id, "query", q.id, "kind", stmt.Kind, "fingerprint", stmt.Fingerprint)
	var masks *maskPlanSpec
	var caps budget
	queryTag := sess.queryTag
	started := time.Now()
	var auditID string // the statement's record in the trail
	upstreamSQL := stmt.SQL
	if !s.cfg.Unguarded {
		var in engine.Input
		var d engine.Decision
		var run statement.Statement
		stmt, run, in, d = s.decide(ctx, q, stmt, binds, log)
		upstreamSQL = run.SQL
		s.count(sess, quota.Statements, 1)
		caps = budgetOf(d.Limits)
		trace.SpanFromContext(ctx).SetAttributes(statementAttrs(stmt, d)...)
		s.counters.decided(d.Action, d.Rules)
		log = log.With("decision", d.ID, "action", d.Action, "revision", d.Revision)
		// Durable before acting: nothing runs that the trail does not hold.
		var err error
		rctx, end := s.stage(ctx, StageAudit)
		auditID, err = s.record(rctx, audit.Event{Type: audit.TypeStatement, SessionID: sessionID(sess), RequestID: q.requestID, QueryID: q.id,
			Identity: auditIdentity(sess.principal.Identity), Statement: auditStatement(stmt, run, sess.snapshot(), in.Session.QueryTag), Decision: auditDecision(d, in.Estimate)})
		end(err)
		if err != nil {
			return nil, err
		}
		if auditID != "" {
			queryTag = auditID // Snowflake's query history joins the trail
		}
		switch d.Action {
		case engine.ActionAllow, engine.ActionMask, engine.ActionRequireApproval:
		case engine.ActionDeny:
			log.Info("statement denied", "reasons", d.Reasons, "failed_closed", d.FailedClosed)
			if d.FailedClosed { // not the policy's answer: say so, so that clients retry instead of giving up
				return nil, newError(CodePolicyUnavailable, "42501", denyMessage("denied: the policy could not decide; try again", d), nil)
			}
			return nil, newError(CodeAccessDenied, "42501", denyMessage("denied", d), nil)
		default:
			log.Warn("decision not enforceable", "reasons", d.Reasons)
			return nil, newError(CodeAccessDenied, "42501", denyMessage("cannot be enforced ("+string(d.Action)+")", d), nil)
		}
		// Masks hold whatever lets the statement run: allow, mask, or an
		// approval. They are planned before anyone is asked to approve.
		if d.Action == engine.ActionMask && len(d.Masks) == 0 {
			log.Warn("mask decision without masks")
			return nil, newError(CodeAccessDenied, "42501", denyMessage("cannot be enforced (a mask decision that names no columns)", d), nil)
		}
		if len(d.Masks) > 0 {
			byOutput, err := planMasks(d.Masks, stmt, s.maskKey)
			if err != nil {
				log.Info("statement denied: masks cannot be applied", "err", err)
				return nil, newError(CodeAccessDenied, "42501", denyMessage("denied", engine.Decision{ID: d.ID, Reasons: append(d.Reasons, err.Error())}), nil)
			}
			masks = &maskPlanSpec{byOutput: byOutput, outputs: len(stmt.Outputs), key: s.maskKey}
			log = log.With("masked_columns", len(byOutput))
		}
		if len(run.ResultScans) > 0 {
			text, err := rewriteResultScans(q.results, run)
			if err != nil {
				log.Info("statement denied: RESULT_SCAN", "err", err)
				return nil, newError(CodeAccessDenied, "42501", denyMessage("denied", engine.Decision{ID: d.ID, Reasons: append(d.Reasons, err.Error())}), nil)
			}
			upstreamSQL = text
		}
		if d.Action == engine.ActionRequireApproval {
			log.Info("statement needs approval", "reasons", d.Reasons)
			actx, end := s.stage(ctx, StageApproval)
			err := s.approve(actx, q, stmt, binds, d, log)
			end(err)
			if err != nil {
				if ctx.Err() != nil { // held, then cancelled or abandoned: never run
					_ = s.recordOutcome(ctx, q, &audit.Outcome{}, started, asError(err))
				}
				return nil, err
			}
		}
	}
	res, err := s.runUpstream(ctx, q, stmt, Exec{SQL: upstreamSQL, Kind: stmt.Kind, Binds: binds, QueryTag: queryTag, Describe: req.DescribeOnly, Batches: true}, masks, caps, log)
	if !s.cfg.Unguarded {
		// The statement and its decision are already durable; the outcome
		// rides the next commit instead of holding the client's answer (a
		// crash may lose an outcome, never a statement).
		_ = s.recordOutcome(ctx, q, outcomeOf(res), started, errOrNil(err))
	}
	if err != nil {
		s.counters.failed.Add(1)
		return nil, err
	}
	if err := s.classifyWrite(ctx, q, stmt, auditID, req.DescribeOnly, log); err != nil {
		res.close()
		return nil, err
	}
	res.numBinds = len(binds)
	log.Info("statement ran", "rows", res.Total)
	return res, nil
}

// decide reads a statement as the policy must see it — a CREATE OR REPLACE
// of nothing as a create (replace.go), with the estimate of what an UPDATE
// or DELETE selects (estimate.go) — and takes the decision. It returns the
// statement as read, the statement to run in its place (with the
// decision's row filters, rowfilter.go), the input and the decision; the
// query path and explain both decide through it.
func (s *Server) decide(ctx context.Context, q *query, stmt statement.Statement, binds []Bind, log *slog.Logger) (read, run statement.Statement, in engine.Input, d engine.Decision) {
	if cat, ok := q.session.conn.(statement.Catalog); ok {
		stmt = createsAnew(ctx, cat, stmt, log)
	}
	in = s.input(q.session, q, stmt)
	in.Estimate = s.estimate(ctx, q.session, stmt, binds, log)
	in.Usage = s.usage(q.session.principal.Identity, q.session.quotaKeys, log)
	dctx, end := s.stage(ctx, StageDecision)
	d = s.cfg.Decider.Decide(dctx, in)
	end(nil)
	if d.Estimate && in.Estimate == nil {
		// The policy asks what the read would scan before it decides.
		in.Estimate = s.scanEstimate(ctx, q.session, stmt, binds, log)
		dctx, end := s.stage(ctx, StageDecision)
		d = s.cfg.Decider.Decide(dctx, in)
		end(nil)
	}
	run = stmt
	if len(d.RowFilters) > 0 && d.Action != engine.ActionDeny {
		var err error
		if run, err = s.filterRows(ctx, q, stmt, d.RowFilters); err != nil {
			log.Info("statement denied: row filters cannot be placed", "err", err)
			d = RefuseRows(d, err)
		}
	}
	return stmt, run, in, d
}

func (s *Server) runUpstream(ctx context.Context, q *query, stmt statement.Statement, x Exec, masks *maskPlanSpec, caps budget, log *slog.Logger) (*result, error) {
	sess := q.session
	uctx, end := s.stage(ctx, StageUpstream)
	var out *Outcome
	var err error
	if stmt.Kind == statement.KindAlter && formatOnly(stmt.SQL) {
		out = &Outcome{Status: "Statement executed successfully."} // the client's own format (formatOnly)
	} else {
		out, err = sess.conn.Run(uctx, x)
	}
	end(err)
	if err != nil {
		if !s.cfg.Unguarded {
			sess.remember(q.id, "", nil, nil) // it ran, or may have: it holds a place, no result
		}
		if ctx.Err() != nil {
			return nil, canceled(ctx, "")
		}
		// With masks, neither the client, nor the trail, nor the log sees
		// what the upstream's message may quote of the masked columns.
		err = upstreamError(err, masks != nil)
		s.counters.upstreamFailed(err)
		log.Info("statement failed upstream", "err", err)
		return nil, err
	}
	s.track(sess, stmt, out)
	ectx, end := s.stage(ctx, StageEncoding)
	res, err := s.encode(ectx, stmt, out, masks, caps, q.arrow)
	if res != nil && out.Rows != nil {
		s.count(sess, quota.Rows, res.Total)
		s.count(sess, quota.Bytes, res.valueBytes)
	}
	end(err)
	if err == nil && masks != nil {
		s.counters.maskedColumns(masks.byOutput)
	}
	if !s.cfg.Unguarded {
		if err != nil || x.Describe {
			sess.remember(q.id, out.QueryID, nil, nil)
		} else {
			sess.remember(q.id, out.QueryID, &stmt, res.columns)
		}
	}
	return res, err
}

func errOrNil(err error) *Error {
	if err == nil {
		return nil
	}
	return asError(err)
}

func denyMessage(what string, d engine.Decision) string {
	msg := "snowgate: statement " + what
	if len(d.Reasons) > 0 {
		msg += ": " + strings.Join(d.Reasons, "; ")
	}
	return msg + " (decision " + d.ID + ")"
}

func (s *Server) input(sess *session, q *query, stmt statement.Statement) engine.Input {
	st := sess.snapshot()
	tag := sess.queryTag
	if q.queryTag != "" {
		tag = q.queryTag
	}
	return engine.Input{
		Version:  engine.InputVersion,
		Identity: sess.principal.Identity,
		Session: engine.Session{
			ID: strconv.FormatInt(sess.id, 10), Client: sess.client.App, ClientVersion: sess.client.Version,
			ClientAddress: sess.client.Address, Database: st.Database, Schema: st.Schema,
			Warehouse: st.Warehouse, Role: st.Role, QueryTag: tag, StartedAt: sess.started,
		},
		Statement: stmt,
		Request:   engine.Request{ID: q.requestID, Time: time.Now()},
	}
}

func (s *Server) track(sess *session, stmt statement.Statement, out *Outcome) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if stmt.Kind == statement.KindAlter {
		// ALTER SESSION SET JDBC_QUERY_RESULT_FORMAT = 'JSON' and the
		// like: the session's later results follow it, as on Snowflake.
		for name, v := range alterFormat(stmt.SQL) {
			if sess.params == nil {
				sess.params = map[string]string{}
			}
			if v == "" {
				delete(sess.params, name)
			} else {
				sess.params[name] = v
			}
			sess.arrow.Store(readsArrow(sess.client.App, sess.params))
		}
	}
	if out.State != nil {
		sess.state = *out.State
		return
	}
	if stmt.Kind != statement.KindUse {
		return
	}
	for _, o := range stmt.Objects {
		switch o.Type {
		case "database":
			sess.state.Database, sess.state.Schema = o.Name, "PUBLIC"
		case "schema":
			if o.Database != "" {
				sess.state.Database = o.Database
			}
			sess.state.Schema = o.Name
		case "warehouse":
			sess.state.Warehouse = o.Name
		case "role":
			sess.state.Role = o.Name
		}
	}
}

// encode turns the upstream's outcome into the client's result: its rows
// masked, capped and encoded as Arrow when arrow is set (the session's
// driver reads it), else as Snowflake's JSON rowset.
func (s *Server) encode(ctx context.Context, stmt statement.Statement, out *Outcome, masks *maskPlanSpec, caps budget, arrow bool) (*result, error) {
	res := &result{statementType: statementTypeID(stmt.Kind), state: stateOf(out)}
	if out.Rows == nil {
		if cols := dmlColumns(stmt.Kind); cols != nil {
			res.columns = cols
			row := []string{strconv.FormatInt(out.Affected, 10)}
			valid := []bool{true}
			for range cols[1:] {
				row, valid = append(row, "0"), append(valid, true)
			}
			w, err := rowWriter(res, s.cfg.InlineBytes, s.cfg.ChunkBytes, s.cfg.SpoolDir)
			if err != nil {
				return nil, err
			}
			_ = w.WriteRow(row, valid)
			return res, w.Finish()
		}
		status := out.Status
		if status == "" {
			status = "Statement executed successfully."
		}
		res.columns = []Column{{Name: "status", Type: "text"}}
		res.setText(status)
		return res, nil
	}
	defer out.Rows.Close()
	if res.statementType == 0 {
		res.statementType = 0x1000
	}
	res.columns = append([]Column(nil), out.Rows.Columns()...)
	var plan maskPlan
	if masks != nil {
		var err error
		if plan, err = masks.apply(res.columns); err != nil {
			return nil, newError(CodeAccessDenied, "42501", "snowgate: statement denied: "+err.Error(), err)
		}
	}
	res.Arrow = arrow
	w, err := rowWriter(res, s.inlineLimit(), s.cfg.ChunkBytes, s.cfg.SpoolDir)
	if err != nil {
		return nil, newError(CodeInternal, "XX000", "snowgate could not encode the result", err)
	}
	defer w.Close()
	if br, ok := out.Rows.(BatchRows); ok {
		err = s.encodeBatches(ctx, res, br, plan, caps, w, masks != nil)
	} else {
		err = encodeRows(ctx, res, out.Rows, plan, caps, w, masks != nil)
	}
	if err == nil {
		if err = w.Finish(); err != nil {
			err = newError(CodeInternal, "XX000", "snowgate could not store the result", err)
		}
	}
	if err != nil {
		res.close()
		return nil, err
	}
	return res, nil
}

// encodeRows is encode's loop over a result read a row at a time.
func encodeRows(ctx context.Context, res *result, rows Rows, plan maskPlan, caps budget, w *rowset.Writer, masked bool) error {
	n := len(res.columns)
	vals, cells, valid := make([]any, n), make([]string, n), make([]bool, n)
	var buf []byte
	for {
		err := rows.Next(vals)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readFailed(ctx, err, masked)
		}
		for i := range vals {
			c, ok, err := encodeValue(&res.columns[i], vals[i])
			if err != nil {
				return newError(CodeInternal, "XX000", "snowgate could not encode a result value", err)
			}
			if plan != nil && plan[i] != nil {
				buf, ok = plan[i](buf[:0], c, ok)
				c = string(buf)
			}
			cells[i], valid[i] = c, ok
			res.valueBytes += int64(len(c))
		}
		if err := caps.exceeded(res.Total+1, res.valueBytes); err != nil {
			return err
		}
		if err := w.WriteRow(cells, valid); err != nil {
			return newError(CodeInternal, "XX000", "snowgate could not store the result", err)
		}
	}
}

// readFailed is a failure to read the upstream's result as the client
// sees it.
func readFailed(ctx context.Context, err error, masked bool) error {
	if ctx.Err() != nil {
		return canceled(ctx, "")
	}
	return upstreamError(err, masked)
}

// encodeBatches is encode's loop over a result read a record batch at a
// time: masks apply column by column (maskColumn), and no value becomes a
// Go value. One goroutine reads and masks the batches while this one
// encodes them.
func (s *Server) encodeBatches(ctx context.Context, res *result, rows BatchRows, plan maskPlan, caps budget, w *rowset.Writer, masked bool) error {
	fields := w.Fields()
	// Bytes are counted as the values' text only where a quota or a cap
	// reads them.
	countBytes := s.cfg.Quotas != nil || caps.bytes > 0
	batches := make(chan maskedBatch, 2)
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(batches)
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic reading a result", "panic", v)
				readErr = newError(CodeInternal, "XX000", "internal error in snowgate reading the result; see the gateway log", fmt.Errorf("panic: %v", v))
			}
		}()
		for {
			b, err := nextMasked(ctx, rows, plan, fields, masked)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			select {
			case batches <- b:
			case <-stop:
				b.release()
				return
			}
		}
	}()
	// However this returns (an error, a panic), the reader has stopped
	// before the caller closes the rows it reads.
	defer func() {
		close(stop)
		for b := range batches {
			b.release()
		}
	}()
	for b := range batches {
		err := writeBatch(res, w, b, caps, countBytes)
		b.release()
		if err != nil {
			return err
		}
	}
	// the reader has stopped: batches is closed
	return readErr
}

// writeBatch counts a masked batch against the caps and encodes it.
func writeBatch(res *result, w *rowset.Writer, b maskedBatch, caps budget, countBytes bool) error {
	if countBytes {
		for i, c := range b.cols {
			n, err := rowset.TextSize(w.Fields()[i], c)
			if err != nil {
				return newError(CodeInternal, "XX000", "snowgate could not encode a result value", err)
			}
			res.valueBytes += n
		}
	}
	if err := caps.exceeded(res.Total+int64(b.n), res.valueBytes); err != nil {
		return err
	}
	if err := w.WriteColumns(b.cols, b.n); err != nil {
		return newError(CodeInternal, "XX000", "snowgate could not encode or store the result", err)
	}
	return nil
}

// maskedBatch is a record batch's columns with the masks applied.
type maskedBatch struct {
	rec   arrow.RecordBatch
	cols  []arrow.Array
	owned []arrow.Array // the masked columns
	n     int
}

func (b maskedBatch) release() {
	for _, a := range b.owned {
		a.Release()
	}
	b.rec.Release()
}

// nextMasked reads the next record batch and masks its columns; io.EOF
// after the last.
func nextMasked(ctx context.Context, rows BatchRows, plan maskPlan, fields []rowset.Field, masked bool) (maskedBatch, error) {
	rec, err := rows.NextBatch()
	if errors.Is(err, io.EOF) {
		return maskedBatch{}, err
	}
	if err != nil {
		return maskedBatch{}, readFailed(ctx, err, masked)
	}
	if int(rec.NumCols()) != len(fields) {
		return maskedBatch{}, newError(CodeInternal, "XX000", "snowgate could not encode the result", fmt.Errorf("a batch of %d columns for %d", rec.NumCols(), len(fields)))
	}
	rec.Retain() // past the next NextBatch, while it is encoded
	b := maskedBatch{rec: rec, cols: make([]arrow.Array, len(fields)), n: int(rec.NumRows())}
	for i := range b.cols {
		b.cols[i] = rec.Column(i)
		if plan == nil || plan[i] == nil {
			continue
		}
		m, err := maskColumn(plan[i], fields[i], b.cols[i])
		if err != nil {
			b.release()
			return maskedBatch{}, newError(CodeInternal, "XX000", "snowgate could not mask a result column", err)
		}
		b.owned = append(b.owned, m)
		b.cols[i] = m
	}
	return b, nil
}

func stateOf(out *Outcome) SessionState {
	if out.State != nil {
		return *out.State
	}
	return SessionState{}
}

// upstreamError is an upstream failure as the client sees it: the
// upstream's code, SQLSTATE and message. hide is for statements that read
// columns masked for the caller: the message may quote their values, so
// none of it that could be a value is kept (hideValues).
func upstreamError(err error, hide bool) error {
	var e *Error
	switch {
	case errors.As(err, &e):
	default:
		var se interface {
			SnowflakeCode() (code, sqlState, message string)
		}
		var ne net.Error
		switch {
		case errors.As(err, &se):
			code, state, msg := se.SnowflakeCode()
			e = newError(code, state, msg, err)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.As(err, &ne):
			// The connection to the upstream failed: not the statement's fault.
			e = newError(CodeUpstream, "08006", "the connection to the upstream failed: "+err.Error(), err)
		default:
			e = newError(CodeCompilation, "42000", "SQL execution error: "+err.Error(), err)
		}
	}
	if hide {
		return hideValues(e)
	}
	return e
}

func statementTypeID(k statement.Kind) int {
	switch k {
	case statement.KindSelect:
		return 0x1000
	case statement.KindExplain:
		return 0x2000
	case statement.KindInsert:
		return 0x3100
	case statement.KindUpdate:
		return 0x3200
	case statement.KindDelete:
		return 0x3300
	case statement.KindMerge:
		return 0x3400
	case statement.KindCopy:
		return 0x3600
	case statement.KindSet, statement.KindUnset:
		return 0x4000
	case statement.KindUse:
		return 0x4300
	case statement.KindShow:
		return 0x4400
	case statement.KindDescribe:
		return 0x4500
	case statement.KindBegin, statement.KindCommit, statement.KindRollback:
		return 0x5000
	case statement.KindUnknown:
		return 0
	}
	return 0x6000
}

func dmlColumns(k statement.Kind) []Column {
	count := func(name string) Column { return Column{Name: name, Type: "fixed", Precision: 19} }
	switch k {
	case statement.KindInsert:
		return []Column{count("number of rows inserted")}
	case statement.KindUpdate:
		return []Column{count("number of rows updated"), count("number of multi-joined rows updated")}
	case statement.KindDelete:
		return []Column{count("number of rows deleted")}
	case statement.KindMerge:
		return []Column{count("number of rows affected")}
	}
	return nil
}

func multiCount(params map[string]any) int {
	v, ok := params["MULTI_STATEMENT_COUNT"]
	if !ok {
		return 1
	}
	switch n := v.(type) {
	case float64:
		return int(n)
	case string:
		i, err := strconv.Atoi(n)
		if err != nil {
			return 1
		}
		return i
	}
	return 1
}
