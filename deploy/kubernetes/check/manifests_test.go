package check

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// placeholderImage is the base's image: an overlay must set a real one.
const placeholderImage = "snowgate"

// readFacts takes from the product's source what the manifests must agree
// with, so that a change there fails here.
func readFacts(t *testing.T) facts {
	t.Helper()
	serve, err := os.ReadFile(filepath.Join(repoRoot, "cmd/snowgate/serve.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const drainGrace = (\d+) \* time\.Second`).FindSubmatch(serve)
	if m == nil {
		t.Fatal("cmd/snowgate/serve.go: no `const drainGrace = N * time.Second`: update readFacts")
	}
	n, _ := strconv.Atoi(string(m[1]))
	metrics, err := os.ReadFile(filepath.Join(repoRoot, "proxy/admin/metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	f := facts{drainGrace: time.Duration(n) * time.Second, counters: map[string]bool{}}
	for _, c := range regexp.MustCompile(`w\.family\("(\w+_total)", "counter"`).FindAllSubmatch(metrics, -1) {
		f.counters[string(c[1])] = true
	}
	if !f.counters["snowgate_decisions_total"] {
		t.Fatal("proxy/admin/metrics.go: snowgate_decisions_total not found among the counters: update readFacts")
	}
	return f
}

func TestManifests(t *testing.T) {
	f := readFacts(t)
	dirs, err := kustomizations()
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 2 {
		t.Fatalf("want base and at least one overlay, got %v", dirs)
	}
	for _, dir := range dirs {
		name := strings.TrimPrefix(dir, "../")
		t.Run(name, func(t *testing.T) {
			r, err := render(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.problems(f) {
				t.Error(p)
			}
			if t.Failed() {
				return
			}
			_, c := r.gateway()
			overlay := name != "base"
			switch img := c.Image; {
			case !overlay && img != placeholderImage:
				t.Errorf("base: image %q, want the placeholder %q that overlays set", img, placeholderImage)
			case overlay && (img == placeholderImage || !regexp.MustCompile(`^[^:@]+\.[^/]+/.+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$`).MatchString(img)):
				t.Errorf("%s: image %q: set it with images: to a registry's repository and a tag or digest", name, img)
			case overlay && strings.HasSuffix(img, ":latest"):
				t.Errorf("%s: image %q: pin a version, not latest", name, img)
			}
			out, err := validateConfig(t, r)
			if err != nil {
				t.Fatalf("snowgate config validate: %v\n%s", err, out)
			}
			t.Logf("snowgate config validate:\n%s", out)
		})
	}
}

// TestNoSecretsCommitted: no file under deploy/kubernetes holds a private
// key, a Secret or a secret generator.
func TestNoSecretsCommitted(t *testing.T) {
	bad := regexp.MustCompile(`PRIVATE KEY-----|(?m)^kind:\s*Secret\s*$|secretGenerator:|stringData:`)
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, filepath.Join("..", "check")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if m := bad.Find(b); m != nil {
			t.Errorf("%s: %q: secrets are created outside the manifests", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestChecks breaks one thing at a time in the rendered base and wants the
// checks (or the validator) to notice.
func TestChecks(t *testing.T) {
	f := readFacts(t)
	base, err := render("../base")
	if err != nil {
		t.Fatal(err)
	}
	if p := base.problems(f); len(p) > 0 {
		t.Fatalf("the base has problems: %v", p)
	}
	c := func(r *rendered) *corev1.Container { _, c := r.gateway(); return c }
	cases := []struct {
		name   string
		break_ func(r *rendered)
		want   string
	}{
		{"readiness on /healthz", func(r *rendered) { c(r).ReadinessProbe.HTTPGet.Path = "/healthz" }, "readiness probe: path"},
		{"liveness on the gateway port", func(r *rendered) { c(r).LivenessProbe.HTTPGet.Port = intstr.FromString("gateway") }, "liveness probe: port"},
		{"grace as long as the drain", func(r *rendered) {
			g := int64(30)
			r.deployments[0].Spec.Template.Spec.TerminationGracePeriodSeconds = &g
		}, "terminationGracePeriodSeconds"},
		{"no preStop", func(r *rendered) { c(r).Lifecycle = nil }, "no preStop"},
		{"PDB selects other pods", func(r *rendered) {
			r.pdbs[0].Spec.Selector.MatchLabels = map[string]string{"app.kubernetes.io/name": "other"}
		}, "PodDisruptionBudget"},
		{"HPA targets another Deployment", func(r *rendered) { r.hpas[0].Spec.ScaleTargetRef.Name = "other" }, "targets"},
		{"HPA on a counter nobody exports", func(r *rendered) {
			r.hpas[0].Spec.Metrics[0].Pods.Metric.Name = "snowgate_statements_per_second"
		}, "not a rate of a counter"},
		{"Service targets a missing port", func(r *rendered) { r.services[1].Spec.Ports[0].TargetPort = intstr.FromString("metrics") }, "not a container port"},
		{"gateway Service without affinity", func(r *rendered) { r.services[0].Spec.SessionAffinity = corev1.ServiceAffinityNone }, "sessionAffinity"},
		{"writable root filesystem", func(r *rendered) { no := false; c(r).SecurityContext.ReadOnlyRootFilesystem = &no }, "readOnlyRootFilesystem"},
		{"TMPDIR on the root filesystem", func(r *rendered) {
			for i, e := range c(r).Env {
				if e.Name == "TMPDIR" {
					c(r).Env[i].Value = "/var/tmp"
				}
			}
		}, "TMPDIR"},
		{"a password in the manifests", func(r *rendered) {
			c(r).Env = append(c(r).Env, corev1.EnvVar{Name: "SNOWGATE_DB_PASSWORD2", Value: "hunter2"})
		}, "literal value"},
		{"a Secret in the manifests", func(r *rendered) { r.secrets = append(r.secrets, &corev1.Secret{}) }, "Secret"},
		{"admin server on loopback", func(r *rendered) { setConfig(r, "admin_listen: 0.0.0.0:8766", "admin_listen: 127.0.0.1:8766") }, "loopback"},
		{"a key file outside the volumes", func(r *rendered) {
			setConfig(r, "/var/run/secrets/snowgate/audit-ed25519.pem", "/etc/ssl/audit-ed25519.pem")
		}, "none of the container's volumes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base.clone()
			tc.break_(r)
			p := r.problems(f)
			if !strings.Contains(strings.Join(p, "\n"), tc.want) {
				t.Errorf("want a problem with %q, got %q", tc.want, p)
			}
		})
	}

	// The validator itself: a ${VAR} the container does not set, and a key
	// snowgate does not know.
	for _, tc := range []struct {
		name   string
		break_ func(r *rendered)
		want   string
	}{
		{"the database password unset", func(r *rendered) {
			env := c(r).Env[:0]
			for _, e := range c(r).Env {
				if e.Name != "SNOWGATE_DB_PASSWORD" {
					env = append(env, e)
				}
			}
			c(r).Env = env
		}, "environment variable SNOWGATE_DB_PASSWORD is not set"},
		{"an unknown key", func(r *rendered) { setConfig(r, "signing_key_file:", "signing_keyfile:") }, "unknown key"},
	} {
		t.Run("validate/"+tc.name, func(t *testing.T) {
			r := base.clone()
			tc.break_(r)
			out, err := validateConfig(t, r)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("want snowgate config validate to fail with %q, got %v:\n%s", tc.want, err, out)
			}
		})
	}
}

// setConfig replaces old with new in the config file's ConfigMap.
func setConfig(r *rendered, old, new string) {
	for _, cm := range r.configMaps {
		for k, v := range cm.Data {
			cm.Data[k] = strings.Replace(v, old, new, 1)
		}
	}
}

// TestStrictDecoding: a misspelt field is an error, not a silently
// dropped setting.
func TestStrictDecoding(t *testing.T) {
	r := &rendered{configMaps: map[string]*corev1.ConfigMap{}}
	err := r.add([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  template:
    spec:
      terminationGracePeriodSecond: 90
`))
	if err == nil || !strings.Contains(err.Error(), "terminationGracePeriodSecond") {
		t.Errorf("want an unknown-field error, got %v", err)
	}
	if err := r.add([]byte("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\n")); err == nil {
		t.Error("want an error for a kind the checks do not know")
	}
}
