package mcp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
)

// The tools' arguments.
type (
	runQueryArgs struct {
		SQL     string `json:"sql" jsonschema:"the SQL to run: one statement, or several separated by semicolons"`
		MaxRows int    `json:"max_rows,omitempty" jsonschema:"the most rows to return per statement (default 500)"`
	}
	sqlArgs struct {
		SQL string `json:"sql" jsonschema:"the SQL: one statement, or several separated by semicolons"`
	}
	noArgs          struct{}
	listSchemasArgs struct {
		Database string `json:"database,omitempty" jsonschema:"the database (default: the session's)"`
	}
	listTablesArgs struct {
		Database string `json:"database,omitempty" jsonschema:"the database (default: the session's)"`
		Schema   string `json:"schema,omitempty" jsonschema:"the schema (default: the session's, or every schema of database)"`
	}
	describeArgs struct {
		Table string `json:"table" jsonschema:"the table, as SQL names it: NAME, SCHEMA.NAME or DATABASE.SCHEMA.NAME"`
	}
	waitArgs struct {
		RequestID      string `json:"request_id" jsonschema:"the approval request's id (apr-...)"`
		TimeoutSeconds int    `json:"timeout_seconds,omitempty" jsonschema:"how long to wait for a decision (default 60, at most 900)"`
	}
)

// The tools' answers besides QueryResult.
type (
	// ListResult is the output of SHOW: the names, and the rows as shown.
	ListResult struct {
		Names []string         `json:"names"`
		Rows  []map[string]any `json:"rows"`
	}
	// Explanation lists the gateway's decision on each statement.
	Explanation struct {
		Statements []Decision `json:"statements"`
	}
	// WaitResult is what came of waiting for an approval request.
	WaitResult struct {
		// Status: pending (still, at the timeout), rejected, expired, used
		// (already run once), ran (approved and run: see Result), or
		// approval_required (approved, but the gateway asks again: see
		// Result).
		Status  string       `json:"status"`
		Request *RequestInfo `json:"request"`
		Result  *QueryResult `json:"result,omitempty"`
		Message string       `json:"message,omitempty"`
	}
)

func (s *Server) addTools() {
	readOnly := &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(false)}
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "run_query", Description: "Run SQL through snowgate as the signed-in caller. " +
		"Rows come back as JSON, masked where policy masks them. A denied statement is an error (003001) with the reasons; " +
		"a statement that needs approval is not run: the answer names the approval request and its page (status approval_required).",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: new(true), OpenWorldHint: new(false)}}, s.runQuery)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "list_databases", Description: "List the databases (SHOW DATABASES).", Annotations: readOnly}, s.listDatabases)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "list_schemas", Description: "List the schemas of a database (SHOW SCHEMAS).", Annotations: readOnly}, s.listSchemas)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "list_tables", Description: "List the tables of a schema or database (SHOW TABLES).", Annotations: readOnly}, s.listTables)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "describe_table", Description: "Describe a table's columns (DESCRIBE TABLE).", Annotations: readOnly}, s.describeTable)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "explain_decision", Description: "What the policy would decide for you on SQL, without running it: " +
		"allow, mask (which columns), deny (why) or require_approval (who must approve). The evaluation is recorded in the audit trail.",
		Annotations: readOnly}, s.explainDecision)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "request_approval", Description: "Open the approval request for SQL that needs one (or return the one " +
		"already open or approved), without running it. Returns the request id and the page where approvers act.",
		Annotations: &sdk.ToolAnnotations{OpenWorldHint: new(false)}}, s.requestApproval)
	sdk.AddTool(s.mcp, &sdk.Tool{Name: "wait_for_approval", Description: "Wait, up to timeout_seconds, for an approval request to be decided; " +
		"once approved, run its statement once and return the result.",
		Annotations: &sdk.ToolAnnotations{DestructiveHint: new(true), OpenWorldHint: new(false)}}, s.waitForApproval)
}

// session runs f with the tool call's caller and their gateway session.
func (s *Server) session(ctx context.Context, req *sdk.CallToolRequest, f func(c *caller, conn *sql.Conn) (*sql.Conn, error)) error {
	token, mcpSession, err := s.callerOf(req)
	if err != nil {
		return err
	}
	c, fresh, err := s.pool.acquire(token, mcpSession)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	if fresh && mcpSession != "" {
		go func() { // the host's MCP session ended: so does the gateway session
			_ = req.Session.Wait()
			s.pool.drop(c.key)
		}()
	}
	conn, err := c.conn(ctx)
	if err != nil {
		return err
	}
	conn, err = f(c, conn)
	if conn != nil {
		conn.Close()
	}
	return err
}

// callerOf returns the caller's token: the bearer token over HTTP, the
// configured one over stdio.
func (s *Server) callerOf(req *sdk.CallToolRequest) (token, mcpSession string, err error) {
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		if tok, _ := req.Extra.TokenInfo.Extra[tokenKey].(string); tok != "" {
			return tok, req.Session.ID(), nil
		}
	}
	if s.stdio != "" {
		return s.stdio, "", nil
	}
	return "", "", errors.New("no caller token: sign in with an OIDC token")
}

func (s *Server) runQuery(ctx context.Context, req *sdk.CallToolRequest, in runQueryArgs) (*sdk.CallToolResult, QueryResult, error) {
	max := s.cfg.MaxRows
	if in.MaxRows > 0 && in.MaxRows < max {
		max = in.MaxRows
	}
	var out QueryResult
	err := s.session(ctx, req, func(c *caller, conn *sql.Conn) (*sql.Conn, error) {
		var err error
		out, conn, err = c.run(ctx, conn, "run_query", in.SQL, max)
		return conn, err
	})
	return nil, out, toolError(err)
}

// run runs sqlText as a driver would, except that it first asks the
// gateway for its decisions so that a statement needing approval is
// answered with its request at once instead of being held.
func (c *caller) run(ctx context.Context, conn *sql.Conn, tool, sqlText string, max int) (QueryResult, *sql.Conn, error) {
	if strings.TrimSpace(sqlText) == "" {
		return QueryResult{}, conn, errors.New("sql is empty")
	}
	ex, conn, err := c.explain(ctx, conn, sqlText, true)
	if err != nil {
		return QueryResult{}, conn, err
	}
	if held := heldBack(ex); len(held) > 0 {
		return QueryResult{Status: "approval_required", Approvals: held, Message: ticketMessage(held)}, conn, nil
	}
	qctx, err := sf.WithMultiStatement(ctx, 0)
	if err != nil {
		return QueryResult{}, conn, err
	}
	qctx = sf.WithQueryTag(qctx, ClientApp+":"+tool)
	rows, err := conn.QueryContext(qctx, sqlText)
	if err != nil {
		code, _ := errorCode(err)
		switch {
		case fmt.Sprintf("%06d", code) == proxy.CodeApprovalRequired:
			// The policy changed its mind since it was asked: name the request.
			var again *proxy.Explanation
			if again, conn, _ = c.explain(ctx, conn, sqlText, true); again != nil {
				if held := heldBack(again); len(held) > 0 {
					return QueryResult{Status: "approval_required", Approvals: held, Message: ticketMessage(held)}, conn, nil
				}
			}
		case sessionGone(code):
			discard(conn)
			conn = nil
		}
		return QueryResult{}, conn, err
	}
	defer rows.Close()
	out := QueryResult{Status: "ok"}
	for {
		res, err := readRows(rows, max)
		if err != nil {
			return QueryResult{}, conn, err
		}
		out.Results = append(out.Results, res)
		if !rows.NextResultSet() {
			break
		}
	}
	return out, conn, rows.Err()
}

// heldBack lists the statements that need an approval not yet given.
func heldBack(ex *proxy.Explanation) []Decision {
	var held []Decision
	for _, st := range ex.Statements {
		if st.Decision.Action != engine.ActionRequireApproval {
			continue
		}
		if st.Approval != nil && st.Approval.State == "approved" {
			continue // the gateway uses the approval when the statement runs
		}
		held = append(held, decisionOf(st))
	}
	return held
}

func (s *Server) listDatabases(ctx context.Context, req *sdk.CallToolRequest, _ noArgs) (*sdk.CallToolResult, ListResult, error) {
	return s.show(ctx, req, "list_databases", "SHOW DATABASES")
}

func (s *Server) listSchemas(ctx context.Context, req *sdk.CallToolRequest, in listSchemasArgs) (*sdk.CallToolResult, ListResult, error) {
	if in.Database == "" {
		return s.show(ctx, req, "list_schemas", "SHOW SCHEMAS")
	}
	db, err := identifier(in.Database, 1)
	if err != nil {
		return nil, ListResult{}, err
	}
	return s.show(ctx, req, "list_schemas", "SHOW SCHEMAS IN DATABASE "+db)
}

func (s *Server) listTables(ctx context.Context, req *sdk.CallToolRequest, in listTablesArgs) (*sdk.CallToolResult, ListResult, error) {
	q := "SHOW TABLES"
	var parts []string
	for _, p := range []string{in.Database, in.Schema} {
		if p == "" {
			continue
		}
		id, err := identifier(p, 1)
		if err != nil {
			return nil, ListResult{}, err
		}
		parts = append(parts, id)
	}
	switch {
	case in.Schema != "":
		q += " IN SCHEMA " + strings.Join(parts, ".")
	case in.Database != "":
		q += " IN DATABASE " + parts[0]
	}
	return s.show(ctx, req, "list_tables", q)
}

func (s *Server) show(ctx context.Context, req *sdk.CallToolRequest, tool, q string) (*sdk.CallToolResult, ListResult, error) {
	res, err := s.one(ctx, req, tool, q)
	if err != nil {
		return nil, ListResult{}, err
	}
	return nil, ListResult{Names: names(res), Rows: res.Rows}, nil
}

func (s *Server) describeTable(ctx context.Context, req *sdk.CallToolRequest, in describeArgs) (*sdk.CallToolResult, StatementResult, error) {
	t, err := identifier(in.Table, 3)
	if err != nil {
		return nil, StatementResult{}, err
	}
	res, err := s.one(ctx, req, "describe_table", "DESCRIBE TABLE "+t)
	return nil, res, err
}

// one runs a statement the front door wrote and returns its result.
func (s *Server) one(ctx context.Context, req *sdk.CallToolRequest, tool, q string) (StatementResult, error) {
	var out QueryResult
	err := s.session(ctx, req, func(c *caller, conn *sql.Conn) (*sql.Conn, error) {
		var err error
		out, conn, err = c.run(ctx, conn, tool, q, s.cfg.MaxRows)
		return conn, err
	})
	switch {
	case err != nil:
		return StatementResult{}, toolError(err)
	case out.Status != "ok":
		return StatementResult{}, errors.New(out.Message)
	case len(out.Results) != 1:
		return StatementResult{}, fmt.Errorf("%s answered %d results", q, len(out.Results))
	}
	return out.Results[0], nil
}

func (s *Server) explainDecision(ctx context.Context, req *sdk.CallToolRequest, in sqlArgs) (*sdk.CallToolResult, Explanation, error) {
	return s.decisions(ctx, req, in.SQL, false)
}

func (s *Server) requestApproval(ctx context.Context, req *sdk.CallToolRequest, in sqlArgs) (*sdk.CallToolResult, Explanation, error) {
	return s.decisions(ctx, req, in.SQL, true)
}

func (s *Server) decisions(ctx context.Context, req *sdk.CallToolRequest, sqlText string, open bool) (*sdk.CallToolResult, Explanation, error) {
	if strings.TrimSpace(sqlText) == "" {
		return nil, Explanation{}, errors.New("sql is empty")
	}
	out := Explanation{Statements: []Decision{}}
	err := s.session(ctx, req, func(c *caller, conn *sql.Conn) (*sql.Conn, error) {
		ex, conn, err := c.explain(ctx, conn, sqlText, open)
		if err != nil {
			return conn, err
		}
		for _, st := range ex.Statements {
			out.Statements = append(out.Statements, decisionOf(st))
		}
		return conn, nil
	})
	return nil, out, toolError(err)
}

// identifier checks a name the host gave for one of the front door's own
// statements: up to parts dot-separated identifiers, unquoted or quoted.
func identifier(name string, parts int) (string, error) {
	name = strings.TrimSpace(name)
	re := oneName
	if parts > 1 {
		re = qualifiedName
	}
	if !re.MatchString(name) {
		return "", fmt.Errorf("%q is not a name snowgate mcp accepts here: use NAME or \"Quoted Name\"%s", name,
			map[bool]string{true: ", qualified with dots", false: ""}[parts > 1])
	}
	return name, nil
}

const identPart = `(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")`

var (
	oneName       = regexp.MustCompile(`^` + identPart + `$`)
	qualifiedName = regexp.MustCompile(`^` + identPart + `(?:\.` + identPart + `){0,2}$`)
)

// toolError is a failure as the host sees it: a gateway error with its
// code and message (003001 with the reasons and decision id for a
// denial), anything else as it is.
func toolError(err error) error {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		msg := se.Message
		if msg == "" {
			msg = se.Error()
		}
		state := ""
		if se.SQLState != "" {
			state = " (" + se.SQLState + ")"
		}
		return fmt.Errorf("%06d%s: %s", se.Number, state, msg)
	}
	return err
}
