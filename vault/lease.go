package vault

import (
	"context"
	"errors"
	"fmt"
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
	// life is done when the credentials were withdrawn while the session
	// lived (proxy.Credentials.Withdrawn); withdraw ends it with a cause.
	life     context.Context
	withdraw context.CancelCauseFunc
}

func newLease(id, role, user string, renewable bool, ttl time.Duration) *lease {
	l := &lease{id: id, role: role, user: user, renewable: renewable, ttl: ttl,
		expires: time.Now().Add(ttl), done: make(chan struct{})}
	l.life, l.withdraw = context.WithCancelCause(context.Background())
	return l
}

// release ends the lease's session; the keeper revokes the lease. It may be
// called more than once.
func (l *lease) release() { l.once.Do(func() { close(l.done) }) }

// Renewal retry bounds after a failed renewal.
const (
	minRetry = 500 * time.Millisecond
	maxRetry = 30 * time.Second
)

// DefaultLeaseCheck is how often a session's lease is looked up in Vault
// when Dynamic.CheckEvery is zero.
const DefaultLeaseCheck = time.Minute

// Why credentials are withdrawn from their session.
var (
	errLeaseRevoked = errors.New("the lease was revoked in vault")
	errLeaseExpired = errors.New("the lease expired")
)

// keep looks after l until its session ends (then revokes it) or the source
// closes (revokes too). It renews l at two thirds of its remaining time,
// retrying a failed renewal with backoff until the lease expires (the
// session keeps working meanwhile), and looks it up every CheckEvery. The
// session's credentials are withdrawn when Vault no longer knows the lease
// (it was revoked there) or when it expires (renewals failed, or it reached
// its maximum TTL): Vault drops the user then, and the session ends.
func (d *Dynamic) keep(l *lease) {
	defer d.wg.Done()
	defer d.forget(l)
	var checks <-chan time.Time
	if every := d.checkEvery(); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		checks = t.C
	}
	renewing := l.renewable && l.ttl > 0
	wakeAt := time.Now().Add(l.ttl * 2 / 3) // the next renewal, or the lease's end
	if !renewing {
		wakeAt = l.expires
	}
	failures := 0
	for {
		var wake <-chan time.Time
		if l.ttl > 0 {
			wake = time.After(time.Until(wakeAt))
		}
		select {
		case <-l.done:
			d.revokeNow(l, "session ended")
			return
		case <-d.stop:
			d.revokeNow(l, "credential source closed")
			return
		case <-checks:
			if err := d.lookup(l); err != nil {
				d.end(l, err)
				return
			}
			continue
		case <-wake:
		}
		if !renewing {
			d.end(l, errLeaseExpired)
			return
		}
		expires, err := d.renew(l)
		switch {
		case errors.Is(err, ErrRefused):
			d.end(l, fmt.Errorf("%w: %w", errLeaseRevoked, err))
			return
		case err == nil && !expires.After(l.expires.Add(time.Second)):
			l.expires, renewing, wakeAt = expires, false, expires
			d.log.Info("vault lease at its maximum TTL; no further renewals", logRole, l.role, logUser, l.user, logLease, l.id,
				"expires", expires.UTC().Format(time.RFC3339))
		case err == nil:
			l.expires, failures = expires, 0
			wakeAt = time.Now().Add(time.Until(expires) * 2 / 3)
			d.log.Debug("vault lease renewed", logRole, l.role, logLease, l.id, logTTL, time.Until(expires).Round(time.Second).String())
		default:
			d.renewFailures.Add(1)
			left := time.Until(l.expires)
			if left <= 0 {
				d.end(l, fmt.Errorf("%w: renewals failed: %w", errLeaseExpired, err))
				return
			}
			failures++
			retry := max(min(minRetry<<min(failures, 8), maxRetry, left/3), minRetry)
			wakeAt = time.Now().Add(retry)
			d.log.Warn("vault lease renewal failed; retrying", logRole, l.role, logLease, l.id, "retry_in", retry.String(), logErr, err)
		}
	}
}

// end withdraws l's credentials from its session, because of why, and
// waits for the session to let go of the lease. Vault has dropped it, or
// drops it at once: there is nothing to revoke.
func (d *Dynamic) end(l *lease, why error) {
	d.withdrawn.Add(1)
	d.log.Warn("vault lease gone; ending its session", logRole, l.role, logUser, l.user, logLease, l.id, "why", why)
	l.withdraw(why)
	select {
	case <-l.done:
	case <-d.stop:
	}
}

// lookup asks Vault whether it still knows l. Only Vault's answer that it
// does not is an error: when Vault cannot be asked, or the gateway may not
// ask (its policy lacks sys/leases/lookup, which is logged once), the
// session goes on and renewals will tell.
func (d *Dynamic) lookup(l *lease) error {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout())
	defer cancel()
	_, err := d.Client.lookupLease(ctx, l.id)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRefused):
		return fmt.Errorf("%w: %w", errLeaseRevoked, err)
	case errors.Is(err, ErrDenied):
		if d.lookupDenied.CompareAndSwap(false, true) {
			d.log.Warn(`vault denies lease lookups: a lease revoked in Vault ends its session only at its next renewal; allow "update" on sys/leases/lookup`, logErr, err)
		}
	default:
		d.log.Debug("vault lease lookup failed", logLease, l.id, logErr, err)
	}
	return nil
}

func (d *Dynamic) checkEvery() time.Duration {
	switch {
	case d.CheckEvery < 0:
		return 0
	case d.CheckEvery == 0:
		return DefaultLeaseCheck
	}
	return d.CheckEvery
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
