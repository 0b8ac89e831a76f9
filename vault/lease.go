package vault

import (
	"context"
	"sync"
	"time"
)

// lease is one session's dynamic credentials as Vault tracks them.
type lease struct {
	id, role, user string
	renewable      bool
	ttl            time.Duration
	expires        time.Time // owned by the keeper goroutine
	done           chan struct{}
	once           sync.Once
}

// release ends the lease's session; the keeper revokes the lease. It may be
// called more than once.
func (l *lease) release() { l.once.Do(func() { close(l.done) }) }

// Renewal retry bounds after a failed renewal.
const (
	minRetry = 500 * time.Millisecond
	maxRetry = 30 * time.Second
)

// keep renews l at two thirds of its remaining time until the session ends
// (then revokes it), the source closes (revokes too), or renewing stops
// gaining time (the role's max TTL). A failed renewal is retried with
// backoff until the lease expires: the session keeps working meanwhile.
func (d *Dynamic) keep(l *lease) {
	defer d.wg.Done()
	defer d.forget(l)
	renewing := l.renewable && l.ttl > 0
	next := l.ttl * 2 / 3
	failures := 0
	for {
		var tick <-chan time.Time
		var timer *time.Timer
		if renewing {
			timer = time.NewTimer(next)
			tick = timer.C
		}
		select {
		case <-l.done:
			stopTimer(timer)
			d.revokeNow(l, "session ended")
			return
		case <-d.stop:
			stopTimer(timer)
			d.revokeNow(l, "credential source closed")
			return
		case <-tick:
		}
		expires, err := d.renew(l)
		switch {
		case err == nil && !expires.After(l.expires.Add(time.Second)):
			l.expires, renewing = expires, false
			d.log.Info("vault lease at its maximum TTL; no further renewals", logRole, l.role, logUser, l.user, logLease, l.id,
				"expires", expires.UTC().Format(time.RFC3339))
		case err == nil:
			l.expires, failures = expires, 0
			next = time.Until(expires) * 2 / 3
			d.log.Debug("vault lease renewed", logRole, l.role, logLease, l.id, logTTL, time.Until(expires).Round(time.Second).String())
		default:
			d.renewFailures.Add(1)
			left := time.Until(l.expires)
			if left <= 0 {
				renewing = false
				d.log.Warn("vault lease expired: renewals failed", logRole, l.role, logUser, l.user, logLease, l.id, logErr, err)
				continue
			}
			failures++
			next = max(min(minRetry<<min(failures, 8), maxRetry, left/3), minRetry)
			d.log.Warn("vault lease renewal failed; retrying", logRole, l.role, logLease, l.id, "retry_in", next.String(), logErr, err)
		}
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

func (d *Dynamic) renew(l *lease) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
	defer cancel()
	sec, err := d.Client.renewLease(ctx, l.id, d.RenewIncrement)
	if err != nil {
		return time.Time{}, err
	}
	if sec == nil {
		return time.Time{}, ErrBadSecret
	}
	return time.Now().Add(time.Duration(sec.LeaseDuration) * time.Second), nil
}

// revokeNow revokes l, retrying a few times with backoff while the lease
// has not expired; Vault revokes it at expiry anyway. During shutdown it
// tries once.
func (d *Dynamic) revokeNow(l *lease, why string) {
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
		err := d.Client.revokeLease(ctx, l.id)
		cancel()
		if err == nil {
			d.log.Info("vault lease revoked", logRole, l.role, logUser, l.user, logLease, l.id, "why", why)
			return
		}
		if d.stopping() || attempt >= 5 || time.Now().Add(backoff).After(l.expires) {
			d.log.Warn("vault lease not revoked; Vault revokes it when it expires", logRole, l.role, logUser, l.user, logLease, l.id,
				"expires", l.expires.UTC().Format(time.RFC3339), logErr, err)
			return
		}
		d.log.Warn("vault lease revocation failed; retrying", logRole, l.role, logLease, l.id, "retry_in", backoff.String(), logErr, err)
		select {
		case <-time.After(backoff):
		case <-d.stop:
		}
		backoff *= 2
	}
}

func (d *Dynamic) stopping() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *Dynamic) forget(l *lease) {
	d.mu.Lock()
	delete(d.leases, l)
	d.mu.Unlock()
}
