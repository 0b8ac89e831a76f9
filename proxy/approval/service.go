package approval

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Service.
type Config struct {
	Store      Store
	WebhookURL string           // Slack-compatible incoming webhook; notified when a request opens
	PageURL    string           // where approvers act, shown to clients and in notifications
	Logger     *slog.Logger     // default: discard
	Now        func() time.Time // default: time.Now
	// OnChange, when set, is told about every transition (for the audit trail).
	OnChange func(ctx context.Context, r *Request, by *Person)
}

// Service opens requests, takes votes and hands approvals out once.
type Service struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client

	mu      sync.Mutex
	changed map[string]chan struct{} // closed when the request changes
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger, http: &http.Client{Timeout: 5 * time.Second}, changed: map[string]chan struct{}{}}
}

// HashSQL is the identity of an exact statement text.
func HashSQL(sql string) string {
	s := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(s[:])
}

func newID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "apr-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Open records a new pending request and notifies approvers.
func (s *Service) Open(ctx context.Context, r *Request, ttl time.Duration) (*Request, error) {
	now := s.cfg.Now()
	r.ID, r.State, r.CreatedAt, r.UpdatedAt = newID(), Pending, now, now
	r.ExpiresAt = now.Add(ttl)
	r.SQLHash = HashSQL(r.SQL)
	if r.Count < 1 {
		r.Count = 1
	}
	if err := s.cfg.Store.Create(ctx, r); err != nil {
		return nil, fmt.Errorf("open approval request: %w", err)
	}
	s.log.Info("approval requested", "approval", r.ID, "requester", r.Requester.Subject, "agent", r.Requester.Agent, "groups", r.Groups)
	s.changedHook(ctx, r, nil)
	s.notify(r)
	return r, nil
}

// Find returns the newest request by the same person and agent for the
// same statement text in one of the states, for ticket-mode retries.
func (s *Service) Find(ctx context.Context, requester Person, sqlHash string, states ...State) (*Request, error) {
	all, err := s.cfg.Store.List(ctx, states...)
	if err != nil {
		return nil, err
	}
	var found *Request
	for _, r := range all {
		if r.SQLHash == sqlHash && r.Requester.Subject == requester.Subject && r.Requester.Agent == requester.Agent {
			if found == nil || r.CreatedAt.After(found.CreatedAt) {
				found = r
			}
		}
	}
	if found != nil && found.State == Pending && !s.cfg.Now().Before(found.ExpiresAt) {
		return s.expire(ctx, found)
	}
	return found, nil
}

// Vote records an approver's decision. groups are the approver's verified
// groups.
func (s *Service) Vote(ctx context.Context, id string, by Person, groups []string, approve bool, reason string) (*Request, error) {
	for attempt := 0; attempt < 5; attempt++ {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := checkVote(r, by, groups, s.cfg.Now()); err != nil {
			return r, err
		}
		r.Votes = append(r.Votes, Vote{By: by, Approve: approve, Reason: reason, At: s.cfg.Now()})
		switch {
		case !approve:
			r.State = Rejected
		case r.Approvals() >= r.Count:
			r.State = Approved
		}
		r.UpdatedAt = s.cfg.Now()
		err = s.cfg.Store.Update(ctx, r, Pending)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.log.Info("approval vote", "approval", id, "by", by.Subject, "approve", approve, "state", r.State)
		s.changedHook(ctx, r, &by)
		return r, nil
	}
	return nil, ErrConflict
}

// Use consumes an approved request: it runs its statement exactly once.
func (s *Service) Use(ctx context.Context, r *Request) error {
	r.State, r.UpdatedAt = Used, s.cfg.Now()
	if err := s.cfg.Store.Update(ctx, r, Approved); err != nil {
		return fmt.Errorf("use approval %s: %w", r.ID, err)
	}
	s.changedHook(ctx, r, nil)
	return nil
}

// Get returns a request, expiring it first if its time has passed.
func (s *Service) Get(ctx context.Context, id string) (*Request, error) {
	r, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.State == Pending && !s.cfg.Now().Before(r.ExpiresAt) {
		return s.expire(ctx, r)
	}
	return r, nil
}

// List returns requests in the given states (all when none).
func (s *Service) List(ctx context.Context, states ...State) ([]*Request, error) {
	all, err := s.cfg.Store.List(ctx, states...)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, r := range all {
		if r.State == Pending && !s.cfg.Now().Before(r.ExpiresAt) {
			if r, err = s.expire(ctx, r); err != nil {
				return nil, err
			}
			if len(states) > 0 && !slices.Contains(states, r.State) {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) expire(ctx context.Context, r *Request) (*Request, error) {
	r.State, r.UpdatedAt = Expired, s.cfg.Now()
	if err := s.cfg.Store.Update(ctx, r, Pending); err != nil && !errors.Is(err, ErrConflict) {
		return nil, err
	}
	s.changedHook(ctx, r, nil)
	return s.cfg.Store.Get(ctx, r.ID)
}

// Wait blocks until the request leaves pending (or ctx ends) and returns
// it. Changes made by this process wake it at once; changes made by other
// replicas are seen within a second.
func (s *Service) Wait(ctx context.Context, id string) (*Request, error) {
	for {
		ch := s.changes(id)
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.State != Pending {
			return r, nil
		}
		wait := time.Until(r.ExpiresAt)
		if wait > time.Second {
			wait = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, ctx.Err()
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Service) changes(id string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.changed[id]
	if !ok {
		ch = make(chan struct{})
		s.changed[id] = ch
	}
	return ch
}

func (s *Service) changedHook(ctx context.Context, r *Request, by *Person) {
	s.mu.Lock()
	if ch, ok := s.changed[r.ID]; ok {
		close(ch)
		delete(s.changed, r.ID)
	}
	s.mu.Unlock()
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(ctx, r, by)
	}
}

// notify posts a Slack-compatible message about a new request. Failures
// are logged: the request stands and is visible in the API and page.
func (s *Service) notify(r *Request) {
	if s.cfg.WebhookURL == "" {
		return
	}
	who := r.Requester.Email
	if who == "" {
		who = r.Requester.Subject
	}
	if r.Requester.Agent != "" {
		who += " via agent " + r.Requester.Agent
	}
	sql := r.SQL
	if len(sql) > 500 {
		sql = sql[:500] + "…"
	}
	text := fmt.Sprintf("Approval %s requested by %s: %s\n```%s```\nApprovers: %s. Expires %s.",
		r.ID, who, r.Why, sql, strings.Join(r.Groups, ", "), r.ExpiresAt.UTC().Format(time.RFC3339))
	if s.cfg.PageURL != "" {
		text += "\n" + s.cfg.PageURL + "#" + r.ID
	}
	body, _ := json.Marshal(map[string]any{"text": text, "approval_id": r.ID})
	go func() {
		resp, err := s.http.Post(s.cfg.WebhookURL, "application/json", bytes.NewReader(body))
		if err != nil {
			s.log.Warn("approval webhook failed", "approval", r.ID, "err", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			s.log.Warn("approval webhook refused", "approval", r.ID, "status", resp.StatusCode)
		}
	}()
}
