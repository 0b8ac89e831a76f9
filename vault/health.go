package vault

import (
	"context"
	"fmt"
)

// Health asks Vault's unauthenticated sys/health endpoint, within the
// request timeout, whether Vault can serve: it fails, wrapping
// ErrUnavailable, when Vault cannot be reached, is not initialised or is
// sealed. A standby is healthy (it forwards requests to the active node).
// It needs no token and logs nothing in.
func (c *Client) Health(ctx context.Context) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	h, err := c.api.Sys().HealthWithContext(ctx)
	switch {
	case err != nil:
		return classify("health", err)
	case !h.Initialized:
		return fmt.Errorf("vault: health: %w: not initialised", ErrUnavailable)
	case h.Sealed:
		return fmt.Errorf("vault: health: %w: sealed", ErrUnavailable)
	}
	return nil
}

// Ping reports whether Vault can hand out credentials now (Client.Health),
// for the gateway's readiness.
func (d *Dynamic) Ping(ctx context.Context) error {
	if d.Client == nil {
		return fmt.Errorf("%w: Dynamic.Client is nil", ErrConfig)
	}
	return d.Client.Health(ctx)
}

// RenewFailures is how many lease renewals have failed since the source
// was made (each retry counts).
func (d *Dynamic) RenewFailures() int64 { return d.renewFailures.Load() }

// Withdrawn is how many leases went while their session lived (revoked in
// Vault, or expired), each ending its session.
func (d *Dynamic) Withdrawn() int64 { return d.withdrawn.Load() }

// Ping reports whether Vault can hand out credentials now (Client.Health),
// for the gateway's readiness.
func (k *KV) Ping(ctx context.Context) error {
	if k.Client == nil {
		return fmt.Errorf("%w: KV.Client is nil", ErrConfig)
	}
	return k.Client.Health(ctx)
}
