package vault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// KV gives every session the static upstream login stored in Vault's KV
// secrets engine: fields "username" and "password" or "private_key" (PEM),
// for accounts without the database engine. The secret is read at each
// login, within Timeout, so a rotated secret is picked up at once; nothing
// is cached.
//
// Its exported fields may be changed until the first call to Acquire.
type KV struct {
	Client  *Client // required
	Mount   string  // the KV engine's mount; default "secret"
	Path    string  // required: the secret's path inside the mount
	Version int     // KV engine version, 1 or 2; default 2
	// Timeout bounds Acquire's round trip to Vault; default
	// DefaultAcquireTimeout.
	Timeout time.Duration
}

var _ proxy.CredentialSource = (*KV)(nil)

// Acquire implements proxy.CredentialSource.
func (k *KV) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.Credentials, error) {
	if k.Client == nil {
		return proxy.Credentials{}, fmt.Errorf("%w: KV.Client is nil", ErrConfig)
	}
	path := strings.Trim(k.Path, "/")
	if path == "" {
		return proxy.Credentials{}, fmt.Errorf("%w: KV.Path is empty", ErrConfig)
	}
	mount := mountOr(k.Mount, "secret")
	full := mount + "/data/" + path
	switch k.Version {
	case 0, 2:
	case 1:
		full = mount + "/" + path
	default:
		return proxy.Credentials{}, fmt.Errorf("%w: KV.Version %d: want 1 or 2", ErrConfig, k.Version)
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultAcquireTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sec, err := k.Client.read(ctx, full)
	if err != nil {
		return proxy.Credentials{}, fmt.Errorf("static credentials from %s: %w", full, err)
	}
	if sec == nil || sec.Data == nil {
		return proxy.Credentials{}, fmt.Errorf("static credentials from %s: %w: no such secret", full, ErrBadSecret)
	}
	data := sec.Data
	if k.Version != 1 {
		inner, ok := data["data"].(map[string]any)
		if !ok {
			return proxy.Credentials{}, fmt.Errorf("static credentials from %s: %w: no KV v2 data (deleted version, or a KV v1 mount?)", full, ErrBadSecret)
		}
		data = inner
	}
	c, err := fromData(data, fieldPrivateKey)
	if err != nil {
		return proxy.Credentials{}, fmt.Errorf("static credentials from %s: %w", full, err)
	}
	return proxy.Credentials{Params: c.apply(want)}, nil
}
