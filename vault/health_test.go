package vault_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	adminapi "github.com/snowgate/snowgate/proxy/admin"
	"github.com/snowgate/snowgate/vault"
)

// TestHealth_readyAndLeases: with a session's dynamic credentials from a
// real Vault, /readyz names Vault ready and /metrics counts the lease;
// once Vault stops, /readyz answers 503 naming Vault (without the token),
// and the failing renewals of the short lease are counted.
func TestHealth_readyAndLeases(t *testing.T) {
	e := newEnv(t)
	token := e.Vault.gatewayToken(t)
	c, err := vault.NewClient(vault.Config{Address: e.Vault.Addr, Auth: vault.Token{Token: token}, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dyn := &vault.Dynamic{Client: c, Role: "analyst-short"} // 6 s leases, renewed after 4 s
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = dyn.Close(ctx)
	})
	addr := startGateway(t, e, dyn, nil, nil)
	admin := httptest.NewServer(adminapi.New(adminapi.Config{Vault: dyn, ReadyCache: time.Nanosecond}))
	t.Cleanup(admin.Close)

	db, _ := clientDB(t, e, addr, "analyst")
	conn, err := db.Conn(context.Background()) // one session, one lease
	if err != nil {
		t.Fatalf("login through the gateway: %v", err)
	}
	defer conn.Close()

	code, ready := readyz(t, admin.URL)
	if code != http.StatusOK || ready.Checks["vault"] != "ok" {
		t.Fatalf("/readyz with Vault up: %d %+v", code, ready)
	}
	if got := metric(t, admin.URL, "snowgate_vault_leases"); got != 1 {
		t.Errorf("snowgate_vault_leases = %v, want 1", got)
	}
	if got := metric(t, admin.URL, "snowgate_vault_lease_renew_failures_total"); got != 0 {
		t.Errorf("snowgate_vault_lease_renew_failures_total = %v before any failure", got)
	}

	e.Vault.stop()
	code, ready = readyz(t, admin.URL)
	if code != http.StatusServiceUnavailable || !slices.Equal(ready.Failed, []string{"vault"}) || !strings.Contains(ready.Checks["vault"], "vault unavailable") {
		t.Fatalf("/readyz with Vault stopped: %d %+v; want 503 naming vault", code, ready)
	}
	if body := get(t, admin.URL+"/readyz"); strings.Contains(body, token) || strings.Contains(body, e.Vault.RootToken) {
		t.Errorf("/readyz shows a Vault token: %s", body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for metric(t, admin.URL, "snowgate_vault_lease_renew_failures_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no failed lease renewal counted with Vault stopped")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type readyBody struct {
	Ready  bool
	Failed []string
	Checks map[string]string
}

func readyz(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b readyBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return resp.StatusCode, b
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metric reads an unlabelled sample from /metrics; -1 when it is missing.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(get(t, base+"/metrics"))
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}
