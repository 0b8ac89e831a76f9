package vault

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/snowgate/snowgate/proxy"
)

// credentials are one upstream login from Vault. They live in memory only.
// Their String and LogValue hide the secrets, so a stray log line or %v
// cannot leak them.
type credentials struct {
	user       string
	password   string
	privateKey string // PEM
	leaseID    string
	ttl        time.Duration
	renewable  bool
}

func (c credentials) kind() string {
	if c.privateKey != "" {
		return "rsa_private_key"
	}
	return "password"
}

func (c credentials) String() string {
	return fmt.Sprintf("vault credentials for %s (%s, secret hidden)", c.user, c.kind())
}

func (c credentials) GoString() string { return c.String() }

func (c credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.user), slog.String("type", c.kind()), slog.String("lease", c.leaseID))
}

// apply puts the credentials into the session's upstream login.
func (c credentials) apply(p proxy.OpenParams) proxy.OpenParams {
	p.User, p.Password, p.PrivateKey = c.user, c.password, c.privateKey
	if c.privateKey != "" {
		p.Password = ""
	}
	return p
}

// Field names of the secrets read from Vault.
const (
	fieldUser          = "username"
	fieldPassword      = "password"
	fieldRSAPrivateKey = "rsa_private_key" // database engine, rsa_private_key credential type
	fieldPrivateKey    = "private_key"     // KV
)

// fromData reads a username with a password or a private key from a
// secret's data. keyField names the private key's field.
func fromData(data map[string]any, keyField string) (credentials, error) {
	str := func(k string) (string, error) {
		v, ok := data[k]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%w: field %q is %T, not a string", ErrBadSecret, k, v)
		}
		return s, nil
	}
	var c credentials
	var err error
	if c.user, err = str(fieldUser); err != nil {
		return c, err
	}
	if c.password, err = str(fieldPassword); err != nil {
		return c, err
	}
	if c.privateKey, err = str(keyField); err != nil {
		return c, err
	}
	switch {
	case c.user == "":
		return c, fmt.Errorf("%w: no %q", ErrBadSecret, fieldUser)
	case c.password == "" && c.privateKey == "":
		return c, fmt.Errorf("%w: neither %q nor %q", ErrBadSecret, fieldPassword, keyField)
	}
	return c, nil
}

// fromLease reads dynamic credentials and their lease.
func fromLease(sec *api.Secret) (credentials, error) {
	if sec == nil || sec.Data == nil {
		return credentials{}, fmt.Errorf("%w: empty answer", ErrBadSecret)
	}
	c, err := fromData(sec.Data, fieldRSAPrivateKey)
	if err != nil {
		return c, err
	}
	c.leaseID, c.ttl, c.renewable = sec.LeaseID, time.Duration(sec.LeaseDuration)*time.Second, sec.Renewable
	if c.leaseID == "" {
		return c, fmt.Errorf("%w: dynamic credentials without a lease", ErrBadSecret)
	}
	return c, nil
}
