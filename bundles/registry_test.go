package bundles

import (
	"context"
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

	"golang.org/x/crypto/bcrypt"
)

// testRegistry is a real distribution registry (Debian's docker-registry)
// on a loopback port, with Basic auth.
type testRegistry struct {
	addr       string // 127.0.0.1:port
	user, pass string
	config     string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// startRegistry runs the registry binary named by SNOWGATE_REGISTRY with
// its storage in a temporary directory. It is stopped when t ends.
func startRegistry(t testing.TB) *testRegistry {
	t.Helper()
	bin := os.Getenv("SNOWGATE_REGISTRY")
	if bin == "" {
		t.Fatal("SNOWGATE_REGISTRY is not set: install Debian's docker-registry package and set SNOWGATE_REGISTRY=/usr/bin/docker-registry to run the OCI registry tests")
	}
	dir := t.TempDir()
	r := &testRegistry{user: "snowgate", pass: "s3cret-" + filepath.Base(dir)}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(r.user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.addr = freeAddr(t)
	r.config = filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
auth:
  htpasswd:
    realm: snowgate-test
    path: %s
`, filepath.Join(dir, "data"), r.addr, htpasswd)
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start(t, bin)
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistry) start(t testing.TB, bin string) {
	t.Helper()
	r.cmd = exec.Command(bin, "serve", r.config)
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(r.config), "registry.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start registry %s: %v", bin, err)
	}
	r.exited = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			t.Fatalf("registry exited: %v", r.cmd.ProcessState)
		default:
		}
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("registry did not start within 30s")
}

// stop kills the registry (its storage stays, so restart serves it again).
func (r *testRegistry) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Kill()
	<-r.exited
}

// restart starts the registry again on the same address and storage.
func (r *testRegistry) restart(t testing.TB) {
	t.Helper()
	r.start(t, os.Getenv("SNOWGATE_REGISTRY"))
}

// repo is an authenticated OCI source for name:tag in this registry.
func (r *testRegistry) repo(nameTag string) *OCI {
	return &OCI{Reference: r.addr + "/" + nameTag, Username: r.user, Password: r.pass}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestOCI_PushPull(t *testing.T) {
	reg := startRegistry(t)
	key := newKey(t, "rsa", "ci")
	ctx := context.Background()
	r1 := signedBundle(t, "allow", "r1", key)
	repo := reg.repo("snowgate/policy:v1")
	pushed, err := repo.Push(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Layer != Digest(r1) || pushed.Revision != "r1" || pushed.Tag != "v1" {
		t.Errorf("pushed %+v", pushed)
	}

	t.Run("by tag", func(t *testing.T) {
		dl, err := reg.repo("snowgate/policy:v1").Fetch(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if Digest(dl.Raw) != Digest(r1) || dl.Version != pushed.Manifest {
			t.Errorf("pulled %s (version %s), want %s (%s)", Digest(dl.Raw), dl.Version, Digest(r1), pushed.Manifest)
		}
		if _, err := verifier(t, key).Verify(dl.Raw); err != nil {
			t.Errorf("pulled bundle does not verify: %v", err)
		}
	})
	t.Run("not modified", func(t *testing.T) {
		if _, err := reg.repo("snowgate/policy:v1").Fetch(ctx, pushed.Manifest); err != ErrNotModified {
			t.Errorf("Fetch with the current version: %v, want ErrNotModified", err)
		}
	})
	t.Run("by digest", func(t *testing.T) {
		// Move the tag on; the digest still names r1.
		if _, err := reg.repo("snowgate/policy:v1").Push(ctx, signedBundle(t, "deny", "r2", key)); err != nil {
			t.Fatal(err)
		}
		dl, err := reg.repo("snowgate/policy@"+pushed.Manifest).Fetch(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if Digest(dl.Raw) != Digest(r1) {
			t.Errorf("pulled by digest %s, want r1's %s", Digest(dl.Raw), Digest(r1))
		}
		if _, err := reg.repo("snowgate/policy@"+pushed.Manifest).Push(ctx, r1); err == nil {
			t.Error("push to a digest reference succeeded")
		}
	})
	t.Run("media types", func(t *testing.T) {
		// What OPA's OCI downloader looks for: an image manifest whose layer
		// is application/vnd.oci.image.layer.v1.tar+gzip.
		req, _ := http.NewRequest(http.MethodGet, "http://"+reg.addr+"/v2/snowgate/policy/manifests/"+pushed.Manifest, nil)
		req.SetBasicAuth(reg.user, reg.pass)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.config.v1+json", `"org.opencontainers.image.revision":"r1"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("manifest %s lacks %s", body, want)
			}
		}
	})
	t.Run("auth", func(t *testing.T) {
		anon := &OCI{Reference: reg.addr + "/snowgate/policy:v1"}
		if _, err := anon.Fetch(ctx, ""); err == nil {
			t.Error("anonymous pull succeeded")
		}
		wrong := reg.repo("snowgate/policy:v1")
		wrong.Password = "wrong"
		if _, err := wrong.Push(ctx, r1); err == nil {
			t.Error("push with a wrong password succeeded")
		}
	})
	t.Run("missing tag", func(t *testing.T) {
		if _, err := reg.repo("snowgate/policy:nope").Fetch(ctx, ""); err == nil {
			t.Error("pull of a missing tag succeeded")
		}
	})
}
