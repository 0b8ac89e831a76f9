package vault

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// DefaultAcquireTimeout bounds how long a login waits for Vault.
const DefaultAcquireTimeout = 10 * time.Second

// Dynamic hands each session a fresh upstream user from Vault's database
// secrets engine (`<Mount>/creds/<role>`), keeps its lease renewed while
// the session lives and revokes it when the session ends, so that Vault
// drops the user. Password and rsa_private_key credential types are both
// understood. Credentials stay in memory.
//
// Its exported fields may be changed until the first call to Acquire.
type Dynamic struct {
	Client *Client // required
	Mount  string  // the database secrets engine's mount; default "database"
	// Role is the Vault role for sessions whose principal names none
	// (Principal.VaultRole, set by the connect decision). Empty: such
	// sessions are refused.
	Role string
	// Timeout bounds Acquire's round trip to Vault, and each renewal and
	// revocation; default DefaultAcquireTimeout.
	Timeout time.Duration
	// RenewIncrement is the extension asked for at each renewal; default
	// 0, the role's default TTL. Renewals happen when two thirds of the
	// lease's time are gone.
	RenewIncrement time.Duration
	// CheckEvery is how often each session's lease is looked up in Vault,
	// so that a lease revoked there ends its session within that time;
	// default DefaultLeaseCheck, negative: only at its next renewal.
	CheckEvery time.Duration
	Logger     *slog.Logger // default: the Client's

	once   sync.Once
	log    *slog.Logger
	stop   chan struct{} // closed by Close
	mu     sync.Mutex
	leases map[*lease]struct{}
	closed bool
	wg     sync.WaitGroup

	renewFailures atomic.Int64 // RenewFailures (health.go)
	withdrawn     atomic.Int64 // Withdrawn (health.go)
	lookupDenied  atomic.Bool  // a lookup was denied: logged once
}

var _ proxy.CredentialSource = (*Dynamic)(nil)

func (d *Dynamic) init() {
	d.once.Do(func() {
		d.log = d.Logger
		if d.log == nil && d.Client != nil {
			d.log = d.Client.log
		}
		if d.log == nil {
			d.log = slog.New(slog.DiscardHandler)
		}
		d.stop = make(chan struct{})
		d.leases = map[*lease]struct{}{}
	})
}

func (d *Dynamic) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return DefaultAcquireTimeout
}

// validRole is what a role name may look like: one path segment.
var validRole = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]*$`)

// Acquire implements proxy.CredentialSource: it reads a new user from
// Vault within Timeout, and returns a release function that revokes the
// lease. On any failure nothing is left behind: a lease read but unusable
// is revoked at once.
func (d *Dynamic) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.Credentials, error) {
	d.init()
	if d.Client == nil {
		return proxy.Credentials{}, fmt.Errorf("%w: Dynamic.Client is nil", ErrConfig)
	}
	role := d.Role
	if p != nil && p.VaultRole != "" {
		role = p.VaultRole
	}
	if role == "" {
		return proxy.Credentials{}, fmt.Errorf("%w: no Vault role for this session (the connect decision named none and there is no default)", ErrConfig)
	}
	if !validRole.MatchString(role) || strings.Contains(role, "..") {
		return proxy.Credentials{}, fmt.Errorf("%w: Vault role %q is not a valid role name", ErrConfig, role)
	}
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return proxy.Credentials{}, ErrClosed
	}

	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	sec, err := d.Client.read(ctx, mountOr(d.Mount, "database")+"/creds/"+role)
	if err != nil {
		return proxy.Credentials{}, fmt.Errorf("dynamic credentials for role %s: %w", role, err)
	}
	c, err := fromLease(sec)
	if err != nil {
		if sec != nil && sec.LeaseID != "" {
			d.revokeLater(newLease(sec.LeaseID, role, "", false, time.Duration(sec.LeaseDuration)*time.Second), "unusable credentials")
		}
		return proxy.Credentials{}, fmt.Errorf("dynamic credentials for role %s: %w", role, err)
	}
	l := newLease(c.leaseID, role, c.user, c.renewable, c.ttl)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.revokeLater(l, "credential source closed")
		return proxy.Credentials{}, ErrClosed
	}
	d.leases[l] = struct{}{}
	d.wg.Add(1)
	d.mu.Unlock()
	go d.keep(l)
	d.log.Info("vault credentials issued", logRole, role, logUser, c.user, logMethod, c.kind(), logLease, c.leaseID, logTTL, c.ttl.String())
	return proxy.Credentials{Params: c.apply(want), Release: l.release, Withdrawn: l.life}, nil
}

// revokeLater revokes a lease no session holds, without blocking the
// caller; Close waits for it.
func (d *Dynamic) revokeLater(l *lease, why string) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.revokeNow(l, why)
	}()
}

// Active is the number of leases held for live sessions.
func (d *Dynamic) Active() int {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.leases)
}

// Close revokes every lease still held and waits, until ctx ends, for the
// revocations to finish. Acquire fails afterwards.
func (d *Dynamic) Close(ctx context.Context) error {
	d.init()
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.stop)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("vault: waiting for lease revocations: %w", ctx.Err())
	}
}
