// Package proxy is the Snowflake-facing side of snowgate: the Snowflake REST
// protocol as the real drivers speak it (login, query, results, monitoring,
// abort, renew, close, heartbeat, telemetry), sessions, and the per-statement
// pipeline that analyses, decides and executes each statement.
package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/snowgate/snowgate/proxy/approval"
)

// Defaults for Config's zero values.
const (
	DefaultTokenTTL     = time.Hour
	DefaultMasterTTL    = 4 * time.Hour
	DefaultIdleTimeout  = 4 * time.Hour
	DefaultMaxLife      = 24 * time.Hour
	DefaultPingPong     = 40 * time.Second
	DefaultAbandonAfter = 10 * time.Second
	DefaultMaxBody      = 32 << 20 // 32 MiB of (decompressed) request body
	DefaultInlineBytes  = 1 << 20  // rows sent in the first response
	DefaultChunkBytes   = 8 << 20  // rows per chunk after that
	DefaultResultTTL    = 30 * time.Minute
)

// Config configures a Server. Zero values take the defaults above.
type Config struct {
	Name        string        // shown in logs: "gateway" or "standin"
	Auth        Authenticator // verifies logins; required
	Credentials CredentialSource
	// Quotas, when set, counts what callers do for the policy
	// (input.usage) and its result caps (decision limits).
	Quotas      Quotas
	Defaults    OpenParams // upstream database, schema, warehouse and role when the client names none
	Upstream    Upstream   // runs statements; required
	Decider     Decider    // takes the policy decision; required unless Unguarded
	Unguarded   bool       // run statements without a decision (the stand-in only)
	Logger      *slog.Logger
	TokenTTL    time.Duration // session token validity
	MasterTTL   time.Duration // master token validity
	IdleTimeout time.Duration // a session unused this long is closed
	MaxLife     time.Duration // a session is closed this long after login
	PingPong    time.Duration // how long a request waits for a statement before answering 333333
	// AbandonAfter is how long a held or running statement may go with no
	// request of its client waiting for it before it is abandoned: not run
	// (held), cancelled (running), and recorded as abandoned. Asynchronous
	// statements are never abandoned.
	AbandonAfter  time.Duration
	MaxBody       int64         // the largest request body accepted, after decompression
	InlineBytes   int           // result bytes sent inline in the first response
	ChunkBytes    int           // result bytes per chunk served by /chunks
	ResultTTL     time.Duration // how long a finished result can be fetched
	SpoolDir      string        // where large results are spooled; os.TempDir() when empty
	ServerVersion string
	// Tracer provides the spans of logins and statements (trace.go); nil
	// traces nothing.
	Tracer trace.TracerProvider
	// Approvals holds statements that need approval; without it they are
	// refused.
	Approvals *approval.Service
	// ApprovalMode is "hold" (the client's request waits, as for a long
	// query, until the statement is approved, rejected or expired; the
	// default) or "ticket" (the client gets an error naming the request at
	// once, and the same statement runs when retried after approval).
	ApprovalMode string
	// ApprovalPage is where approvers act, shown in messages.
	ApprovalPage string
	// Audit records the audit trail; without it nothing is recorded.
	Audit Auditor
	// Classifier records the classifications that copies of classified
	// columns inherit; without it they are not followed.
	Classifier Classifier
	// MaskKey keys the hash mask strategy, so that hashed values join
	// across queries but cannot be reversed by a dictionary. Random per
	// process when empty.
	MaskKey []byte
	// FoldQuotedIdentifiers says the upstream ignores the case of quoted
	// identifiers too (the DuckDB stand-in, or Snowflake with
	// QUOTED_IDENTIFIERS_IGNORE_CASE): "demo" then names DEMO, at login and
	// in statements. False is Snowflake's rule: unquoted names are upper-
	// cased, quoted ones kept exactly.
	FoldQuotedIdentifiers bool
	// EstimateTimeout bounds how long the upstream may take to estimate
	// the rows a bounded UPDATE or DELETE touches, before the decision
	// (estimate.go); 2 s when zero, no estimates when negative.
	EstimateTimeout time.Duration
}

// Server speaks the Snowflake REST protocol.
type Server struct {
	cfg      Config
	log      *slog.Logger
	sessions *sessions
	queries  *queries
	ctx      context.Context // ends when the server shuts down
	cancel   context.CancelFunc
	mux      *http.ServeMux
	maskKey  []byte
	counters counters
	draining atomic.Bool // see Drain
	tracer   trace.Tracer
}

// New returns a Server ready to serve.
func New(cfg Config) (*Server, error) {
	if cfg.Auth == nil || cfg.Upstream == nil {
		return nil, errors.New("proxy: Auth and Upstream are required")
	}
	if cfg.Decider == nil && !cfg.Unguarded {
		return nil, errors.New("proxy: a Decider is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.TokenTTL, DefaultTokenTTL)
	def(&cfg.MasterTTL, DefaultMasterTTL)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.MaxLife, DefaultMaxLife)
	def(&cfg.PingPong, DefaultPingPong)
	def(&cfg.AbandonAfter, DefaultAbandonAfter)
	def(&cfg.ResultTTL, DefaultResultTTL)
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.InlineBytes <= 0 {
		cfg.InlineBytes = DefaultInlineBytes
	}
	if cfg.ChunkBytes <= 0 {
		cfg.ChunkBytes = DefaultChunkBytes
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name = "gateway"
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "9.0.0 snowgate"
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("server", cfg.Name),
		sessions: newSessions(),
		queries:  newQueries(),
		tracer:   newTracer(cfg.Tracer),
		ctx:      ctx,
		cancel:   cancel,
		mux:      http.NewServeMux(),
		maskKey:  cfg.MaskKey,
	}
	if len(s.maskKey) == 0 {
		s.maskKey = []byte(newToken())
	}
	s.routes()
	go s.reap()
	return s, nil
}

func (s *Server) routes() {
	s.handle("POST /session/v1/login-request", s.login)
	s.handle("POST /session/token-request", s.renew)
	s.handle("POST /session", s.closeSession)
	s.handle("DELETE /session", s.closeSession)
	s.handle("POST /session/heartbeat", s.heartbeat)
	s.handle("POST /telemetry/send", s.telemetry)
	s.handle("POST /queries/v1/query-request", s.query)
	s.handle("GET /queries/{id}/result", s.result)
	s.handle("GET /monitoring/queries/{id}", s.monitor)
	s.handle("POST /queries/v1/abort-request", s.abort)
	s.handle("POST /queries/{id}/abort-request", s.abort)
	s.mux.HandleFunc("GET /chunks/{id}/{n}", s.chunk)
	s.explainRoutes() // explain.go: decisions without running
	s.restRoutes()    // restapi.go: the REST API's reads of databases, schemas, tables and views
	s.handle("/", func(w http.ResponseWriter, r *http.Request) (any, error) {
		return nil, newError(CodeNotFound, "08001", fmt.Sprintf("snowgate does not serve %s %s", r.Method, r.URL.Path), nil)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.refuseWhileDraining(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends every session and running statement.
func (s *Server) Close() error {
	s.cancel()
	for _, sess := range s.sessions.all() {
		s.endSession(sess, "server shutdown")
	}
	s.queries.closeAll()
	return nil
}

// envelope is Snowflake's response body.
type envelope struct {
	Data    any     `json:"data"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Success bool    `json:"success"`
}

// coded is a successful answer that still carries a code, as 333333 and
// 333334 do.
type coded struct {
	code, message string
	data          any
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// handle wraps a handler so that every answer, success or failure, is a
// Snowflake envelope with HTTP 200: drivers retry other statuses.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				writeEnvelope(w, failure(newError(CodeInternal, "XX000", "internal error in snowgate; see the gateway log", nil)))
			}
		}()
		data, err := h(w, r)
		if errors.Is(err, errClientLeft) {
			s.log.Info("client left before its answer", "path", r.URL.Path)
			return
		}
		if err != nil {
			e := asError(err)
			lvl := slog.LevelInfo
			if e.Code == CodeInternal {
				lvl = slog.LevelError
			}
			s.log.Log(r.Context(), lvl, "request failed", "path", r.URL.Path, "code", e.Code, "message", e.Message, "cause", e.Err)
			writeEnvelope(w, failure(e))
			return
		}
		if data == nil {
			writeEnvelope(w, envelope{Success: true})
			return
		}
		if c, ok := data.(coded); ok {
			writeEnvelope(w, envelope{Data: c.data, Code: &c.code, Message: &c.message, Success: true})
			return
		}
		if raw, ok := data.(rawEnvelope); ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(raw)
			return
		}
		writeEnvelope(w, envelope{Data: data, Success: true})
	})
}

// rawEnvelope is a complete response body, already encoded.
type rawEnvelope []byte

func failure(e *Error) envelope {
	data := map[string]any{
		"errorCode": e.Code, "sqlState": e.SQLState, "internalError": false, "age": 0,
	}
	if qe, ok := e.Err.(interface{ QueryID() string }); ok {
		data["queryId"] = qe.QueryID()
	}
	code, msg := e.Code, e.Message
	return envelope{Data: data, Code: &code, Message: &msg}
}

func writeEnvelope(w http.ResponseWriter, env envelope) {
	w.Header().Set("Content-Type", "application/json")
	b, err := json.Marshal(env)
	if err != nil {
		b = []byte(`{"data":{},"code":"390500","message":"internal error encoding the response","success":false}`)
	}
	_, _ = w.Write(b)
}

var gzipMagic = []byte{0x1f, 0x8b}

// readBody reads a request body of at most limit bytes after decompression.
// Bodies are gzip-compressed when they start with gzip's magic bytes,
// whatever Content-Encoding says: drivers disagree on setting it.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, newError(CodeBadRequest, "08P01", "could not read the request body", err)
	}
	if int64(len(raw)) > limit {
		return nil, newError(CodeStatementTooLarge, "54000", fmt.Sprintf("request body larger than %d bytes", limit), nil)
	}
	if !bytes.HasPrefix(raw, gzipMagic) {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, newError(CodeBadRequest, "08P01", "request body is not valid gzip", err)
	}
	// Too large first: a stream that fails after the limit is too large
	// whatever comes after, as one whose compressed size is.
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if int64(len(out)) > limit {
		return nil, newError(CodeStatementTooLarge, "54000", fmt.Sprintf("decompressed request body larger than %d bytes", limit), nil)
	}
	if err != nil {
		return nil, newError(CodeBadRequest, "08P01", "request body is not valid gzip", err)
	}
	return out, nil
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, limit int64, v any) error {
	b, err := readBody(r, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return newError(CodeBadRequest, "08P01", "request body is not the JSON snowgate expects: "+jsonProblem(err), err)
	}
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q should be %s, not %s", te.Field, te.Type, te.Value)
	}
	return "malformed"
}
