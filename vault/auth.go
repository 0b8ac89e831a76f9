package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// Auth is how the gateway authenticates to Vault: Token, AppRole or
// Kubernetes.
type Auth interface {
	// login returns a Vault token. c carries no token.
	login(ctx context.Context, c *api.Client) (session, error)
	method() string
}

// session is a Vault token and what Vault said about its life.
type session struct {
	token     string
	ttl       time.Duration // 0: does not expire, or unknown
	renewable bool
}

// Token authenticates with a fixed Vault token. The token is used as given:
// it must outlive the gateway (a periodic token renewed by someone else, or
// a long-lived one). Prefer AppRole or Kubernetes, whose tokens the client
// renews and replaces by itself.
type Token struct {
	Token string // required
}

func (t Token) method() string { return "token" }

func (t Token) login(context.Context, *api.Client) (session, error) {
	if t.Token == "" {
		return session{}, fmt.Errorf("%w: token auth: no token", ErrConfig)
	}
	return session{token: t.Token}, nil
}

// AppRole logs in with a role ID and secret ID.
type AppRole struct {
	Mount  string // auth mount; default "approle"
	RoleID string // required
	// SecretID, or SecretIDFile (read at each login, so a rotated file is
	// picked up). One is required unless the role does not bind a secret ID.
	SecretID     string
	SecretIDFile string
}

func (a AppRole) method() string { return "approle" }

func (a AppRole) login(ctx context.Context, c *api.Client) (session, error) {
	if a.RoleID == "" {
		return session{}, fmt.Errorf("%w: approle auth: no role ID", ErrConfig)
	}
	secretID := a.SecretID
	if a.SecretIDFile != "" {
		b, err := os.ReadFile(a.SecretIDFile)
		if err != nil {
			return session{}, fmt.Errorf("%w: approle auth: read secret ID file: %w", ErrConfig, err)
		}
		secretID = strings.TrimSpace(string(b))
	}
	body := map[string]any{"role_id": a.RoleID}
	if secretID != "" {
		body["secret_id"] = secretID
	}
	return loginWith(ctx, c, "auth/"+mountOr(a.Mount, "approle")+"/login", body)
}

// DefaultServiceAccountTokenPath is where Kubernetes mounts a pod's service
// account token.
const DefaultServiceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Kubernetes logs in with the pod's service account token (a JWT).
type Kubernetes struct {
	Mount string // auth mount; default "kubernetes"
	Role  string // required: the Vault role bound to the service account
	// TokenPath is the service account token file, read at each login
	// because Kubernetes rotates it; default DefaultServiceAccountTokenPath.
	TokenPath string
}

func (k Kubernetes) method() string { return "kubernetes" }

func (k Kubernetes) login(ctx context.Context, c *api.Client) (session, error) {
	if k.Role == "" {
		return session{}, fmt.Errorf("%w: kubernetes auth: no role", ErrConfig)
	}
	path := k.TokenPath
	if path == "" {
		path = DefaultServiceAccountTokenPath
	}
	jwt, err := os.ReadFile(path)
	if err != nil {
		return session{}, fmt.Errorf("%w: kubernetes auth: read service account token: %w", ErrConfig, err)
	}
	return loginWith(ctx, c, "auth/"+mountOr(k.Mount, "kubernetes")+"/login",
		map[string]any{"role": k.Role, "jwt": strings.TrimSpace(string(jwt))})
}

func loginWith(ctx context.Context, c *api.Client, path string, body map[string]any) (session, error) {
	sec, err := c.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return session{}, classify("login at "+path, err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return session{}, fmt.Errorf("vault: login at %s: %w: no token in the answer", path, ErrBadSecret)
	}
	return session{
		token:     sec.Auth.ClientToken,
		ttl:       time.Duration(sec.Auth.LeaseDuration) * time.Second,
		renewable: sec.Auth.Renewable,
	}, nil
}

func mountOr(m, def string) string {
	m = strings.Trim(m, "/")
	if m == "" {
		return def
	}
	return m
}

var errNoAuth = errors.New("no auth method")

// The auth methods print and log without their secrets.

func (t Token) String() string       { return "vault token auth (token hidden)" }
func (t Token) GoString() string     { return t.String() }
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }
func (a AppRole) String() string {
	return fmt.Sprintf("vault approle auth (role ID %s, secret ID hidden)", a.RoleID)
}
func (a AppRole) GoString() string     { return a.String() }
func (a AppRole) LogValue() slog.Value { return slog.StringValue(a.String()) }
