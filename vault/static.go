// Package vault hands out upstream credentials per session: dynamic
// database credentials from HashiCorp Vault's database secrets engine, or
// static credentials for `snowgate dev` and for accounts without the engine.
// Credentials live in memory only and never reach a client.
package vault

import (
	"context"
	"errors"

	"github.com/snowgate/snowgate/proxy"
)

// Static gives every session the same upstream login.
type Static struct {
	User     string
	Password string
}

var _ proxy.CredentialSource = Static{}

// Acquire implements proxy.CredentialSource.
func (s Static) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.OpenParams, func(), error) {
	if s.User == "" {
		return proxy.OpenParams{}, nil, errors.New("static credentials: no user configured")
	}
	want.User, want.Password = s.User, s.Password
	return want, func() {}, nil
}
