package vault

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// RunCredentialSourceSuite checks the proxy.CredentialSource contract on a
// source: the session's wanted context is kept, a user comes with exactly
// one of password or private key, release may be called twice, and
// concurrent sessions each get a login (distinct users when unique is
// set, as for dynamic credentials). The end-to-end tests run it against
// the real Vault too.
func RunCredentialSourceSuite(t *testing.T, src proxy.CredentialSource, unique bool) {
	t.Helper()
	want := proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC", Warehouse: "WH", Role: "ANALYST"}
	t.Run("keeps the session context", func(t *testing.T) {
		got, release, err := acquire(src, &proxy.Principal{}, want)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if got.Database != want.Database || got.Schema != want.Schema || got.Warehouse != want.Warehouse || got.Role != want.Role {
			t.Errorf("context changed: got %s/%s/%s/%s", got.Database, got.Schema, got.Warehouse, got.Role)
		}
		if got.User == "" || (got.Password == "") == (got.PrivateKey == "") {
			t.Errorf("want a user with exactly one of password or private key; user %q, password set %v, key set %v",
				got.User, got.Password != "", got.PrivateKey != "")
		}
	})
	t.Run("release twice", func(t *testing.T) {
		_, release, err := acquire(src, nil, want)
		if err != nil {
			t.Fatal(err)
		}
		release()
		release()
	})
	t.Run("concurrent sessions", func(t *testing.T) {
		const n = 6
		var wg sync.WaitGroup
		users := make([]string, n)
		errs := make([]error, n)
		releases := make([]func(), n)
		for i := range n {
			wg.Go(func() {
				var p proxy.OpenParams
				p, releases[i], errs[i] = acquire(src, nil, want)
				users[i] = p.User
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("session %d: %v", i, errs[i])
			}
			defer releases[i]()
			if unique && seen[users[i]] {
				t.Errorf("user %s handed to two sessions", users[i])
			}
			seen[users[i]] = true
		}
	})
}

func TestCredentialSources(t *testing.T) {
	t.Run("Static", func(t *testing.T) {
		RunCredentialSourceSuite(t, Static{User: "ADMIN", Password: "pw"}, false)
	})
	t.Run("KV", func(t *testing.T) {
		f := newFakeVault(t)
		f.set(func(f *fakeVault) { f.kv = map[string]any{"username": "SVC", "password": "pw"} })
		RunCredentialSourceSuite(t, &KV{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Path: "snowflake"}, false)
	})
	for _, keyType := range []bool{false, true} {
		t.Run("Dynamic/keypair="+map[bool]string{false: "no", true: "yes"}[keyType], func(t *testing.T) {
			f := newFakeVault(t)
			f.set(func(f *fakeVault) { f.keyType = keyType })
			d := &Dynamic{Client: newTestClient(t, f, AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, nil), Role: "analyst"}
			RunCredentialSourceSuite(t, d, true)
			eventually(t, 5*time.Second, "every lease revoked", func() bool { return d.Active() == 0 })
		})
	}
}

// acquire returns src's credentials for a new session and their release
// function, a no-op when src has none.
func acquire(src proxy.CredentialSource, p *proxy.Principal, want proxy.OpenParams) (proxy.OpenParams, func(), error) {
	cr, err := src.Acquire(context.Background(), p, want)
	if cr.Release == nil {
		cr.Release = func() {}
	}
	return cr.Params, cr.Release, err
}
