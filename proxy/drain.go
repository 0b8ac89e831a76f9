package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// errDraining is the cause of a held statement's cancellation when the
// gateway stops: its approval request stays in the store, and the client
// runs the statement again (on another replica, or after the restart).
var errDraining = errors.New("the gateway is draining")

// Drain stops the gateway taking new work and waits, until ctx ends, for
// the work it has to reach its clients, so that a restart loses no answer:
//
//   - logins, new statements and REST API reads are refused with HTTP 503
//     and Retry-After, which drivers retry (behind a load balancer, on
//     another replica);
//   - statements held for approval are answered at once with an error that
//     says to run them again; their approval requests stay in the store;
//   - every other statement runs to its end, and its answer — the result,
//     every spooled chunk of it, or its error — is fetched by its client,
//     unless the client has left (AbandonAfter) or the statement is
//     asynchronous (its client comes back when it pleases);
//   - result fetches, polls, aborts and heartbeats are served throughout.
//
// The audit trail is flushed and checkpointed when it is closed, after
// Drain. Drain returns an error naming what is still unanswered when ctx
// ends first.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	s.log.Info("draining: no new logins or statements")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := s.queries.unsettled(time.Now(), s.cfg.AbandonAfter)
		if busy == 0 {
			s.log.Info("drained: every statement answered")
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain: %d statements still running or not fetched: %w", busy, ctx.Err())
		case <-tick.C:
		}
	}
}

// drainInline is how much of a result a draining gateway sends inline.
// Its clients fetch chunks on new connections, which a load balancer
// sends to another replica once this one is not ready, where the chunks
// do not exist: so what is made while draining is sent whole, in the
// answer itself, up to this much.
const drainInline = 256 << 20

// inlineLimit is how many result bytes go in the first answer.
func (s *Server) inlineLimit() int {
	if s.draining.Load() && s.cfg.InlineBytes < drainInline {
		return drainInline
	}
	return s.cfg.InlineBytes
}

// Draining reports whether Drain has begun (readiness fails from then on).
func (s *Server) Draining() bool { return s.draining.Load() }

// refuseWhileDraining answers new work during a drain with 503, which
// drivers retry.
func (s *Server) refuseWhileDraining(w http.ResponseWriter, r *http.Request) bool {
	if !s.draining.Load() || !newWork(r) {
		return false
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "snowgate is restarting: retry", http.StatusServiceUnavailable)
	return true
}

// newWork is a request that starts work: a login, a query request, or a
// read of the REST API (which runs statements; one in flight finishes, as
// every request does, before the server shuts down).
func newWork(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodPost && (strings.HasPrefix(p, "/session/v1/login-request") || strings.HasPrefix(p, "/queries/v1/query-request")) ||
		strings.HasPrefix(p, "/api/v2/")
}

// unsettled counts the queries whose answer has not reached their client
// yet, and interrupts those held for approval.
func (qs *queries) unsettled(now time.Time, abandonAfter time.Duration) int {
	qs.mu.Lock()
	all := make([]*query, 0, len(qs.byID))
	for _, q := range qs.byID {
		all = append(all, q)
	}
	qs.mu.Unlock()
	n := 0
	for _, q := range all {
		switch {
		case !q.finished():
			if q.held.Load() {
				q.interrupt()
			}
			n++
		case q.async || q.abandoned(now, abandonAfter):
		case !q.delivered.Load():
			n++
		case q.res != nil && q.res.Chunks != nil && !q.res.Chunks.Fetched():
			n++
		}
	}
	return n
}
