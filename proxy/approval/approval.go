// Package approval holds statements that the policy says need a human's
// approval: requests bound to the exact statement and the identity that
// sent it, approvers' votes, expiry, and single use. State lives in a Store
// (SQLite by default, in memory for tests) so it survives restarts.
package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is where a request is in its life.
type State string

// The states. pending → approved → used, or pending → rejected | expired.
const (
	Pending  State = "pending"
	Approved State = "approved"
	Rejected State = "rejected"
	Expired  State = "expired"
	Used     State = "used"
)

// Person is a human, and the agent acting for them if any.
type Person struct {
	Subject string `json:"subject"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	Agent   string `json:"agent,omitempty"`
}

// Vote is one approver's decision.
type Vote struct {
	By      Person    `json:"by"`
	Approve bool      `json:"approve"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// Request is one statement waiting for, or holding, an approval.
type Request struct {
	ID          string    `json:"id"`
	State       State     `json:"state"`
	SQL         string    `json:"sql"`
	SQLHash     string    `json:"sql_hash"`    // the exact statement text: approval runs this statement, not a look-alike
	Fingerprint string    `json:"fingerprint"` // the normalised statement
	Requester   Person    `json:"requester"`
	Objects     []string  `json:"objects"`
	Why         string    `json:"why"`     // why the policy held it
	Reasons     []string  `json:"reasons"` // the decision's reasons
	DecisionID  string    `json:"decision_id"`
	Groups      []string  `json:"groups"` // an approver must be in one of these
	Count       int       `json:"count"`  // distinct approvers needed
	Votes       []Vote    `json:"votes"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int       `json:"version"` // bumped by every update: the store's compare-and-set
}

// Approvals counts the approving votes.
func (r *Request) Approvals() int {
	n := 0
	for _, v := range r.Votes {
		if v.Approve {
			n++
		}
	}
	return n
}

// Errors an approver can meet; each says what went wrong.
var (
	ErrNotFound     = errors.New("no such approval request")
	ErrNotPending   = errors.New("the request is no longer pending")
	ErrSelfApproval = errors.New("the requester cannot approve their own request")
	ErrNotApprover  = errors.New("you are not in a group that may approve this request")
	ErrAlreadyVoted = errors.New("you have already voted on this request")
	ErrConflict     = errors.New("the request changed meanwhile; try again")
)

// Store keeps requests. Update is a compare-and-set on the state the
// caller read, so that two replicas cannot both use one approval.
type Store interface {
	Create(ctx context.Context, r *Request) error
	Get(ctx context.Context, id string) (*Request, error)
	List(ctx context.Context, states ...State) ([]*Request, error)
	Update(ctx context.Context, r *Request, from State) error
	Close() error
}

// checkVote enforces who may vote.
func checkVote(r *Request, by Person, groups []string, now time.Time) error {
	if r.State != Pending {
		return fmt.Errorf("%w (it is %s)", ErrNotPending, r.State)
	}
	if !now.Before(r.ExpiresAt) {
		return fmt.Errorf("%w (it expired at %s)", ErrNotPending, r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if by.Subject == r.Requester.Subject {
		return ErrSelfApproval
	}
	if by.Agent != "" {
		return fmt.Errorf("%w: approvals come from people, not agents (%s)", ErrNotApprover, by.Agent)
	}
	if !slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(r.Groups, g) }) {
		return fmt.Errorf("%w: one of %v", ErrNotApprover, r.Groups)
	}
	for _, v := range r.Votes {
		if v.By.Subject == by.Subject {
			return ErrAlreadyVoted
		}
	}
	return nil
}
