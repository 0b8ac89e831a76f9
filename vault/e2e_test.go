package vault_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/vault"
)

// TestE2E_dynamicCredentials: a client logs in to the gateway with an OIDC
// token; the gateway, logged in to a real Vault with AppRole, gets a fresh
// stand-in user from the snowflake-database-plugin; the client's statements
// run upstream as that user; when the session closes the lease is revoked
// and the user is gone from the stand-in. Both credential types.
func TestE2E_dynamicCredentials(t *testing.T) {
	e := newEnv(t)
	roleID, secretID := e.Vault.setupAppRole(t)
	for _, tc := range []struct {
		role    string
		keyPair bool
	}{
		{"analyst", false},
		{"analyst-key", true},
	} {
		t.Run(tc.role, func(t *testing.T) {
			log, logs := captureLog()
			c, err := vault.NewClient(vault.Config{Address: e.Vault.Addr, Auth: vault.AppRole{RoleID: roleID, SecretID: secretID}, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			dyn := &vault.Dynamic{Client: c, Role: tc.role}
			addr := startGateway(t, e, dyn, log, nil)
			if got := e.vaultUsers(t); len(got) != 0 {
				t.Fatalf("stand-in has Vault users before any login: %+v", got)
			}

			db, _ := clientDB(t, e, addr, "analyst")
			ctx := context.Background()
			conn, err := db.Conn(ctx) // one gateway session
			if err != nil {
				t.Fatalf("login through the gateway: %v\ngateway log:\n%s", err, logs)
			}
			users := e.vaultUsers(t)
			if len(users) != 1 {
				t.Fatalf("stand-in users made by Vault while the session lives = %+v, want exactly one", users)
			}
			u := users[0]
			if u.HasPassword == tc.keyPair || u.HasPublicKey != tc.keyPair || u.DefaultRole != vaultRoleName {
				t.Errorf("Vault's user = %+v; want key pair %v, default role %s", u, tc.keyPair, vaultRoleName)
			}
			// Vault names the user in mixed case; Snowflake folds it.
			if !strings.Contains(strings.ToUpper(logs.String()), "UPSTREAM_USER="+u.Name) {
				t.Errorf("gateway log does not name upstream user %s:\n%s", u.Name, logs)
			}
			if n := len(e.Vault.leases(t, tc.role)); n != 1 {
				t.Errorf("Vault holds %d leases for %s during the session, want 1", n, tc.role)
			}

			var count int
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&count); err != nil || count != 200 {
				t.Errorf("SELECT through the gateway = %d, %v; want 200 rows counted", count, err)
			}
			// The upstream session is Vault's user: it holds the role Vault
			// granted, and not the administrator's.
			if _, err := conn.ExecContext(ctx, `USE ROLE `+vaultRoleName); err != nil {
				t.Errorf("USE ROLE %s as Vault's user: %v", vaultRoleName, err)
			}
			_, err = conn.ExecContext(ctx, `USE ROLE ACCOUNTADMIN`)
			var se *sf.SnowflakeError
			if !errors.As(err, &se) || se.Number != 3013 {
				t.Errorf("USE ROLE ACCOUNTADMIN = %v; want 003013, the role is not the session user's (the session must not run as ADMIN)", err)
			}

			conn.Close()
			db.Close() // gosnowflake ends the gateway session
			eventually(t, 20*time.Second, "Vault's user to be dropped from the stand-in", func() bool { return len(e.vaultUsers(t)) == 0 })
			// Vault drops the user before it forgets the lease: on a loaded
			// machine the lease outlives the user by a moment.
			eventually(t, 10*time.Second, "Vault to forget the lease", func() bool { return len(e.Vault.leases(t, tc.role)) == 0 })
			eventually(t, 5*time.Second, "the gateway to forget the lease", func() bool { return dyn.Active() == 0 })
			if !strings.Contains(logs.String(), "vault lease revoked") {
				t.Errorf("gateway log has no revocation:\n%s", logs)
			}
		})
	}
}

// TestE2E_leaseLife: a lease whose TTL is shorter than the session is
// renewed while the session lives (Vault would otherwise drop the user at
// expiry), and a session the gateway ends for idleness has its lease
// revoked too.
func TestE2E_leaseLife(t *testing.T) {
	e := newEnv(t)
	log, logs := captureLog()
	c, err := vault.NewClient(vault.Config{Address: e.Vault.Addr, Auth: vault.Token{Token: e.Vault.gatewayToken(t)}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dyn := &vault.Dynamic{Client: c, Role: "analyst-short"}
	addr := startGateway(t, e, dyn, log, func(c *proxy.Config) { c.IdleTimeout = 4 * time.Second })
	db, _ := clientDB(t, e, addr, "analyst")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, logs)
	}
	defer conn.Close()

	// The role's TTL is 6s; keep the session busy for 12s (renewals every 4s).
	for i := range 6 {
		time.Sleep(2 * time.Second)
		var one int
		if err := conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
			t.Fatalf("statement %d at %ds: %v", i, 2*(i+1), err)
		}
		if n := len(e.vaultUsers(t)); n != 1 {
			t.Fatalf("at %ds the stand-in has %d Vault users, want 1: the lease was not kept renewed\n%s", 2*(i+1), n, logs)
		}
	}
	if !strings.Contains(logs.String(), "vault lease renewed") {
		t.Errorf("no renewal logged:\n%s", logs)
	}

	// Idle: the gateway ends the session and releases its credentials.
	eventually(t, 20*time.Second, "the idle session's user to be dropped", func() bool { return len(e.vaultUsers(t)) == 0 })
	if !strings.Contains(logs.String(), "idle timeout") {
		t.Errorf("the session did not end by idle timeout:\n%s", logs)
	}
	// Vault drops the user before it deletes the lease's entry: the two
	// are not seen at once.
	eventually(t, 5*time.Second, "Vault to forget the idle session's lease", func() bool { return len(e.Vault.leases(t, "analyst-short")) == 0 })
}

// TestE2E_vaultDown: with Vault unreachable or hanging, a login fails
// within the configured bound with a clear error and leaves nothing
// behind; sessions already open keep working; once Vault is back, logins
// work again without restarting anything.
func TestE2E_vaultDown(t *testing.T) {
	e := newEnv(t)
	fp := newFaultProxy(t, e.Vault.Addr)
	log, logs := captureLog()
	c, err := vault.NewClient(vault.Config{Address: fp.URL(), Auth: vault.Token{Token: e.Vault.gatewayToken(t)}, Logger: log, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	const bound = 2 * time.Second
	dyn := &vault.Dynamic{Client: c, Role: "analyst", Timeout: bound}
	addr := startGateway(t, e, dyn, log, nil)
	ctx := context.Background()

	existing, _ := clientDB(t, e, addr, "analyst")
	held, err := existing.Conn(ctx)
	if err != nil {
		t.Fatalf("login while Vault is up: %v", err)
	}
	defer held.Close()

	for _, mode := range []string{"drop", "hang"} {
		t.Run(mode, func(t *testing.T) {
			fp.set(mode)
			defer fp.set("pass")
			db, _ := clientDB(t, e, addr, "analyst")
			start := time.Now()
			err := db.PingContext(ctx)
			took := time.Since(start)
			var se *sf.SnowflakeError
			if !errors.As(err, &se) || se.Number != 390190 || !strings.Contains(se.Message, "could not get upstream credentials") {
				t.Fatalf("login with Vault %s = %v; want Snowflake error 390190 saying credentials could not be had", mode, err)
			}
			if took > bound+3*time.Second {
				t.Errorf("login with Vault %s failed after %s; want within about %s", mode, took, bound)
			}
			if n := dyn.Active(); n != 1 {
				t.Errorf("gateway holds %d leases, want only the open session's", n)
			}
			if n := len(e.vaultUsers(t)); n != 1 {
				t.Errorf("stand-in has %d Vault users, want only the open session's", n)
			}
			var one int
			if err := held.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
				t.Errorf("the session opened before Vault went %s stopped working: %v", mode, err)
			}
		})
	}

	// Vault is back: a new login works, no restart.
	db, _ := clientDB(t, e, addr, "analyst")
	var count int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&count); err != nil || count != 200 {
		t.Fatalf("after Vault came back: %d, %v\n%s", count, err, logs)
	}
	db.Close()
	held.Close()
	existing.Close()
	eventually(t, 20*time.Second, "all Vault users dropped", func() bool { return len(e.vaultUsers(t)) == 0 })
}

// TestE2E_credentialSourceSuite runs the CredentialSource contract against
// the real Vault, both credential types.
func TestE2E_credentialSourceSuite(t *testing.T) {
	e := newEnv(t)
	c, err := vault.NewClient(vault.Config{Address: e.Vault.Addr, Auth: vault.Token{Token: e.Vault.gatewayToken(t)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"analyst", "analyst-key"} {
		t.Run(role, func(t *testing.T) {
			d := &vault.Dynamic{Client: c, Role: role}
			vault.RunCredentialSourceSuite(t, d, true)
			eventually(t, 20*time.Second, "every user dropped", func() bool { return d.Active() == 0 && len(e.vaultUsers(t)) == 0 })
		})
	}
}
