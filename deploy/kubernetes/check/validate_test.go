package check

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the snowgate repository, from deploy/kubernetes/check.
const repoRoot = "../../.."

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// snowgateBinary builds cmd/snowgate once per test run (or takes
// SNOWGATE_BIN).
func snowgateBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if b := os.Getenv("SNOWGATE_BIN"); b != "" {
			binPath = b
			return
		}
		if binDir, binErr = os.MkdirTemp("", "snowgate-k8s-check-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "snowgate")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/snowgate")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/snowgate: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// validateConfig runs `snowgate config validate` on the config in the
// ConfigMap as the pod would see it: the container's volumes are laid out
// under a temporary root (the ConfigMaps' data as rendered; every file of a
// Secret or a projected token holds a freshly made dummy, an Ed25519 key
// that serves as the audit signing key), the config's paths in those volumes
// are moved under that root, and the process gets the container's
// environment and nothing else, secrets as dummies. So a key the validator
// rejects, a file the config names that no volume holds, or a ${VAR} the
// container does not set fails it.
func validateConfig(t *testing.T, r *rendered) (string, error) {
	t.Helper()
	d, c := r.gateway()
	file, text, err := r.config()
	if err != nil {
		return "", err
	}
	root := t.TempDir()
	key, err := dummyKey()
	if err != nil {
		return "", err
	}
	for _, m := range c.VolumeMounts {
		_, v := mountOf(d, c, m.MountPath)
		dir := filepath.Join(root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		files := map[string][]byte{}
		switch {
		case v.ConfigMap != nil:
			cm := r.configMaps[v.ConfigMap.Name]
			if cm == nil {
				return "", fmt.Errorf("volume %s: ConfigMap %s is not in the manifests", v.Name, v.ConfigMap.Name)
			}
			for k, val := range cm.Data {
				files[k] = []byte(val)
			}
		case v.Secret != nil:
			if len(v.Secret.Items) == 0 {
				return "", fmt.Errorf("volume %s: list the Secret's items, so that the files the config names are known", v.Name)
			}
			for _, it := range v.Secret.Items {
				files[it.Path] = key
			}
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					files[s.ServiceAccountToken.Path] = []byte("dummy.service-account.token")
				}
				if s.Secret != nil {
					for _, it := range s.Secret.Items {
						files[it.Path] = key
					}
				}
			}
		}
		for name, b := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				return "", err
			}
		}
	}
	moved := func(p string) string {
		if _, v := mountOf(d, c, p); v != nil && strings.HasPrefix(p, "/") {
			return filepath.Join(root, p)
		}
		return p
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return "", err
	}
	for _, s := range scalars(&doc) {
		s.Value = moved(s.Value)
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		return "", err
	}
	path := moved(file)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", err
	}
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+moved(e.Value))
		case e.ValueFrom.SecretKeyRef != nil:
			env = append(env, e.Name+"="+dummySecret(e.Name))
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := r.configMaps[ref.Name]
			if cm == nil {
				return "", fmt.Errorf("env %s: ConfigMap %s is not in the manifests", e.Name, ref.Name)
			}
			env = append(env, e.Name+"="+cm.Data[ref.Key])
		default: // the downward API
			env = append(env, e.Name+"=dummy")
		}
	}
	if len(c.EnvFrom) > 0 {
		return "", fmt.Errorf("envFrom: name each variable (env), so that the config's ${VAR}s can be checked")
	}
	cmd := exec.Command(snowgateBinary(t), "config", "validate", "--config", path)
	cmd.Env, cmd.Dir = env, t.TempDir()
	out, err := cmd.CombinedOutput()
	return strings.ReplaceAll(string(out), root, ""), err
}

// dummySecret is a stand-in for a secret of the given name: a URL where the
// config expects one (webhooks), else a word that is safe in a URL's
// password.
func dummySecret(name string) string {
	if regexp.MustCompile(`(?i)webhook|url$`).MatchString(name) {
		return "https://hooks.example.invalid/dummy"
	}
	return "dummy-secret"
}

func dummyKey() ([]byte, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
