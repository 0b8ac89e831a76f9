package vault_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// vaultServer is a real `vault server -dev` on a free loopback port.
type vaultServer struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	Admin     *api.Client // carries the root token; for setting Vault up only
	out       *syncBuffer
	stop      func() // kills the server and waits for it to exit
}

// startVault runs the Vault binary named by SNOWGATE_VAULT in dev mode.
func startVault(t testing.TB) *vaultServer {
	t.Helper()
	bin := os.Getenv("SNOWGATE_VAULT")
	if bin == "" {
		t.Fatal("SNOWGATE_VAULT is not set: build Vault with `.ci/build-vault.sh` (it prints the binary's path) and run the tests with SNOWGATE_VAULT=$(.ci/build-vault.sh)")
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	root := "root-" + randomHex(t, 16)
	v := &vaultServer{Addr: "http://" + addr, RootToken: root, out: &syncBuffer{}}
	cmd := exec.Command(bin, "server", "-dev", "-dev-listen-address="+addr, "-dev-root-token-id="+root, "-dev-no-store-token", "-log-level=warn")
	// A clean environment: no VAULT_* settings from outside, and the
	// Snowflake driver inside Vault must not probe cloud metadata servers.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true", "SF_DISABLE_MINICORE=true"}
	cmd.Stdout, cmd.Stderr = v.out, v.out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start vault %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	v.stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(func() {
		v.stop()
		if t.Failed() {
			t.Logf("vault server output:\n%s", v.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(v.Addr + "/v1/sys/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("vault exited at start:\n%s", v.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vault did not become healthy within 60s:\n%s", v.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cfg := api.DefaultConfig()
	cfg.Address = v.Addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(root)
	v.Admin = c
	return v
}

// write is a Vault write that must succeed.
func (v *vaultServer) write(t testing.TB, path string, data map[string]any) *api.Secret {
	t.Helper()
	sec, err := v.Admin.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("vault write %s: %v", path, err)
	}
	return sec
}

// roleTTL sets the lease TTLs of the Vault roles the tests create.
type roleTTL struct{ def, max string }

// setupDatabase enables the database secrets engine with the built-in
// snowflake-database-plugin managing users in the stand-in at standinAddr,
// and creates the roles: analyst (password), analyst-key (rsa_private_key)
// and analyst-short (password, short TTL, for renewal).
func (v *vaultServer) setupDatabase(t testing.TB, standinAddr string) {
	t.Helper()
	if err := v.Admin.Sys().Mount("database", &api.MountInput{Type: "database"}); err != nil {
		t.Fatalf("enable database engine: %v", err)
	}
	v.write(t, "database/config/standin", map[string]any{
		"plugin_name":       "snowflake-database-plugin",
		"connection_url":    "{{username}}:{{password}}@" + standinAddr + "/DEMO/PUBLIC?account=standin&protocol=http&loginTimeout=20",
		"username":          standinAdmin,
		"password":          standinPassword,
		"allowed_roles":     "*",
		"verify_connection": true,
	})
	grant := "GRANT ROLE " + vaultRoleName + " TO USER {{name}};"
	for name, r := range map[string]struct {
		ttl      roleTTL
		keyPair  bool
		creation string
	}{
		"analyst":       {roleTTL{"10m", "1h"}, false, "CREATE USER {{name}} PASSWORD='{{password}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
		"analyst-key":   {roleTTL{"10m", "1h"}, true, "CREATE USER {{name}} RSA_PUBLIC_KEY='{{public_key}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
		"analyst-short": {roleTTL{"6s", "10m"}, false, "CREATE USER {{name}} PASSWORD='{{password}}' DEFAULT_ROLE=" + vaultRoleName + "; " + grant},
	} {
		data := map[string]any{
			"db_name":             "standin",
			"creation_statements": []string{r.creation},
			"default_ttl":         r.ttl.def,
			"max_ttl":             r.ttl.max,
		}
		if r.keyPair {
			data["credential_type"] = "rsa_private_key"
			data["credential_config"] = map[string]any{"key_bits": 2048}
		}
		v.write(t, "database/roles/"+name, data)
	}
}

// gatewayPolicy is what the gateway's Vault identity may do.
const gatewayPolicy = `
path "database/creds/*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
`

// setupAppRole creates the gateway's AppRole and returns its role and
// secret IDs.
func (v *vaultServer) setupAppRole(t testing.TB) (roleID, secretID string) {
	t.Helper()
	if err := v.Admin.Sys().PutPolicy("snowgate", gatewayPolicy); err != nil {
		t.Fatal(err)
	}
	if err := v.Admin.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	v.write(t, "auth/approle/role/gateway", map[string]any{"token_policies": []string{"snowgate"}, "token_ttl": "20m", "token_max_ttl": "1h"})
	sec, err := v.Admin.Logical().Read("auth/approle/role/gateway/role-id")
	if err != nil {
		t.Fatal(err)
	}
	roleID, _ = sec.Data["role_id"].(string)
	secretID, _ = v.write(t, "auth/approle/role/gateway/secret-id", nil).Data["secret_id"].(string)
	if roleID == "" || secretID == "" {
		t.Fatal("approle: no role or secret ID")
	}
	return roleID, secretID
}

// gatewayToken creates a token with the gateway's policy.
func (v *vaultServer) gatewayToken(t testing.TB) string {
	t.Helper()
	if err := v.Admin.Sys().PutPolicy("snowgate", gatewayPolicy); err != nil {
		t.Fatal(err)
	}
	sec, err := v.Admin.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{"snowgate"}, TTL: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

// leases lists the live leases of a database role.
func (v *vaultServer) leases(t testing.TB, role string) []string {
	t.Helper()
	sec, err := v.Admin.Logical().List("sys/leases/lookup/database/creds/" + role)
	if err != nil {
		t.Fatalf("list leases: %v", err)
	}
	if sec == nil {
		return nil
	}
	keys, _ := sec.Data["keys"].([]any)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprint(k)
	}
	return out
}
