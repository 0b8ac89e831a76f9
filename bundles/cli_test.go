package bundles

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// snowgateCLI builds the snowgate binary for the CLI test.
func snowgateCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "snowgate")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/snowgate/snowgate/cmd/snowgate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build snowgate: %v\n%s", err, out)
	}
	return bin
}

// TestCLI runs `snowgate bundle build|sign|verify|push|pull|inspect` as a
// user would, against the real registry.
func TestCLI(t *testing.T) {
	reg := startRegistry(t)
	bin := snowgateCLI(t)
	key := newKey(t, "rsa", "ci")
	stranger := newKey(t, "rsa", "ci")
	work := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"bundle"}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "SNOWGATE_REGISTRY_PASSWORD="+reg.pass)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if (err == nil) != wantOK {
			t.Fatalf("snowgate bundle %s: %v (want success %v)\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, wantOK, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	info := func(out string) Info {
		t.Helper()
		var i Info
		if err := json.Unmarshal([]byte(out), &i); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return i
	}

	i := info(run(true, "build", "--dir", policyDir(t, "allow"), "--revision", "cli-1", "--signing-key", key.privFile, "--key-id", "ci", "--out", "b.tar.gz", "--output", "json"))
	if i.Revision != "cli-1" || i.Signature == nil || i.Signature.KeyID != "ci" {
		t.Fatalf("built %+v", i)
	}
	if out := run(true, "verify", "b.tar.gz", "--verification-key", "ci="+key.pubFile, "--output", "json"); !strings.Contains(out, `"verified": true`) || info(out).Revision != "cli-1" {
		t.Errorf("verify --output json said %s", out)
	}
	if out := run(false, "verify", "b.tar.gz", "--verification-key", "ci="+stranger.pubFile); !strings.Contains(out, "verification failed") {
		t.Errorf("verify under another key said %q", out)
	}

	// Unsigned, then signed by `bundle sign` with a scope.
	run(true, "build", "--dir", policyDir(t, "deny"), "--revision", "cli-2", "--out", "u.tar.gz")
	run(false, "verify", "u.tar.gz", "--verification-key", "ci="+key.pubFile)
	run(true, "sign", "--bundle", "u.tar.gz", "--signing-key", key.privFile, "--key-id", "ci", "--scope", "prod", "--out", "s.tar.gz")
	run(true, "verify", "s.tar.gz", "--verification-key", "ci="+key.pubFile, "--scope", "prod")
	run(false, "verify", "s.tar.gz", "--verification-key", "ci="+key.pubFile)

	ref := reg.addr + "/snowgate/policy:cli"
	var pushed Pushed
	out := run(true, "push", ref, "--bundle", "b.tar.gz", "--username", reg.user, "--verification-key", "ci="+key.pubFile, "--output", "json")
	if err := json.Unmarshal([]byte(out), &pushed); err != nil || pushed.Revision != "cli-1" {
		t.Fatalf("push said %s (%v)", out, err)
	}
	run(false, "push", ref, "--bundle", "u.tar.gz", "--username", reg.user, "--verification-key", "ci="+key.pubFile) // refuses to publish unsigned
	run(false, "pull", ref, "--verification-key", "ci="+key.pubFile, "--out", "anon.tar.gz")                         // no credentials
	run(false, "pull", ref, "--username", reg.user, "--out", "noverify.tar.gz")                                      // no key, no --no-verify

	run(true, "pull", ref, "--username", reg.user, "--verification-key", "ci="+key.pubFile, "--out", "p.tar.gz")
	b, _ := os.ReadFile(filepath.Join(work, "b.tar.gz"))
	p, _ := os.ReadFile(filepath.Join(work, "p.tar.gz"))
	if !bytes.Equal(b, p) {
		t.Error("pulled bundle differs from the pushed one")
	}
	digestRef := reg.addr + "/snowgate/policy@" + pushed.Manifest
	if i := info(run(true, "inspect", digestRef, "--username", reg.user, "--output", "json")); i.Revision != "cli-1" || i.Digest != Digest(b) {
		t.Errorf("inspect by digest: %+v", i)
	}
	run(false, "pull", ref, "--username", reg.user, "--verification-key", "ci="+stranger.pubFile, "--out", "bad.tar.gz")
	if _, err := os.Stat(filepath.Join(work, "bad.tar.gz")); err == nil {
		t.Error("a bundle that failed verification was written")
	}
}
