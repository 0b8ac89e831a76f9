package mcp

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
)

// QueryResult is what run_query answers: the statements' results, or the
// approval requests that must be approved before anything runs.
type QueryResult struct {
	// Status is "ok" (the statements ran) or "approval_required"
	// (nothing ran; see Approvals).
	Status    string            `json:"status"`
	Results   []StatementResult `json:"results,omitempty"`
	Approvals []Decision        `json:"approvals,omitempty"`
	Message   string            `json:"message,omitempty"`
}

// StatementResult is one statement's result set, values as the gateway
// returned them (masked where the policy masks them).
type StatementResult struct {
	Columns   []Column         `json:"columns"`
	Rows      []map[string]any `json:"rows"`
	RowCount  int              `json:"row_count"`
	Truncated bool             `json:"truncated,omitempty"` // more rows than max_rows
}

// Column names a result column and its Snowflake type.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Decision is the gateway's decision on one statement.
type Decision struct {
	Statement  int               `json:"statement"` // position in the request, from 0
	SQL        string            `json:"sql"`
	Kind       string            `json:"kind,omitempty"`
	Action     string            `json:"action"` // allow, mask, deny or require_approval
	Reasons    []string          `json:"reasons,omitempty"`
	Masks      map[string]string `json:"masks,omitempty"`    // source column → strategy
	Approval   *engine.Approval  `json:"approval,omitempty"` // who must approve
	DecisionID string            `json:"decision_id"`
	Revision   string            `json:"policy_revision,omitempty"`
	// Request is the approval request, once one is open.
	Request *ApprovalRequest `json:"approval_request,omitempty"`
}

// ApprovalRequest names an approval request and where approvers act on it.
type ApprovalRequest struct {
	ID        string    `json:"id"`
	State     string    `json:"state"`
	Page      string    `json:"page,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

func decisionOf(st proxy.ExplainStatement) Decision {
	d := st.Decision
	out := Decision{Statement: st.Index, SQL: st.SQL, Kind: st.Kind, Action: string(d.Action), Reasons: d.Reasons,
		Masks: d.Masks, Approval: d.Approval, DecisionID: d.ID, Revision: d.Revision}
	if a := st.Approval; a != nil {
		out.Request = &ApprovalRequest{ID: a.ID, State: a.State, Page: a.Page, ExpiresAt: a.ExpiresAt}
	}
	return out
}

// ticketMessage tells the host what to do with held statements.
func ticketMessage(held []Decision) string {
	var b strings.Builder
	for _, d := range held {
		if d.Request == nil {
			continue
		}
		why := strings.Join(d.Reasons, "; ")
		if d.Approval != nil && d.Approval.Why != "" {
			why = d.Approval.Why
		}
		fmt.Fprintf(&b, "Statement %d requires approval (request %s): %s.", d.Statement, d.Request.ID, why)
		if d.Approval != nil && len(d.Approval.Groups) > 0 {
			fmt.Fprintf(&b, " An approver in %s must approve it", strings.Join(d.Approval.Groups, " or "))
		} else {
			b.WriteString(" An approver must approve it")
		}
		if d.Request.Page != "" {
			b.WriteString(" at " + d.Request.Page)
		}
		fmt.Fprintf(&b, "; then call wait_for_approval with request_id %s (decision %s). ", d.Request.ID, d.DecisionID)
	}
	b.WriteString("Nothing was run.")
	return b.String()
}

// readRows reads one result set, at most max rows of it.
func readRows(rows *sql.Rows, max int) (StatementResult, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return StatementResult{}, err
	}
	res := StatementResult{Columns: make([]Column, len(types)), Rows: []map[string]any{}}
	keys := make([]string, len(types))
	seen := map[string]int{}
	for i, t := range types {
		res.Columns[i] = Column{Name: t.Name(), Type: t.DatabaseTypeName()}
		keys[i] = t.Name()
		if n := seen[t.Name()]; n > 0 {
			keys[i] = t.Name() + "_" + strconv.Itoa(n+1) // SELECT a.id, b.id: both kept
		}
		seen[t.Name()]++
	}
	vals := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if res.RowCount == max {
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return res, err
		}
		row := make(map[string]any, len(vals))
		for i, v := range vals {
			row[keys[i]] = jsonValue(v, res.Columns[i].Type)
		}
		res.Rows = append(res.Rows, row)
		res.RowCount++
	}
	return res, rows.Err()
}

// jsonValue writes a driver value as JSON shows it: text as text (numbers
// stay exact strings, as the gateway sent them), binary in hex, dates and
// times in Snowflake's default output formats.
func jsonValue(v any, typ string) any {
	switch x := v.(type) {
	case []byte:
		return strings.ToUpper(hex.EncodeToString(x))
	case time.Time:
		switch strings.ToUpper(typ) {
		case "DATE":
			return x.Format("2006-01-02")
		case "TIME":
			return x.Format("15:04:05.999999999")
		case "TIMESTAMP_NTZ":
			return x.Format("2006-01-02 15:04:05.999999999")
		}
		return x.Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
	}
	return v
}

// names reads the "name" column of SHOW output.
func names(r StatementResult) []string {
	out := []string{}
	for _, c := range r.Columns {
		if !strings.EqualFold(c.Name, "name") {
			continue
		}
		for _, row := range r.Rows {
			if s, ok := row[c.Name].(string); ok {
				out = append(out, s)
			}
		}
		break
	}
	return out
}
