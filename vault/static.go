// Package vault hands out upstream credentials per session: dynamic
// database credentials from HashiCorp Vault's database secrets engine
// (Dynamic), static credentials stored in Vault's KV engine (KV), or fixed
// ones from the configuration for `snowgate dev` (Static). Each implements
// proxy.CredentialSource. Credentials live in memory only, are never
// logged, and never reach a client.
//
// The gateway authenticates to Vault with a Client (Token, AppRole or
// Kubernetes auth), which logs in lazily, renews its token and logs in
// again when Vault refuses it. Dynamic keeps each session's lease renewed
// while the session lives and revokes it when the session ends, so that
// Vault drops the upstream user.
//
// The end-to-end tests and the benchmark run a real `vault server -dev`
// whose built-in snowflake-database-plugin manages users in the dev
// stand-in; they find the Vault binary through SNOWGATE_VAULT:
//
//	export SNOWGATE_VAULT=$(.ci/build-vault.sh)
//	go test ./vault/
//	go test -run '^$' -bench Login -benchtime 100x ./vault/
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
func (s Static) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.Credentials, error) {
	if s.User == "" {
		return proxy.Credentials{}, errors.New("static credentials: no user configured")
	}
	want.User, want.Password = s.User, s.Password
	return proxy.Credentials{Params: want}, nil
}
