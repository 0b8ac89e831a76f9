package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/hashicorp/vault/api"
)

// The kinds of failure a Vault request ends in. Errors returned by this
// package wrap one of them; compare with errors.Is.
var (
	// ErrUnavailable: Vault did not answer in time, could not be reached,
	// or answered that it is sealed, in standby or failing (5xx). Retrying
	// later may succeed.
	ErrUnavailable = errors.New("vault unavailable")
	// ErrDenied: Vault refused the gateway's token or login (401/403).
	ErrDenied = errors.New("vault denied the request")
	// ErrRefused: Vault rejected the request itself (4xx other than
	// 401/403), e.g. an unknown role.
	ErrRefused = errors.New("vault refused the request")
	// ErrBadSecret: Vault answered, but not with the credentials expected.
	ErrBadSecret = errors.New("unexpected secret from vault")
	// ErrConfig: the gateway's Vault settings are incomplete or invalid.
	ErrConfig = errors.New("vault configuration")
	// ErrClosed: the credential source was closed.
	ErrClosed = errors.New("vault credential source closed")
)

// classify wraps err from a Vault request as one of the kinds above, with
// the operation that failed. Vault's error texts name the request path and
// Vault's reasons; they never carry the request's token or body.
func classify(op string, err error) error {
	var re *api.ResponseError
	var ne net.Error
	var kind error
	switch {
	case errors.As(err, &re):
		switch {
		case re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden:
			kind = ErrDenied
		case re.StatusCode >= 500:
			kind = ErrUnavailable
		default:
			kind = ErrRefused
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.As(err, &ne):
		kind = ErrUnavailable
	default:
		// Transport failures the retrying client reports as plain errors
		// (refused or reset connections, EOF, giving up after retries).
		kind = ErrUnavailable
	}
	return fmt.Errorf("vault: %s: %w: %w", op, kind, err)
}
