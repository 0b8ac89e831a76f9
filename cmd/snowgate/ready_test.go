package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServe_readyz: snowgate serve in front of snowgate dev's stand-in
// (gosnowflake, static credentials) is ready — policy, audit trail and
// upstream — and serves the RED metrics; once the dev instance stops,
// /readyz answers 503 naming the upstream while /healthz stays ok.
func TestServe_readyz(t *testing.T) {
	_, dev := startDev(t)
	host, port, _ := net.SplitHostPort(devStandinAddr(t, dev))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "snowgate.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
issuers:
  - url: http://%s
    audience: snowgate
upstream:
  account: standin
  host: %s
  port: %s
  protocol: http
credentials:
  static:
    user: ADMIN
    password_env: SNOWGATE_TEST_UPSTREAM_PASSWORD
approvals:
  store: %s/approvals.db
audit:
  dsn: %s/audit.db
`, dev, host, port, dir, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "SNOWGATE_TEST_UPSTREAM_PASSWORD=snowgate-dev")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	var admin string
	sc := bufio.NewScanner(stderr)
	for admin == "" && sc.Scan() {
		var line struct{ Msg, Server, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && line.Server == "admin" {
			admin = "http://" + line.Addr
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if admin == "" {
		t.Fatal("snowgate serve did not start")
	}

	type ready struct {
		Ready  bool
		Failed []string
		Checks map[string]string
	}
	readyz := func() (int, ready) {
		t.Helper()
		resp, err := http.Get(admin + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r ready
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatalf("/readyz: %v", err)
		}
		return resp.StatusCode, r
	}
	code, r := readyz()
	if code != http.StatusOK || len(r.Checks) != 4 || r.Checks["policy"] != "ok" || r.Checks["audit"] != "ok" || r.Checks["upstream"] != "ok" || r.Checks["gateway"] != "ok" {
		t.Fatalf("/readyz: %d %+v; want 200 with policy, audit, upstream and the gateway (not draining) ok (no Vault with static credentials)", code, r)
	}
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"# TYPE snowgate_policy_age_seconds gauge", "# TYPE snowgate_statement_stage_duration_seconds histogram",
		"# TYPE snowgate_audit_commit_duration_seconds histogram", "snowgate_audit_queue_depth{kind=\"record\"} 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	stopDev(t, dev)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, r = readyz()
		if code == http.StatusServiceUnavailable && len(r.Failed) == 1 && r.Failed[0] == "upstream" && strings.Contains(r.Checks["upstream"], "connection refused") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the upstream gone: %d %+v; want 503 naming the upstream", code, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if resp, err := http.Get(admin + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
}
