package vault_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/vault"
)

// recorder remembers the upstream credentials a source hands out, so the
// leak test knows what to look for.
type recorder struct {
	src    proxy.CredentialSource
	mu     sync.Mutex
	issued []proxy.OpenParams
}

func (r *recorder) Acquire(ctx context.Context, p *proxy.Principal, want proxy.OpenParams) (proxy.Credentials, error) {
	got, err := r.src.Acquire(ctx, p, want)
	if err == nil {
		r.mu.Lock()
		r.issued = append(r.issued, got.Params)
		r.mu.Unlock()
	}
	return got, err
}

// auditBuffer is an audit trail kept as JSON lines, to be scanned.
type auditBuffer struct {
	mu sync.Mutex
	b  strings.Builder
	n  int
}

func (a *auditBuffer) Record(ctx context.Context, e audit.Event) (string, error) {
	j, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	a.b.Write(j)
	a.b.WriteByte('\n')
	return strconv.Itoa(a.n), nil
}

func (a *auditBuffer) Defer(e audit.Event) error {
	_, err := a.Record(context.Background(), e)
	return err
}

func (a *auditBuffer) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.b.String()
}

// secretsOf lists what must never be written: each credential, and for a
// PEM key each of its base64 lines as well.
func (r *recorder) secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.issued {
		if p.Password != "" {
			out = append(out, p.Password)
		}
		if p.PrivateKey != "" {
			out = append(out, p.PrivateKey)
			for _, line := range strings.Split(p.PrivateKey, "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					out = append(out, line)
				}
			}
		}
	}
	return out
}

// TestE2E_noSecretsLeak drives logins with both credential types,
// statements, errors and a Vault outage through a gateway, then scans
// everything the gateway wrote (its log at debug level, with the policy
// engine's, and its audit trail) and every error message clients received for the Vault tokens,
// the upstream passwords and private keys, and the clients' OIDC tokens.
func TestE2E_noSecretsLeak(t *testing.T) {
	e := newEnv(t)
	fp := newFaultProxy(t, e.Vault.Addr)
	log, logs := captureLog()
	gwToken := e.Vault.gatewayToken(t)
	c, err := vault.NewClient(vault.Config{Address: fp.URL(), Auth: vault.Token{Token: gwToken}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var (
		clientErrors []string
		oidcTokens   []string
		ctx          = context.Background()
	)
	record := func(err error) {
		if err != nil {
			clientErrors = append(clientErrors, err.Error())
		}
	}
	var recs []*recorder
	var dyns []*vault.Dynamic
	trail := &auditBuffer{}
	for _, role := range []string{"analyst", "analyst-key"} {
		dyn := &vault.Dynamic{Client: c, Role: role, Timeout: 2 * time.Second}
		dyns = append(dyns, dyn)
		rec := &recorder{src: dyn}
		recs = append(recs, rec)
		addr := startGateway(t, e, rec, log, func(c *proxy.Config) { c.Audit = trail })

		db, tok := clientDB(t, e, addr, "analyst")
		oidcTokens = append(oidcTokens, tok)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n); err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		_, err := db.ExecContext(ctx, `SELECT * FROM no_such_table`)
		if err == nil {
			t.Errorf("%s: a missing table did not fail", role)
		}
		record(err)
		_, err = db.ExecContext(ctx, `USE ROLE ACCOUNTADMIN`)
		record(err)
		db.Close()

		fp.set("drop")
		down, tok := clientDB(t, e, addr, "analyst")
		oidcTokens = append(oidcTokens, tok)
		err = down.PingContext(ctx)
		if err == nil {
			t.Errorf("%s: login with Vault down succeeded", role)
		}
		record(err)
		down.Close()
		fp.set("pass")

		// A forged client token is refused; its text must not come back.
		forged := tok[:len(tok)-4] + "AAAA"
		oidcTokens = append(oidcTokens, forged)
		record(tokenDB(t, addr, forged).PingContext(ctx))
	}
	eventually(t, 20*time.Second, "all Vault users dropped and leases let go", func() bool {
		return len(e.vaultUsers(t)) == 0 && dyns[0].Active() == 0 && dyns[1].Active() == 0
	})

	secrets := map[string]string{"gateway Vault token": gwToken, "root token": e.Vault.RootToken, "stand-in admin password": standinPassword}
	for i, tok := range oidcTokens {
		secrets["client OIDC token #"+strconv.Itoa(i)] = tok
	}
	issued := 0
	for _, rec := range recs {
		for _, s := range rec.secrets() {
			issued++
			secrets["upstream credential #"+strconv.Itoa(issued)] = s
		}
	}
	if issued < 2 {
		t.Fatalf("only %d upstream secrets recorded; the scan would prove little", issued)
	}
	written := logs.String() + "\n" + trail.String()
	for _, want := range []string{"vault credentials issued", "vault lease revoked", "could not get upstream credentials", "no_such_table"} {
		if !strings.Contains(written+strings.Join(clientErrors, "\n"), want) {
			t.Errorf("scanned output lacks %q: the scan is not looking at the right output", want)
		}
	}
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(written, s) {
			t.Errorf("%s appears in the gateway log or audit trail", name)
		}
		for _, msg := range clientErrors {
			if strings.Contains(msg, s) {
				t.Errorf("%s appears in an error sent to the client: %s", name, msg)
			}
		}
	}
	t.Logf("scanned %d bytes of log and audit trail and %d client errors for %d secrets", len(written), len(clientErrors), len(secrets))
}
