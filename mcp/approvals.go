package mcp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/snowgate/snowgate/proxy/approval"
)

// RequestInfo is an approval request as the approvals API shows its
// requester.
type RequestInfo struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	SQL       string     `json:"sql"`
	Requester string     `json:"requester"`
	Groups    []string   `json:"groups,omitempty"`
	Votes     []VoteInfo `json:"votes,omitempty"`
	ExpiresAt time.Time  `json:"expires_at"`
}

// VoteInfo is one approver's vote.
type VoteInfo struct {
	By      string `json:"by"`
	Approve bool   `json:"approve"`
	Reason  string `json:"reason,omitempty"`
}

func requestInfo(r *approval.Request) *RequestInfo {
	info := &RequestInfo{ID: r.ID, State: string(r.State), SQL: r.SQL, Requester: pick(r.Requester.Email, r.Requester.Subject),
		Groups: r.Groups, ExpiresAt: r.ExpiresAt}
	for _, v := range r.Votes {
		info.Votes = append(info.Votes, VoteInfo{By: pick(v.By.Email, v.By.Subject), Approve: v.Approve, Reason: v.Reason})
	}
	return info
}

func (s *Server) waitForApproval(ctx context.Context, req *sdk.CallToolRequest, in waitArgs) (*sdk.CallToolResult, WaitResult, error) {
	if s.cfg.Admin == "" {
		return nil, WaitResult{}, errors.New("snowgate mcp was started without the admin API's address (--admin), so it cannot follow approvals")
	}
	id := strings.TrimSpace(in.RequestID)
	if id == "" {
		return nil, WaitResult{}, errors.New("request_id is required")
	}
	token, _, err := s.callerOf(req)
	if err != nil {
		return nil, WaitResult{}, err
	}
	wait := DefaultWait
	if in.TimeoutSeconds > 0 {
		wait = min(time.Duration(in.TimeoutSeconds)*time.Second, MaxWait)
	}
	deadline := time.Now().Add(wait)
	var r *approval.Request
	for {
		if r, err = s.approvalRequest(ctx, token, id); err != nil {
			return nil, WaitResult{}, err
		}
		if r.State != approval.Pending || !time.Now().Add(pollInterval).Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, WaitResult{}, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	out := WaitResult{Status: string(r.State), Request: requestInfo(r)}
	switch r.State {
	case approval.Pending:
		out.Message = fmt.Sprintf("Request %s is still pending after %s; nothing was run. Call wait_for_approval again to keep waiting.", r.ID, wait)
		return nil, out, nil
	case approval.Rejected:
		out.Message = "The request was rejected; nothing was run."
		for _, v := range out.Request.Votes {
			if !v.Approve {
				out.Message = fmt.Sprintf("The request was rejected by %s: %s. Nothing was run.", v.By, pick(v.Reason, "no reason given"))
			}
		}
		return nil, out, nil
	case approval.Expired:
		out.Message = "The request expired before anyone approved it; nothing was run. Run the statement again to ask again."
		return nil, out, nil
	case approval.Used:
		out.Message = "The approval was already used: the statement ran once. Run it again to ask again."
		return nil, out, nil
	case approval.Approved:
	default:
		out.Message = "The request is " + string(r.State) + "; nothing was run."
		return nil, out, nil
	}
	who, err := s.whoami(ctx, token)
	if err != nil {
		return nil, WaitResult{}, err
	}
	if who != r.Requester.Subject {
		out.Message = "The request is approved, but only its requester can run it; nothing was run."
		return nil, out, nil
	}
	var res QueryResult
	err = s.session(ctx, req, func(c *caller, conn *sql.Conn) (*sql.Conn, error) {
		var err error
		res, conn, err = c.run(ctx, conn, "wait_for_approval", r.SQL, s.cfg.MaxRows)
		return conn, err
	})
	if err != nil {
		return nil, WaitResult{}, toolError(err)
	}
	out.Result = &res
	out.Status, out.Message = "ran", "Approved by "+approvers(out.Request)+"; the statement ran once."
	if res.Status != "ok" {
		out.Status, out.Message = res.Status, res.Message
	}
	return nil, out, nil
}

func approvers(r *RequestInfo) string {
	var by []string
	for _, v := range r.Votes {
		if v.Approve {
			by = append(by, v.By)
		}
	}
	return pick(strings.Join(by, ", "), "an approver")
}

// approvalRequest reads a request from the approvals API as the caller:
// requesters see their own requests.
func (s *Server) approvalRequest(ctx context.Context, token, id string) (*approval.Request, error) {
	var r approval.Request
	if err := s.adminGet(ctx, token, "/api/v1/approvals/"+url.PathEscape(id), &r); err != nil {
		return nil, fmt.Errorf("approval request %s: %w", id, err)
	}
	return &r, nil
}

// whoami is the caller's subject as the approvals API verified it.
func (s *Server) whoami(ctx context.Context, token string) (string, error) {
	var who struct {
		Subject string `json:"subject"`
	}
	if err := s.adminGet(ctx, token, "/api/v1/whoami", &who); err != nil {
		return "", fmt.Errorf("who am I: %w", err)
	}
	return who.Subject, nil
}

func (s *Server) adminGet(ctx context.Context, token, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.cfg.Admin, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: s.cfg.transport()}).Do(req)
	if err != nil {
		return fmt.Errorf("approvals API: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("approvals API: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("approvals API: %s: %s", resp.Status, pick(e.Error, strings.TrimSpace(string(b))))
	}
	return json.Unmarshal(b, v)
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
