package bundles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// opaBinary is the stock opa CLI (v1.22.3) named by SNOWGATE_OPA.
func opaBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("SNOWGATE_OPA")
	if bin == "" {
		t.Fatal("SNOWGATE_OPA is not set: point it at the stock opa CLI v1.22.3 (e.g. .cache/bin/opa) to run the interop tests")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("SNOWGATE_OPA: %v", err)
	}
	return bin
}

// A bundle built and signed by `opa build --signing-key` verifies in
// snowgate and activates in the engine; under any other key it is refused.
func TestInterop_OPABuildSnowgateVerify(t *testing.T) {
	opa := opaBinary(t)
	for _, tc := range []struct {
		kind, alg string
		scope     string
	}{{"rsa", "RS256", ""}, {"ec", "ES256", ""}, {"rsa", "RS256", "prod"}} {
		t.Run(tc.alg+"/"+orNone(tc.scope), func(t *testing.T) {
			key := newKey(t, tc.kind, "ci-"+tc.kind)
			dir := policyDir(t, "allow")
			out := filepath.Join(t.TempDir(), "opa.tar.gz")
			args := []string{"build", "-b", ".", "--ignore", "*_test.rego", "--revision", "opa-1",
				"--signing-key", key.privFile, "--signing-alg", tc.alg, "--verification-key-id", key.id, "-o", out}
			if tc.scope != "" {
				claims := filepath.Join(t.TempDir(), "claims.json")
				if err := os.WriteFile(claims, []byte(`{"scope": "`+tc.scope+`"}`), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--claims-file", claims)
			}
			cmd := exec.Command(opa, args...)
			cmd.Dir = dir
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("opa build: %v\n%s", err, b)
			}
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			trusted := key
			trusted.public.Scope = tc.scope
			b, err := verifier(t, trusted).Verify(raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			e := newEngine(t)
			if err := e.Activate(b); err != nil {
				t.Fatal(err)
			}
			if d := decide(e); d.Action != engine.ActionAllow || d.Revision != "opa-1" {
				t.Errorf("decision %+v, want allow at opa-1", d)
			}
			other := newKey(t, tc.kind, key.id)
			other.public.Scope = tc.scope
			if _, err := verifier(t, other).Verify(raw); !errors.Is(err, ErrUnverified) {
				t.Errorf("Verify under another key: %v, want ErrUnverified", err)
			}
		})
	}
}

// A bundle built and signed by snowgate is served by `opa run --server`
// with verification on, and refused by it under another key.
func TestInterop_SnowgateBuildOPARun(t *testing.T) {
	opa := opaBinary(t)
	for _, tc := range []struct{ kind, alg, scope string }{{"rsa", "RS256", ""}, {"ec", "ES256", "prod"}} {
		t.Run(tc.alg, func(t *testing.T) {
			key := newKey(t, tc.kind, "gw-"+tc.kind)
			key.signing.Scope = tc.scope
			path := filepath.Join(t.TempDir(), "bundle.tar.gz")
			if err := os.WriteFile(path, signedBundle(t, "allow", "sg-1", key), 0o600); err != nil {
				t.Fatal(err)
			}
			verify := []string{"--verification-key", key.pubFile, "--verification-key-id", key.id, "--signing-alg", tc.alg}
			if tc.scope != "" {
				verify = append(verify, "--scope", tc.scope)
			}
			rev, err := opaServe(t, opa, path, verify)
			if err != nil {
				t.Fatal(err)
			}
			if rev != "sg-1" {
				t.Errorf("opa serves revision %q, want sg-1", rev)
			}

			other := newKey(t, tc.kind, key.id)
			bad := []string{"--verification-key", other.pubFile, "--verification-key-id", key.id, "--signing-alg", tc.alg}
			if tc.scope != "" {
				bad = append(bad, "--scope", tc.scope)
			}
			if _, err := opaServe(t, opa, path, bad); err == nil || !strings.Contains(err.Error(), "failed to verify JWT signature") {
				t.Errorf("opa run under another key: %v, want a JWT verification failure", err)
			}
		})
	}
}

// opaServe runs `opa run --server --bundle path` with flags and returns
// the revision it serves, or opa's error when it refuses to start.
func opaServe(t *testing.T, opa, path string, flags []string) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return opaRun(t, opa, append([]string{"run", "--server", "--addr", addr, "--bundle", path}, flags...), addr)
}

// opaRun runs opa with args, serving on addr, until it serves a bundle
// (its revision is returned) or exits (its output is the error).
func opaRun(t *testing.T, opa string, args []string, addr string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out syncBuffer
	cmd := exec.CommandContext(ctx, opa, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	for {
		select {
		case err := <-exited:
			exited <- err
			return "", fmt.Errorf("opa exited (%v): %s", err, out.String())
		case <-ctx.Done():
			return "", fmt.Errorf("opa did not become ready: %s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get("http://" + addr + "/v1/data/system/bundles")
		if err != nil {
			continue
		}
		var body struct {
			Result map[string]struct {
				Manifest struct {
					Revision string `json:"revision"`
				} `json:"manifest"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("opa: %w", err)
		}
		for _, b := range body.Result {
			return b.Manifest.Revision, nil
		}
	}
}

// syncBuffer is a strings.Builder safe for a process's two output pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// Through a real registry, both ways: OPA's own OCI downloader pulls and
// verifies a bundle snowgate pushed, and a snowgate poller activates a
// bundle `opa build` signed.
func TestInterop_OCI(t *testing.T) {
	opa := opaBinary(t)
	reg := startRegistry(t)
	ctx := context.Background()
	key := newKey(t, "rsa", "gw")

	t.Run("snowgate push, opa run pulls", func(t *testing.T) {
		if _, err := reg.repo("snowgate/policy:opa").Push(ctx, signedBundle(t, "allow", "oci-1", key)); err != nil {
			t.Fatal(err)
		}
		pemIndented := "      " + strings.ReplaceAll(strings.TrimSpace(key.public.PEM), "\n", "\n      ")
		cfg := fmt.Sprintf(`services:
  reg:
    url: http://%[1]s
    type: oci
    credentials:
      bearer:
        scheme: Basic
        token: "%[2]s:%[3]s"
bundles:
  gw:
    service: reg
    resource: %[1]s/snowgate/policy:opa
    signing:
      keyid: gw
    polling:
      min_delay_seconds: 1
      max_delay_seconds: 2
keys:
  gw:
    algorithm: RS256
    key: |
%[4]s
`, reg.addr, reg.user, reg.pass, pemIndented)
		path := filepath.Join(t.TempDir(), "opa.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		rev, err := opaRun(t, opa, []string{"run", "--server", "--addr", addr, "-c", path}, addr)
		if err != nil {
			t.Fatal(err)
		}
		if rev != "oci-1" {
			t.Errorf("opa serves revision %q, want oci-1", rev)
		}
	})
	t.Run("opa build, snowgate poller activates", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "opa.tar.gz")
		cmd := exec.Command(opa, "build", "-b", ".", "--ignore", "*_test.rego", "--revision", "opa-oci-1",
			"--signing-key", key.privFile, "--verification-key-id", key.id, "-o", out)
		cmd.Dir = policyDir(t, "deny")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("opa build: %v\n%s", err, b)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.repo("snowgate/policy:from-opa").Push(ctx, raw); err != nil {
			t.Fatal(err)
		}
		gw := startReplica(t, reg.repo("snowgate/policy:from-opa"), verifier(t, key), t.TempDir(), "", 50*time.Millisecond)
		waitFor(t, 20*time.Second, "opa-oci-1", func() bool { return gw.enforcing("opa-oci-1", engine.ActionDeny) })
	})
}

func orNone(s string) string {
	if s == "" {
		return "noscope"
	}
	return s
}
