package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// TestClient_relogin: when Vault forgets the gateway's token (expiry,
// revocation, a restart), the client logs in again once and the request
// goes through.
func TestClient_relogin(t *testing.T) {
	f := newFakeVault(t)
	d := &Dynamic{Client: newTestClient(t, f, AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, nil), Role: "analyst"}
	for i := range 2 {
		cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
		release := cr.Release
		if err != nil {
			t.Fatalf("Acquire %d: %v", i, err)
		}
		release()
		eventually(t, 5*time.Second, "revocation", func() bool { return d.Active() == 0 })
		if i == 0 {
			f.revokeTokens()
		}
	}
	f.get(func(f *fakeVault) {
		if f.logins != 2 {
			t.Errorf("logins = %d, want 2 (one more after the token was revoked)", f.logins)
		}
	})
}

// TestClient_tokenRenewal: a token with a TTL is renewed once two thirds
// of it are gone, rather than logging in again.
func TestClient_tokenRenewal(t *testing.T) {
	f := newFakeVault(t)
	f.set(func(f *fakeVault) { f.tokenTTL = 1 })
	c := newTestClient(t, f, AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, nil)
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if err := c.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.get(func(f *fakeVault) {
		if !strings.Contains(strings.Join(f.reqs, "\n"), "PUT /v1/auth/token/renew-self") || f.logins != 1 {
			t.Errorf("want one login and a renew-self; requests:\n%s", strings.Join(f.reqs, "\n"))
		}
	})
}

func TestClient_auth(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("sa.jwt.token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "secret-id")
	if err := os.WriteFile(secretFile, []byte("gw-secret-abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		auth    Auth
		wantErr error
	}{
		{"approle", AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, nil},
		{"approle secret file", AppRole{RoleID: "gw-role", SecretIDFile: secretFile}, nil},
		{"approle wrong secret", AppRole{RoleID: "gw-role", SecretID: "nope"}, ErrRefused},
		{"approle no role id", AppRole{SecretID: "gw-secret-abc"}, ErrConfig},
		{"kubernetes", Kubernetes{Role: "snowgate", TokenPath: good}, nil},
		{"kubernetes wrong role", Kubernetes{Role: "other", TokenPath: good}, ErrDenied},
		{"kubernetes no token file", Kubernetes{Role: "snowgate", TokenPath: filepath.Join(dir, "missing")}, ErrConfig},
		{"token", Token{Token: "root-token-xyz"}, nil},
		{"empty token", Token{}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			log, buf := debugLogger()
			c := newTestClient(t, f, tc.auth, log)
			_, err := c.read(context.Background(), "database/creds/analyst")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("read error = %v, want %v", err, tc.wantErr)
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			assertNoSecrets(t, fakeSecrets, msg, buf.String())
		})
	}
}

// TestNewClient_ignoresEnvironment: VAULT_TOKEN and VAULT_ADDR, which
// Vault's library reads by itself, change nothing.
func TestNewClient_ignoresEnvironment(t *testing.T) {
	f := newFakeVault(t)
	t.Setenv("VAULT_TOKEN", "root-token-xyz")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	c := newTestClient(t, f, AppRole{RoleID: "gw-role", SecretID: "wrong"}, nil)
	if _, err := c.read(context.Background(), "database/creds/analyst"); !errors.Is(err, ErrRefused) {
		t.Fatalf("read = %v, want the AppRole login refused (the environment's token must not be used)", err)
	}
}

func TestNewClient_config(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no address", Config{Auth: Token{Token: "x"}}},
		{"no auth", Config{Address: "http://127.0.0.1:8200"}},
		{"bad address", Config{Address: "://", Auth: Token{Token: "x"}}},
		{"missing CA file", Config{Address: "https://127.0.0.1:8200", Auth: Token{Token: "x"}, CACertFile: "/nonexistent/ca.pem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewClient(tc.cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("NewClient = %v, want ErrConfig", err)
			}
		})
	}
}

// TestClient_namespace: the namespace goes with the login and the requests.
func TestClient_namespace(t *testing.T) {
	f := newFakeVault(t)
	c, err := NewClient(Config{Address: f.srv.URL, Namespace: "team-a", Auth: AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.read(context.Background(), "database/creds/analyst"); err != nil {
		t.Fatal(err)
	}
	f.get(func(f *fakeVault) {
		got := strings.Join(f.reqs, "\n")
		for _, want := range []string{"namespace team-a /v1/auth/approle/login", "namespace team-a /v1/database/creds/analyst"} {
			if !strings.Contains(got, want) {
				t.Errorf("requests lack %q:\n%s", want, got)
			}
		}
	})
}
