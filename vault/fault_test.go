package vault_test

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/vault"
)

// unsealKey is the dev server's unseal key, which it prints at start.
func (v *vaultServer) unsealKey(t testing.TB) string {
	t.Helper()
	m := regexp.MustCompile(`Unseal Key: (\S+)`).FindStringSubmatch(v.out.String())
	if m == nil {
		t.Fatalf("no unseal key in the dev server's output:\n%s", v.out)
	}
	return m[1]
}

// TestFault_vault is the Vault case of the fault campaign (README "Faults
// under load"): with a session open and statements flowing through a
// gateway whose credentials come from a real Vault, Vault is sealed and
// unsealed, goes away (connections refused) and comes back, turns slow
// (connections accepted, never answered) and recovers, then a session's
// lease is revoked through Vault's API. At the end: no credential in the
// gateway's log or in any client error, no lease left in the gateway or in
// Vault, goroutines back to their baseline.
func TestFault_vault(t *testing.T) {
	e := newEnv(t)
	log, logs := captureLog()
	token := e.Vault.gatewayToken(t)
	fp := newFaultProxy(t, e.Vault.Addr) // between the gateway and Vault
	c, err := vault.NewClient(vault.Config{Address: fp.URL(), Auth: vault.Token{Token: token}, Logger: log, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	dyn := &vault.Dynamic{Client: c, Role: "analyst", Timeout: 2 * time.Second, CheckEvery: 200 * time.Millisecond}
	rec := &recorder{src: dyn}
	addr := startGateway(t, e, rec, log, nil)
	ctx := context.Background()
	baseline := liveGoroutines()

	var (
		emu          sync.Mutex
		clientErrors []string
	)
	record := func(err error) {
		if err != nil {
			emu.Lock()
			clientErrors = append(clientErrors, err.Error())
			emu.Unlock()
		}
	}

	// The held session, with statements flowing all along.
	held, _ := clientDB(t, e, addr, "analyst")
	conn, err := held.Conn(ctx)
	if err != nil {
		t.Fatalf("login while Vault is up: %v\n%s", err, logs)
	}
	var ran, failed atomic.Int64
	stop := make(chan struct{})
	flowing := make(chan struct{})
	go func() {
		defer close(flowing)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var one int
			if err := conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
				record(err)
				failed.Add(1)
				continue
			}
			ran.Add(1)
		}
	}()

	t.Run("sealed", func(t *testing.T) {
		if err := e.Vault.Admin.Sys().Seal(); err != nil {
			t.Fatalf("seal: %v", err)
		}
		before := ran.Load()
		db, _ := clientDB(t, e, addr, "analyst")
		start := time.Now()
		err := db.PingContext(ctx)
		t.Logf("login with Vault sealed failed after %s", time.Since(start).Round(time.Millisecond))
		record(err)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) || se.Number != 390190 || se.SQLState != "08004" || !strings.Contains(se.Message, "could not get upstream credentials") {
			t.Errorf("login with Vault sealed = %v; want 390190 (08004), credentials could not be had", err)
		}
		if !strings.Contains(logs.String(), "vault unavailable") {
			t.Errorf("the gateway log does not name Vault as unavailable:\n%s", logs)
		}
		db.Close()
		eventually(t, 10*time.Second, "statements on the held session while Vault is sealed", func() bool { return ran.Load() >= before+5 })
		if n := failed.Load(); n != 0 {
			t.Errorf("%d statements of the held session failed while Vault was sealed", n)
		}

		if _, err := e.Vault.Admin.Sys().Unseal(e.Vault.unsealKey(t)); err != nil {
			t.Fatalf("unseal: %v", err)
		}
		unsealed := time.Now()
		var back time.Duration
		eventually(t, 30*time.Second, "a login to succeed after the unseal", func() bool {
			db, _ := clientDB(t, e, addr, "analyst")
			defer db.Close()
			if err := db.PingContext(ctx); err != nil {
				record(err)
				return false
			}
			back = time.Since(unsealed)
			return true
		})
		t.Logf("recovery: first login %s after the unseal", back.Round(time.Millisecond))
	})

	// loginFails checks that a new login fails with the credentials error
	// within bound; recovered measures the time to the first login that
	// succeeds.
	loginFails := func(t *testing.T, bound time.Duration) {
		t.Helper()
		db, _ := clientDB(t, e, addr, "analyst")
		defer db.Close()
		start := time.Now()
		err := db.PingContext(ctx)
		took := time.Since(start)
		t.Logf("login failed after %s: %v", took.Round(time.Millisecond), err)
		record(err)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) || se.Number != 390190 || se.SQLState != "08004" || !strings.Contains(se.Message, "could not get upstream credentials") {
			t.Errorf("login = %v; want 390190 (08004), credentials could not be had", err)
		}
		if took > bound {
			t.Errorf("the failed login took %s; Acquire's timeout is 2 s", took.Round(time.Millisecond))
		}
	}
	recovered := func(t *testing.T, since time.Time) {
		t.Helper()
		var back time.Duration
		eventually(t, 30*time.Second, "a login to succeed after Vault came back", func() bool {
			db, _ := clientDB(t, e, addr, "analyst")
			defer db.Close()
			if err := db.PingContext(ctx); err != nil {
				record(err)
				return false
			}
			back = time.Since(since)
			return true
		})
		t.Logf("recovery: first login %s after Vault came back", back.Round(time.Millisecond))
	}
	heldGoesOn := func(t *testing.T) {
		t.Helper()
		before := ran.Load()
		eventually(t, 10*time.Second, "statements on the held session", func() bool { return ran.Load() >= before+5 })
		if n := failed.Load(); n != 0 {
			t.Errorf("%d statements of the held session failed", n)
		}
	}

	t.Run("down", func(t *testing.T) {
		fp.set("drop")
		loginFails(t, 5*time.Second)
		heldGoesOn(t)
		fp.set("pass")
		recovered(t, time.Now())
	})

	t.Run("slow", func(t *testing.T) {
		fp.set("hang")
		loginFails(t, 5*time.Second)
		heldGoesOn(t)
		fp.set("pass")
		recovered(t, time.Now())
		heldGoesOn(t)
	})

	t.Run("lease revoked", func(t *testing.T) {
		eventually(t, 20*time.Second, "the recovery session's lease to go", func() bool { return dyn.Active() == 1 })
		prev := map[string]bool{}
		for _, l := range e.Vault.leases(t, "analyst") {
			prev[l] = true
		}
		db, _ := clientDB(t, e, addr, "analyst")
		victim, err := db.Conn(ctx)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		defer victim.Close()
		var user string
		if err := victim.QueryRowContext(ctx, `SELECT CURRENT_USER()`).Scan(&user); err != nil {
			t.Fatal(err)
		}
		var lease string
		for _, l := range e.Vault.leases(t, "analyst") {
			if !prev[l] {
				lease = "database/creds/analyst/" + l
			}
		}
		if lease == "" {
			t.Fatalf("no new lease for the session in %v", e.Vault.leases(t, "analyst"))
		}
		if err := e.Vault.Admin.Sys().Revoke(lease); err != nil {
			t.Fatalf("revoke %s: %v", lease, err)
		}
		revoked := time.Now()
		eventually(t, 20*time.Second, "the session's user to be dropped", func() bool {
			for _, u := range e.vaultUsers(t) {
				if strings.EqualFold(u.Name, user) {
					return false
				}
			}
			return true
		})
		// Vault's answer to the gateway's next lookup of the lease ends the
		// session: its next statement finds it gone, and a new login gets a
		// new user.
		eventually(t, 10*time.Second, "the gateway to end the session", func() bool { return dyn.Withdrawn() == 1 })
		t.Logf("session ended %s after the revocation", time.Since(revoked).Round(time.Millisecond))
		var got string
		err = victim.QueryRowContext(ctx, `SELECT CURRENT_USER()`).Scan(&got)
		record(err)
		if err == nil {
			t.Fatalf("a statement ran as %s on the session whose lease was revoked", got)
		}
		t.Logf("the session's next statement: %v", err)
		if !strings.Contains(logs.String(), "upstream credentials withdrawn") {
			t.Errorf("the gateway log does not say why the session ended:\n%s", logs)
		}
		again, _ := clientDB(t, e, addr, "analyst")
		defer again.Close()
		if err := again.QueryRowContext(ctx, `SELECT CURRENT_USER()`).Scan(&got); err != nil || strings.EqualFold(got, user) {
			t.Errorf("a new login after the revocation ran as %q (%v); want a new user, not %s", got, err, user)
		}
		if n := failed.Load(); n != 0 {
			t.Errorf("%d statements of the held session failed", n)
		}
	})

	close(stop)
	<-flowing
	conn.Close()
	held.Close()
	eventually(t, 20*time.Second, "the gateway to hold no lease", func() bool { return dyn.Active() == 0 })
	eventually(t, 20*time.Second, "Vault to hold no lease", func() bool { return len(e.Vault.leases(t, "analyst")) == 0 })
	eventually(t, 20*time.Second, "no Vault user left", func() bool { return len(e.vaultUsers(t)) == 0 })
	t.Logf("held session: %d statements ran, %d failed", ran.Load(), failed.Load())

	secrets := append(rec.secrets(), token, e.Vault.RootToken, standinPassword)
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets recorded; the scan would prove little", len(secrets))
	}
	written := logs.String()
	emu.Lock()
	errs := strings.Join(clientErrors, "\n")
	emu.Unlock()
	for i, s := range secrets {
		if strings.Contains(written, s) || strings.Contains(errs, s) {
			t.Errorf("secret #%d appears in the gateway log or a client error", i)
		}
	}

	var goroutines int
	deadline := time.Now().Add(20 * time.Second)
	for {
		goroutines = liveGoroutines()
		if goroutines <= baseline || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("goroutines (idle keep-alive connections aside): baseline %d, after %d", baseline, goroutines)
	if goroutines > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the sessions closed, baseline %d:\n%s", goroutines, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// liveGoroutines counts goroutines other than the HTTP clients' and
// servers' idle keep-alive connections, and the fault proxy's copies of
// them, whose number depends on the connection pools and not on the
// sessions.
func liveGoroutines() int {
	buf := make([]byte, 4<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "net/http.(*persistConn)") && !strings.Contains(g, "net/http.(*conn).serve") && !strings.Contains(g, "(*faultProxy).pipe") {
			n++
		}
	}
	return n
}
