package vault

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeVault is a small stand-in for Vault's HTTP API: AppRole and
// Kubernetes logins, token renewal, database credentials with leases, KV,
// and switches to make it slow, failing or refusing. The end-to-end tests
// run against the real Vault; this one makes timing and failure cases
// quick and deterministic.
type fakeVault struct {
	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]bool   // valid client tokens
	leases    map[string]string // lease ID → user, while live
	renewals  map[string]int
	lookups   int
	revoked   []string
	logins    int
	n         int
	leaseTTL  int  // seconds
	renewTTL  int  // seconds granted per renewal; 0: leaseTTL
	tokenTTL  int  // seconds; 0: does not expire
	keyType   bool // issue rsa_private_key instead of password
	hang      bool // hold requests until the client gives up
	noLookup  bool // refuse lease lookups (403), as a policy without sys/leases/lookup does
	fail      int  // answer every request with this status
	badSecret bool // answer creds reads without a username
	kv        map[string]any
	reqs      []string
}

func newFakeVault(t *testing.T) *fakeVault {
	f := &fakeVault{tokens: map[string]bool{"root-token-xyz": true}, leases: map[string]string{}, renewals: map[string]int{}, leaseTTL: 60}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeVault) set(fn func(f *fakeVault)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeVault) get(fn func(f *fakeVault)) { f.set(fn) }

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hang, fail := f.hang, f.fail
	f.reqs = append(f.reqs, r.Method+" "+r.URL.Path)
	if ns := r.Header.Get("X-Vault-Namespace"); ns != "" {
		f.reqs = append(f.reqs, "namespace "+ns+" "+r.URL.Path)
	}
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if fail != 0 {
		writeJSON(w, fail, map[string]any{"errors": []string{"fake vault failing"}})
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	switch {
	case path == "auth/approle/login":
		if body["role_id"] != "gw-role" || body["secret_id"] != "gw-secret-abc" {
			writeJSON(w, 400, map[string]any{"errors": []string{"invalid role or secret ID"}})
			return
		}
		f.issueToken(w)
		return
	case path == "auth/kubernetes/login":
		if body["role"] != "snowgate" || body["jwt"] != "sa.jwt.token" {
			writeJSON(w, 403, map[string]any{"errors": []string{"permission denied"}})
			return
		}
		f.issueToken(w)
		return
	}
	if !f.tokens[r.Header.Get("X-Vault-Token")] {
		writeJSON(w, 403, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	switch {
	case path == "auth/token/renew-self":
		writeJSON(w, 200, map[string]any{"auth": map[string]any{"client_token": r.Header.Get("X-Vault-Token"), "lease_duration": f.tokenTTL, "renewable": true}})
	case strings.HasPrefix(path, "database/creds/"):
		role := strings.TrimPrefix(path, "database/creds/")
		if role != "analyst" {
			writeJSON(w, 400, map[string]any{"errors": []string{fmt.Sprintf("unknown role: %s", role)}})
			return
		}
		f.n++
		user := fmt.Sprintf("v_token_analyst_%d", f.n)
		id := "database/creds/analyst/lease" + fmt.Sprint(f.n)
		f.leases[id] = user
		data := map[string]any{"username": user, "password": "pw-secret-" + fmt.Sprint(f.n)}
		if f.keyType {
			data = map[string]any{"username": user, "rsa_private_key": "-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n"}
		}
		if f.badSecret {
			delete(data, "username")
		}
		writeJSON(w, 200, map[string]any{"lease_id": id, "lease_duration": f.leaseTTL, "renewable": true, "data": data})
	case path == "sys/leases/renew":
		id, _ := body["lease_id"].(string)
		if _, ok := f.leases[id]; !ok {
			writeJSON(w, 400, map[string]any{"errors": []string{"lease not found"}})
			return
		}
		f.renewals[id]++
		ttl := f.renewTTL
		if ttl == 0 {
			ttl = f.leaseTTL
		}
		writeJSON(w, 200, map[string]any{"lease_id": id, "lease_duration": ttl, "renewable": true})
	case path == "sys/leases/lookup":
		id, _ := body["lease_id"].(string)
		if f.noLookup {
			writeJSON(w, 403, map[string]any{"errors": []string{"permission denied"}})
			return
		}
		f.lookups++
		if _, ok := f.leases[id]; !ok {
			writeJSON(w, 400, map[string]any{"errors": []string{"invalid lease"}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"id": id, "renewable": true, "ttl": f.leaseTTL}})
	case path == "sys/leases/revoke":
		id, _ := body["lease_id"].(string)
		delete(f.leases, id)
		f.revoked = append(f.revoked, id)
		w.WriteHeader(204)
	case path == "secret/data/snowflake":
		writeJSON(w, 200, map[string]any{"data": map[string]any{"data": f.kv, "metadata": map[string]any{"version": 1}}})
	case path == "kv1/snowflake":
		writeJSON(w, 200, map[string]any{"data": f.kv})
	default:
		writeJSON(w, 404, map[string]any{"errors": []string{}})
	}
}

func (f *fakeVault) issueToken(w http.ResponseWriter) {
	f.logins++
	tok := fmt.Sprintf("hvs.fake-login-%d", f.logins)
	f.tokens[tok] = true
	writeJSON(w, 200, map[string]any{"auth": map[string]any{"client_token": tok, "lease_duration": f.tokenTTL, "renewable": f.tokenTTL > 0}})
}

// revokeTokens makes Vault forget every token issued, as after a restart.
func (f *fakeVault) revokeTokens() {
	f.set(func(f *fakeVault) {
		for k := range f.tokens {
			if k != "root-token-xyz" {
				delete(f.tokens, k)
			}
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
