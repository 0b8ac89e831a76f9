package proxy

// The read side of Snowflake's REST API, as snowflake.core's Root calls it
// (Snowflake's MCP server describes objects with it): databases, schemas,
// tables and views, fetched one at a time or listed.
//
//	GET /api/v2/databases                                       SHOW DATABASES
//	GET /api/v2/databases/{database}                            SHOW DATABASES LIKE '<database>'
//	GET /api/v2/databases/{database}/schemas                    SHOW SCHEMAS IN DATABASE "db"
//	GET /api/v2/databases/{database}/schemas/{schema}           SHOW SCHEMAS LIKE '<schema>' IN DATABASE "db"
//	GET /api/v2/databases/{database}/schemas/{schema}/tables    SHOW TABLES IN SCHEMA "db"."schema" (deep: and DESCRIBE TABLE of each)
//	GET /api/v2/databases/{database}/schemas/{schema}/tables/{name}
//	                    SHOW TABLES LIKE '<name>' IN SCHEMA "db"."schema", DESCRIBE TABLE "db"."schema"."name"
//	GET /api/v2/databases/{database}/schemas/{schema}/views     as tables, with SHOW VIEWS and DESCRIBE VIEW
//	GET /api/v2/databases/{database}/schemas/{schema}/views/{name}
//	Authorization: Snowflake Token="<session token>"
//
// Lists take snowflake.core's query parameters like, startsWith, showLimit,
// fromName, history (databases, schemas and tables) and deep (tables and
// views), which become the SHOW's clauses. Names in the path are
// identifiers, as in SQL: unquoted ones are upper-cased, "quoted" ones kept
// exactly; the statements quote every name, and a LIKE that fetches one
// object escapes its wildcards, so that only that object's row is read.
//
// Each statement runs through the session's pipeline as the query path
// runs a statement (execute): analysed, decided by the policy, recorded in
// the audit trail under the request's id, run upstream as the caller and
// masked. Nothing is decided here: a statement the policy refuses fails
// the request with its 003001 message. The answers are the JSON of
// snowflake.core's models (Database, Schema, Table, View), built from the
// rows of the SHOW and DESCRIBE forms Snowflake documents; names in them
// are written as an identifier reads them back (quoteName). Failures are
// HTTP errors whose body is snowflake.core's ErrorResponse: message, code,
// error_code (the Snowflake code) and request_id.
//
// Everything else under /api/v2 (writes, actions such as :clone, other
// resources) is refused: it would change or read what no statement of the
// caller's was decided on.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Snowflake's codes for objects that do not exist, which the REST API
// answers with 404.
const (
	codeObjectMissing    = "002003" // a table or view
	codeContainerMissing = "002043" // a database or schema
)

// restServed is what the refusals name as served.
const restServed = "of Snowflake's REST API snowgate serves only reads (GET) of databases, schemas, tables and views " +
	"(/api/v2/databases[/{database}[/schemas[/{schema}[/tables|views[/{name}]]]]]), each answered with the SHOW and DESCRIBE " +
	"statements a client would send, decided as yours; send anything else as SQL, where it is decided"

func (s *Server) restRoutes() {
	const db, sc = "/api/v2/databases/{database}", "/api/v2/databases/{database}/schemas/{schema}"
	for pattern, h := range map[string]restHandler{
		"/api/v2/databases":   restListDatabases,
		db:                    restFetchDatabase,
		db + "/schemas":       restListSchemas,
		sc:                    restFetchSchema,
		sc + "/tables":        restListTables,
		sc + "/tables/{name}": restFetchTable,
		sc + "/views":         restListViews,
		sc + "/views/{name}":  restFetchView,
		"/api/v2/":            nil, // everything else: refused
	} {
		s.mux.HandleFunc(pattern, s.rest(h))
	}
	// Snowflake's SQL API is another protocol, with its own authentication
	// and errors: snowgate does not speak it, and answers it as any other
	// endpoint it does not serve.
	for _, pattern := range []string{"/api/v2/statements", "/api/v2/statements/"} {
		s.handle(pattern, func(w http.ResponseWriter, r *http.Request) (any, error) {
			return nil, newError(CodeNotFound, "08001", fmt.Sprintf("snowgate does not serve %s %s", r.Method, r.URL.Path), nil)
		})
	}
}

// restHandler answers one REST read.
type restHandler func(ctx context.Context, c *restCall) (any, error)

// restCall is one REST request of a session.
type restCall struct {
	s    *Server
	sess *session
	r    *http.Request
	id   string // the request's id: request_id in errors, the request of its statements in the audit trail
}

// rest wraps a REST handler: the session, the refusals, and every answer
// as JSON with its HTTP status. A nil handler refuses every request.
func (s *Server) rest(h restHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &restCall{s: s, r: r, id: uuid.NewString()}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				c.fail(w, newError(CodeInternal, "XX000", "internal error in snowgate; see the gateway log", nil))
			}
		}()
		segs := strings.Split(r.URL.EscapedPath(), "/")
		switch {
		case h == nil || strings.Contains(segs[len(segs)-1], ":"): // other resources, actions (names escape their colons)
			c.fail(w, newError(CodeNotFound, "0A000", fmt.Sprintf("snowgate does not serve %s %s: %s", r.Method, r.URL.Path, restServed), nil))
			return
		case r.Method != http.MethodGet:
			w.Header().Set("Allow", http.MethodGet)
			c.fail(w, newError(CodeUnsupported, "0A000", fmt.Sprintf("snowgate refuses %s %s: %s", r.Method, r.URL.Path, restServed), nil))
			return
		}
		var err error
		if c.sess, err = s.authSession(r); err != nil {
			c.fail(w, asError(err))
			return
		}
		// The statements end when the client leaves or the server shuts down.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(s.ctx, cancel)()
		v, err := h(ctx, c)
		if r.Context().Err() != nil {
			s.log.Info("client left before its answer", "path", r.URL.Path, "session", c.sess.id)
			return
		}
		if err != nil {
			c.fail(w, asError(err))
			return
		}
		writeRESTJSON(w, http.StatusOK, v)
	}
}

// restError is snowflake.core's ErrorResponse.
type restError struct {
	Message   string `json:"message"`
	Code      string `json:"code"`
	ErrorCode string `json:"error_code"`
	RequestID string `json:"request_id"`
}

func (c *restCall) fail(w http.ResponseWriter, e *Error) {
	status := restStatus(e.Code, c.r.Method)
	attrs := []any{"path", c.r.URL.Path, "request", c.id, "status", status, "code", e.Code, "message", e.Message, "cause", e.Err}
	if c.sess != nil {
		attrs = append(attrs, "session", c.sess.id)
	}
	if status >= 500 && status != http.StatusNotImplemented && status != http.StatusServiceUnavailable {
		c.s.log.Error("REST request failed", attrs...)
	} else {
		c.s.log.Info("REST request failed", attrs...)
	}
	writeRESTJSON(w, status, restError{Message: e.Message, Code: e.Code, ErrorCode: e.Code, RequestID: c.id})
}

// restStatus is the HTTP status of a failure: snowflake.core raises
// NotFoundError for 404, ForbiddenError for 403 and renews the session on
// 401 with error_code 390112.
func restStatus(code, method string) int {
	switch code {
	case codeObjectMissing, codeContainerMissing:
		return http.StatusNotFound
	case CodeAccessDenied, CodeApprovalRequired, CodeApprovalRejected, CodeApprovalExpired:
		return http.StatusForbidden
	case CodeSessionExpired, CodeSessionGone, CodeSessionInvalid, CodeMasterExpired, CodeOAuthInvalid, CodeOAuthExpired:
		return http.StatusUnauthorized
	case CodePolicyUnavailable, CodeAuditUnavailable, CodeCredentials, CodeCanceled:
		return http.StatusServiceUnavailable
	case CodeInternal, CodeUpstream:
		return http.StatusInternalServerError
	case CodeNotFound: // an endpoint snowgate does not serve
		return http.StatusNotImplemented
	case CodeUnsupported:
		if method != http.MethodGet {
			return http.StatusMethodNotAllowed
		}
	}
	return http.StatusBadRequest
}

func writeRESTJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"internal error encoding the response","code":"390500","error_code":"390500"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// run runs one statement through the session's pipeline, as the query
// path runs a request's statement, and returns its rows.
func (c *restCall) run(ctx context.Context, sql string) ([]catalogRow, error) {
	q, qctx := newQuery(ctx, c.sess, c.id, sql)
	q.arrow = false // the gateway reads these results itself (readRows)
	defer q.cancelCtx()
	res, err := c.s.execute(qctx, q, queryRequest{SQLText: sql}, nil)
	if err != nil {
		e := asError(err)
		return nil, &Error{Code: e.Code, SQLState: e.SQLState, Message: e.Message + " [statement: " + sql + "]", Err: e.Err}
	}
	defer res.close()
	rows, err := readRows(res)
	if err != nil {
		return nil, newError(CodeInternal, "XX000", "snowgate could not read the result of "+sql, err)
	}
	return rows, nil
}

// ident is a path segment read as an identifier.
func (c *restCall) ident(key string) (string, error) {
	raw := c.r.PathValue(key)
	t, ok := identifier(raw)
	if !ok {
		return "", newError(CodeBadRequest, "22023", fmt.Sprintf("%s %q is not an identifier: a name, or a name in double quotes", key, raw), nil)
	}
	return t.Value, nil
}

// idents reads the path's names in order.
func (c *restCall) idents(keys ...string) ([]string, error) {
	out := make([]string, len(keys))
	for i, k := range keys {
		var err error
		if out[i], err = c.ident(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// one fetches the row of the object named exactly name from a SHOW ...
// LIKE that names it, or answers what Snowflake answers for an object that
// does not exist.
func (c *restCall) one(ctx context.Context, what, name, in string, qualified []string) (catalogRow, error) {
	show := "SHOW " + what + " LIKE " + quoteSQLString(likeExactly(name))
	if in != "" {
		show += " IN " + in
	}
	rows, err := c.run(ctx, show)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if c.s.sameName(r.str("name"), name) {
			return r, nil
		}
	}
	kind := strings.TrimSuffix(strings.ToLower(what), "s")
	code, state := codeObjectMissing, "42S02"
	if what == "DATABASES" || what == "SCHEMAS" {
		code, state = codeContainerMissing, "02000"
	}
	names := make([]string, len(qualified))
	for i, n := range qualified {
		names[i] = quoteName(n)
	}
	return nil, newError(code, state, fmt.Sprintf("%s%s '%s' does not exist or not authorized. [statement: %s]",
		strings.ToUpper(kind[:1]), kind[1:], strings.Join(names, "."), show), nil)
}

func (s *Server) sameName(a, b string) bool {
	if s.cfg.FoldQuotedIdentifiers {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func restFetchDatabase(ctx context.Context, c *restCall) (any, error) {
	n, err := c.idents("database")
	if err != nil {
		return nil, err
	}
	r, err := c.one(ctx, "DATABASES", n[0], "", n)
	if err != nil {
		return nil, err
	}
	return databaseJSON(r), nil
}

func restListDatabases(ctx context.Context, c *restCall) (any, error) {
	o, err := c.listOptions(true, false)
	if err != nil {
		return nil, err
	}
	rows, err := c.run(ctx, o.show("DATABASES", ""))
	if err != nil {
		return nil, err
	}
	out := []object{}
	for _, r := range rows {
		out = append(out, databaseJSON(r))
	}
	return out, nil
}

func restFetchSchema(ctx context.Context, c *restCall) (any, error) {
	n, err := c.idents("database", "schema")
	if err != nil {
		return nil, err
	}
	r, err := c.one(ctx, "SCHEMAS", n[1], "DATABASE "+quoteIdent(n[0]), n)
	if err != nil {
		return nil, err
	}
	return schemaJSON(r), nil
}

func restListSchemas(ctx context.Context, c *restCall) (any, error) {
	n, err := c.idents("database")
	if err != nil {
		return nil, err
	}
	o, err := c.listOptions(true, false)
	if err != nil {
		return nil, err
	}
	rows, err := c.run(ctx, o.show("SCHEMAS", "DATABASE "+quoteIdent(n[0])))
	if err != nil {
		return nil, err
	}
	out := []object{}
	for _, r := range rows {
		out = append(out, schemaJSON(r))
	}
	return out, nil
}

func restFetchTable(ctx context.Context, c *restCall) (any, error) {
	return c.fetchRelation(ctx, "TABLE")
}

func restFetchView(ctx context.Context, c *restCall) (any, error) {
	return c.fetchRelation(ctx, "VIEW")
}

func restListTables(ctx context.Context, c *restCall) (any, error) {
	return c.listRelations(ctx, "TABLE")
}

func restListViews(ctx context.Context, c *restCall) (any, error) {
	return c.listRelations(ctx, "VIEW")
}

// fetchRelation answers a table or view (kind TABLE or VIEW): its SHOW
// row, and its columns from DESCRIBE.
func (c *restCall) fetchRelation(ctx context.Context, kind string) (any, error) {
	n, err := c.idents("database", "schema", "name")
	if err != nil {
		return nil, err
	}
	r, err := c.one(ctx, kind+"S", n[2], "SCHEMA "+quoteIdent(n[0])+"."+quoteIdent(n[1]), n)
	if err != nil {
		return nil, err
	}
	// DESCRIBE the object as SHOW named it: that is the one it found.
	return c.relationJSON(ctx, kind, r, true)
}

func (c *restCall) listRelations(ctx context.Context, kind string) (any, error) {
	n, err := c.idents("database", "schema")
	if err != nil {
		return nil, err
	}
	o, err := c.listOptions(kind == "TABLE", true)
	if err != nil {
		return nil, err
	}
	rows, err := c.run(ctx, o.show(kind+"S", "SCHEMA "+quoteIdent(n[0])+"."+quoteIdent(n[1])))
	if err != nil {
		return nil, err
	}
	out := []object{}
	for _, r := range rows {
		obj, err := c.relationJSON(ctx, kind, r, o.deep)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// relationJSON is a table's or view's model from its SHOW row, with its
// columns when deep.
func (c *restCall) relationJSON(ctx context.Context, kind string, r catalogRow, deep bool) (object, error) {
	var cols []catalogRow
	if deep {
		var err error
		name := quoteIdent(r.str("database_name")) + "." + quoteIdent(r.str("schema_name")) + "." + quoteIdent(r.str("name"))
		if cols, err = c.run(ctx, "DESCRIBE "+kind+" "+name); err != nil {
			return nil, err
		}
	}
	if kind == "VIEW" {
		return viewJSON(r, cols), nil
	}
	return tableJSON(r, cols, deep), nil
}

// listOptions are a list's query parameters.
type listOptions struct {
	like, startsWith, fromName *string
	limit                      int // 0: none
	history, deep              bool
}

func (c *restCall) listOptions(history, deep bool) (listOptions, error) {
	var o listOptions
	q := restQuery(c.r.URL.RawQuery)
	str := func(k string) *string {
		if v, ok := q[k]; ok {
			return &v
		}
		return nil
	}
	flag := func(k string, allowed bool) (bool, error) {
		v, ok := q[k]
		if !ok || !allowed {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, newError(CodeBadRequest, "22023", fmt.Sprintf("%s=%q is not true or false", k, v), nil)
		}
		return b, nil
	}
	o.like, o.startsWith, o.fromName = str("like"), str("startsWith"), str("fromName")
	if v, ok := q["showLimit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return o, newError(CodeBadRequest, "22023", fmt.Sprintf("showLimit=%q is not a number from 1 to 10000", v), nil)
		}
		o.limit = n
	}
	var err error
	if o.history, err = flag("history", history); err != nil {
		return o, err
	}
	o.deep, err = flag("deep", deep)
	return o, err
}

// show is the SHOW statement of a list: SHOW <what> [HISTORY] [LIKE]
// [IN <in>] [STARTS WITH] [LIMIT [FROM]].
func (o listOptions) show(what, in string) string {
	var b strings.Builder
	b.WriteString("SHOW " + what)
	if o.history {
		b.WriteString(" HISTORY")
	}
	if o.like != nil {
		b.WriteString(" LIKE " + quoteSQLString(*o.like))
	}
	if in != "" {
		b.WriteString(" IN " + in)
	}
	if o.startsWith != nil {
		b.WriteString(" STARTS WITH " + quoteSQLString(*o.startsWith))
	}
	if o.limit > 0 || o.fromName != nil {
		limit := o.limit
		if limit == 0 {
			limit = 10000 // FROM needs a LIMIT; snowflake.core's default
		}
		b.WriteString(" LIMIT " + strconv.Itoa(limit))
		if o.fromName != nil {
			b.WriteString(" FROM " + quoteSQLString(*o.fromName))
		}
	}
	return b.String()
}

// restQuery reads a query string as snowflake.core writes it: it escapes
// only &, =, # and what is not printable ASCII, so a % is usually itself
// (like=%ORD%). A %XX is decoded where it makes a valid escape and the
// value stays UTF-8; otherwise the value is taken as it came. + is a plus.
func restQuery(raw string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out[lenientUnescape(k)] = lenientUnescape(v)
	}
	return out
}

func lenientUnescape(s string) string {
	hex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := hex(s[i+1])
			lo, ok2 := hex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	if !utf8.Valid(b) {
		return s
	}
	return string(b)
}

// likeExactly is a LIKE pattern that matches name and nothing else
// (LIKE ignores case: the rows are then matched exactly).
func likeExactly(name string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(name)
}

// quoteIdent double-quotes a name exactly.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
