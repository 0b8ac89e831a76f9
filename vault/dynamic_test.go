package vault

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// fakeSecrets are the secret values the fake Vault deals in.
var fakeSecrets = []string{"gw-secret-abc", "pw-secret-", "hvs.fake-login", "root-token-xyz", "PRIVATE KEY", "sa.jwt.token"}

// assertNoSecrets fails if any secret appears in the texts.
func assertNoSecrets(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("secret %q leaked into output:\n%s", s, text)
			}
		}
	}
}

func newTestClient(t *testing.T, f *fakeVault, auth Auth, log *slog.Logger) *Client {
	t.Helper()
	c, err := NewClient(Config{Address: f.srv.URL, Auth: auth, Logger: log, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDynamic_Acquire(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keyType bool
		want    proxy.OpenParams
	}{
		{"password", false, proxy.OpenParams{User: "v_token_analyst_1", Password: "pw-secret-1", Database: "DEMO", Role: "ANALYST"}},
		{"rsa_private_key", true, proxy.OpenParams{User: "v_token_analyst_1", PrivateKey: "-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n", Database: "DEMO", Role: "ANALYST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			f.set(func(f *fakeVault) { f.keyType = tc.keyType })
			log, buf := debugLogger()
			d := &Dynamic{Client: newTestClient(t, f, AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, log), Role: "analyst"}
			cr, err := d.Acquire(context.Background(), &proxy.Principal{}, proxy.OpenParams{Database: "DEMO", Role: "ANALYST", Password: "ignored"})
			got, release := cr.Params, cr.Release
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("OpenParams\n got %+v\nwant %+v", got, tc.want)
			}
			if d.Active() != 1 {
				t.Errorf("Active() = %d while the session lives, want 1", d.Active())
			}
			release()
			release() // twice is harmless
			eventually(t, 5*time.Second, "the lease to be revoked", func() bool { return d.Active() == 0 })
			f.get(func(f *fakeVault) {
				if got := strings.Join(f.revoked, ","); got != "database/creds/analyst/lease1" {
					t.Errorf("revoked leases = %s, want database/creds/analyst/lease1", got)
				}
			})
			assertNoSecrets(t, fakeSecrets, buf.String())
			if !strings.Contains(buf.String(), "vault credentials issued") || !strings.Contains(buf.String(), "vault lease revoked") {
				t.Errorf("log misses the issue/revoke lines:\n%s", buf)
			}
		})
	}
}

func TestDynamic_Acquire_role(t *testing.T) {
	for _, tc := range []struct {
		name     string
		defRole  string
		princ    *proxy.Principal
		wantErr  error
		wantUser string
	}{
		{"default role", "analyst", &proxy.Principal{}, nil, "v_token_analyst_1"},
		{"principal's role wins", "nope", &proxy.Principal{VaultRole: "analyst"}, nil, "v_token_analyst_1"},
		{"nil principal", "analyst", nil, nil, "v_token_analyst_1"},
		{"unknown role", "", &proxy.Principal{VaultRole: "missing"}, ErrRefused, ""},
		{"no role at all", "", &proxy.Principal{}, ErrConfig, ""},
		{"path in role", "", &proxy.Principal{VaultRole: "../../sys/raw"}, ErrConfig, ""},
		{"dotdot in role", "", &proxy.Principal{VaultRole: "a..b"}, ErrConfig, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Role: tc.defRole}
			cr, err := d.Acquire(context.Background(), tc.princ, proxy.OpenParams{})
			got, release := cr.Params, cr.Release
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Acquire error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				assertNoSecrets(t, fakeSecrets, err.Error())
				return
			}
			defer release()
			if got.User != tc.wantUser {
				t.Errorf("user = %q, want %q", got.User, tc.wantUser)
			}
		})
	}
}

// TestDynamic_renewal: a lease is renewed while the session lives, and no
// longer once the session ended.
func TestDynamic_renewal(t *testing.T) {
	f := newFakeVault(t)
	f.set(func(f *fakeVault) { f.leaseTTL = 2 })
	d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Role: "analyst"}
	cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
	release := cr.Release
	if err != nil {
		t.Fatal(err)
	}
	const id = "database/creds/analyst/lease1"
	eventually(t, 5*time.Second, "two renewals", func() (ok bool) {
		f.get(func(f *fakeVault) { ok = f.renewals[id] >= 2 })
		return ok
	})
	release()
	eventually(t, 5*time.Second, "revocation", func() bool { return d.Active() == 0 })
	var n int
	f.get(func(f *fakeVault) { n = f.renewals[id] })
	time.Sleep(1500 * time.Millisecond)
	f.get(func(f *fakeVault) {
		if f.renewals[id] != n {
			t.Errorf("lease renewed %d more times after the session ended", f.renewals[id]-n)
		}
	})
}

// TestDynamic_renewalStopsAtMaxTTL: when a renewal gains no time (the role's
// max TTL), the keeper stops renewing instead of spinning.
func TestDynamic_renewalStopsAtMaxTTL(t *testing.T) {
	f := newFakeVault(t)
	f.set(func(f *fakeVault) { f.leaseTTL, f.renewTTL = 1, -1 })
	d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Role: "analyst"}
	cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
	release := cr.Release
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	time.Sleep(2 * time.Second)
	f.get(func(f *fakeVault) {
		if n := f.renewals["database/creds/analyst/lease1"]; n != 1 {
			t.Errorf("renewals = %d, want 1 (the one that gained nothing)", n)
		}
	})
}

// TestDynamic_renewalRetries: a renewal that fails is retried, and the
// session's lease is not given up while Vault is away.
func TestDynamic_renewalRetries(t *testing.T) {
	f := newFakeVault(t)
	f.set(func(f *fakeVault) { f.leaseTTL = 3 })
	log, buf := debugLogger()
	d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, log), Role: "analyst", Timeout: 300 * time.Millisecond}
	cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
	release := cr.Release
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	f.set(func(f *fakeVault) { f.fail = 503 })
	eventually(t, 5*time.Second, "a failed renewal", func() bool { return strings.Contains(buf.String(), "renewal failed; retrying") })
	f.set(func(f *fakeVault) { f.fail = 0 })
	eventually(t, 5*time.Second, "a renewal after recovery", func() (ok bool) {
		f.get(func(f *fakeVault) { ok = f.renewals["database/creds/analyst/lease1"] >= 1 })
		return ok
	})
	if d.Active() != 1 {
		t.Errorf("Active() = %d, want the session's lease still held", d.Active())
	}
}

// TestDynamic_unavailable: a slow, failing or refusing Vault ends Acquire
// within its timeout with a clear error and leaves nothing behind; the
// next Acquire after recovery works without a restart.
func TestDynamic_unavailable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		break_  func(f *fakeVault)
		auth    Auth
		wantErr error
	}{
		{"slow", func(f *fakeVault) { f.hang = true }, Token{Token: "root-token-xyz"}, ErrUnavailable},
		{"sealed", func(f *fakeVault) { f.fail = 503 }, Token{Token: "root-token-xyz"}, ErrUnavailable},
		{"token refused", func(f *fakeVault) { delete(f.tokens, "root-token-xyz") }, Token{Token: "root-token-xyz"}, ErrDenied},
		{"approle refused", func(f *fakeVault) { f.fail = 403 }, AppRole{RoleID: "gw-role", SecretID: "gw-secret-abc"}, ErrDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			log, buf := debugLogger()
			d := &Dynamic{Client: newTestClient(t, f, tc.auth, log), Role: "analyst", Timeout: 300 * time.Millisecond}
			f.set(tc.break_)
			start := time.Now()
			cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
			release := cr.Release
			took := time.Since(start)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Acquire error = %v, want %v", err, tc.wantErr)
			}
			if release != nil {
				t.Error("Acquire returned a release function with its error")
			}
			if took > time.Second {
				t.Errorf("Acquire took %s, want it bounded by its 300ms timeout", took)
			}
			if d.Active() != 0 {
				t.Errorf("Active() = %d after a failed Acquire", d.Active())
			}
			assertNoSecrets(t, fakeSecrets, err.Error(), buf.String())

			f.set(func(f *fakeVault) { f.hang, f.fail, f.tokens["root-token-xyz"] = false, 0, true })
			cr, err = d.Acquire(context.Background(), nil, proxy.OpenParams{})
			release = cr.Release
			if err != nil {
				t.Fatalf("Acquire after recovery: %v", err)
			}
			release()
		})
	}
}

// TestDynamic_badSecret: an answer without usable credentials fails
// Acquire, and its lease is revoked at once.
func TestDynamic_badSecret(t *testing.T) {
	f := newFakeVault(t)
	f.set(func(f *fakeVault) { f.badSecret = true })
	d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Role: "analyst"}
	if _, err := d.Acquire(context.Background(), nil, proxy.OpenParams{}); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("Acquire error = %v, want ErrBadSecret", err)
	}
	eventually(t, 5*time.Second, "the unusable lease to be revoked", func() (ok bool) {
		f.get(func(f *fakeVault) { ok = len(f.revoked) == 1 && len(f.leases) == 0 })
		return ok
	})
}

func TestDynamic_Close(t *testing.T) {
	f := newFakeVault(t)
	d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, nil), Role: "analyst"}
	for range 3 {
		if _, err := d.Acquire(context.Background(), nil, proxy.OpenParams{}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	f.get(func(f *fakeVault) {
		if len(f.leases) != 0 || len(f.revoked) != 3 {
			t.Errorf("after Close: %d leases live, %d revoked; want 0 and 3", len(f.leases), len(f.revoked))
		}
	})
	if _, err := d.Acquire(context.Background(), nil, proxy.OpenParams{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Acquire after Close = %v, want ErrClosed", err)
	}
}

// TestDynamic_withdrawn: credentials whose lease goes while the session
// lives are withdrawn from it, with the reason: a lease revoked in Vault
// (noticed by the periodic lookup, or by the next renewal when lookups
// are off), a lease that expired because renewals failed, and one that
// reached its maximum TTL. A lease Vault still knows is never withdrawn,
// nor is one the gateway may not look up.
func TestDynamic_withdrawn(t *testing.T) {
	const id = "database/creds/analyst/lease1"
	for _, tc := range []struct {
		name       string
		ttl        int           // the lease's TTL, seconds
		checkEvery time.Duration // Dynamic.CheckEvery
		fault      func(f *fakeVault)
		want       string // in the cause; "" for no withdrawal
	}{
		{"revoked, noticed by a lookup", 60, 50 * time.Millisecond, func(f *fakeVault) { delete(f.leases, id) }, "revoked in vault"},
		{"revoked, noticed at renewal", 1, -1, func(f *fakeVault) { delete(f.leases, id) }, "revoked in vault"},
		{"renewals failing until expiry", 2, -1, func(f *fakeVault) { f.fail = 503 }, "expired: renewals failed"},
		{"maximum TTL reached", 1, -1, func(f *fakeVault) { f.renewTTL = -1 }, "expired"},
		{"vault unreachable for lookups", 60, 50 * time.Millisecond, func(f *fakeVault) { f.fail = 503 }, ""},
		{"lookups denied", 60, 50 * time.Millisecond, func(f *fakeVault) { f.noLookup = true }, ""},
		{"lease alive", 60, 50 * time.Millisecond, func(f *fakeVault) {}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeVault(t)
			f.set(func(f *fakeVault) { f.leaseTTL = tc.ttl })
			log, buf := debugLogger()
			d := &Dynamic{Client: newTestClient(t, f, Token{Token: "root-token-xyz"}, log), Role: "analyst",
				Timeout: 300 * time.Millisecond, CheckEvery: tc.checkEvery}
			defer d.Close(context.Background())
			cr, err := d.Acquire(context.Background(), nil, proxy.OpenParams{})
			if err != nil {
				t.Fatal(err)
			}
			if cr.Withdrawn == nil {
				t.Fatal("dynamic credentials without a Withdrawn context")
			}
			f.set(tc.fault)
			if tc.want == "" {
				select {
				case <-cr.Withdrawn.Done():
					t.Fatalf("credentials withdrawn: %v", context.Cause(cr.Withdrawn))
				case <-time.After(1500 * time.Millisecond):
				}
				if tc.name == "lease alive" {
					f.get(func(f *fakeVault) {
						if f.lookups < 5 {
							t.Errorf("%d lease lookups in 1.5 s, every 50 ms", f.lookups)
						}
					})
				}
				if strings.Contains(tc.name, "denied") && strings.Count(buf.String(), "vault denies lease lookups") != 1 {
					t.Errorf("want the denied lookups logged once:\n%s", buf)
				}
				f.set(func(f *fakeVault) { f.fail = 0 })
				cr.Release()
				eventually(t, 5*time.Second, "the lease to be revoked", func() bool { return d.Active() == 0 })
				return
			}
			select {
			case <-cr.Withdrawn.Done():
			case <-time.After(5 * time.Second):
				t.Fatalf("credentials not withdrawn 5 s after the lease went")
			}
			if cause := context.Cause(cr.Withdrawn); cause == nil || !strings.Contains(cause.Error(), tc.want) {
				t.Errorf("withdrawn because %v; want %q in it", cause, tc.want)
			}
			if d.Withdrawn() != 1 || d.Active() != 1 {
				t.Errorf("Withdrawn() = %d, Active() = %d before the session let go; want 1 and 1", d.Withdrawn(), d.Active())
			}
			cr.Release()
			eventually(t, 5*time.Second, "the session's lease to be forgotten", func() bool { return d.Active() == 0 })
			f.get(func(f *fakeVault) {
				if len(f.revoked) != 0 {
					t.Errorf("a lease Vault no longer knows was revoked again: %v", f.revoked)
				}
			})
		})
	}
}
