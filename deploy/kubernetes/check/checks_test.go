package check

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// facts are what the checks take from the product's source.
type facts struct {
	drainGrace time.Duration   // drainGrace in cmd/snowgate/serve.go
	counters   map[string]bool // the counters the admin server exports
}

const (
	// serverShutdown bounds closing the servers after the drain (serveAll).
	serverShutdown = 10 * time.Second
	// shutdownMargin is left for flushing the audit trail and the rest.
	shutdownMargin = 10 * time.Second
	// readyzBound bounds each of /readyz's checks (proxy/admin).
	readyzBound = 2 * time.Second
	// vaultTokenPath is where Vault's Kubernetes auth reads the token when
	// the config names none (vault.DefaultServiceAccountTokenPath).
	vaultTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// gatewayConfig is the part of snowgate's config the manifests depend on.
type gatewayConfig struct {
	Listen      string `yaml:"listen"`
	AdminListen string `yaml:"admin_listen"`
	Credentials struct {
		Vault *struct {
			Auth struct {
				Method    string `yaml:"method"`
				TokenPath string `yaml:"token_path"`
			} `yaml:"auth"`
		} `yaml:"vault"`
	} `yaml:"credentials"`
}

// problems lists everything wrong with a rendered kustomization.
func (r *rendered) problems(f facts) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	d, c := r.gateway()
	switch {
	case len(r.deployments) != 1:
		add("want one Deployment, got %d", len(r.deployments))
		return p
	case c == nil:
		add("Deployment %s: no container named snowgate", d.Name)
		return p
	}
	file, text, err := r.config()
	if err != nil {
		add("config: %v", err)
		return p
	}
	var cfg gatewayConfig
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		add("config %s: %v", file, err)
		return p
	}
	gw, err := listenPort("listen", cfg.Listen)
	if err != nil {
		add("%v", err)
	}
	admin, err := listenPort("admin_listen", cfg.AdminListen)
	if err != nil {
		add("%v", err)
	}
	ports := map[string]int32{"gateway": gw, "admin": admin}
	for name, want := range ports {
		if got, ok := containerPort(c, intstr.FromString(name)); !ok || got != want {
			add("container port %q is %d, want %d as the config says", name, got, want)
		}
	}
	p = append(p, checkProbes(c, admin, gw)...)
	p = append(p, checkShutdown(d, c, f.drainGrace)...)
	p = append(p, r.checkSelectors(d, c, gw, admin)...)
	p = append(p, r.checkAutoscaler(d, f.counters)...)
	p = append(p, checkSecurity(d, c)...)
	p = append(p, r.checkSecrets(c, text)...)
	p = append(p, checkPaths(d, c, text, cfg)...)
	if sa := d.Spec.Template.Spec.ServiceAccountName; !slices.ContainsFunc(r.accounts, func(a *corev1.ServiceAccount) bool { return a.Name == sa }) {
		add("serviceAccountName %q: no such ServiceAccount in the manifests (Vault's Kubernetes auth role is bound to it)", sa)
	}
	return p
}

// config is the file snowgate serve --config reads, from its ConfigMap.
func (r *rendered) config() (file, text string, err error) {
	d, c := r.gateway()
	args := append(slices.Clone(c.Command), c.Args...)
	if len(args) != 4 || args[0] != "snowgate" || args[1] != "serve" || args[2] != "--config" {
		return "", "", fmt.Errorf("the container runs %q, want snowgate serve --config FILE", args)
	}
	file = args[3]
	m, v := mountOf(d, c, file)
	if v == nil || v.ConfigMap == nil {
		return file, "", fmt.Errorf("%s is not in a mounted ConfigMap", file)
	}
	cm := r.configMaps[v.ConfigMap.Name]
	if cm == nil {
		return file, "", fmt.Errorf("ConfigMap %s (volume %s) is not in the manifests", v.ConfigMap.Name, v.Name)
	}
	key := strings.TrimPrefix(file, m.MountPath+"/")
	text, ok := cm.Data[key]
	if !ok {
		return file, "", fmt.Errorf("ConfigMap %s has no key %s", cm.Name, key)
	}
	return file, text, nil
}

// listenPort is the port of a host:port the kubelet and Services can reach.
func listenPort(key, addr string) (int32, error) {
	if addr == "" {
		return 0, fmt.Errorf("config: %s is unset: its default is on loopback, which neither probes nor Services reach", key)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("config: %s %q: %v", key, addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return 0, fmt.Errorf("config: %s %q is on loopback: probes and Services cannot reach it", key, addr)
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("config: %s %q: want a fixed port", key, addr)
	}
	return int32(n), nil
}

// containerPort resolves a port by name or number among c's ports.
func containerPort(c *corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func checkProbes(c *corev1.Container, admin, gateway int32) []string {
	var p []string
	probe := func(what string, pr *corev1.Probe, wantPath string, optional bool) {
		switch {
		case pr == nil && optional:
			return
		case pr == nil || pr.HTTPGet == nil:
			p = append(p, fmt.Sprintf("%s probe: want an HTTP GET of %s on the admin port", what, wantPath))
			return
		}
		port, ok := containerPort(c, pr.HTTPGet.Port)
		switch {
		case !ok:
			p = append(p, fmt.Sprintf("%s probe: port %s is not a container port", what, pr.HTTPGet.Port.String()))
		case port != admin:
			p = append(p, fmt.Sprintf("%s probe: port %s is %d, want the admin port %d (not the gateway's %d)", what, pr.HTTPGet.Port.String(), port, admin, gateway))
		}
		if pr.HTTPGet.Path != wantPath {
			p = append(p, fmt.Sprintf("%s probe: path %q, want %s", what, pr.HTTPGet.Path, wantPath))
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz", false)
	probe("readiness", c.ReadinessProbe, "/readyz", false)
	probe("startup", c.StartupProbe, "/healthz", true)
	if r := c.ReadinessProbe; r != nil && time.Duration(r.TimeoutSeconds)*time.Second <= readyzBound {
		p = append(p, fmt.Sprintf("readiness probe: timeoutSeconds %d, want more than the %s /readyz's checks may take", r.TimeoutSeconds, readyzBound))
	}
	return p
}

// checkShutdown: a stopping pod leaves the endpoints during preStop, then
// drains, and is killed only after all of it.
func checkShutdown(d *appsv1.Deployment, c *corev1.Container, drain time.Duration) []string {
	var p []string
	var preStop time.Duration
	switch h := c.Lifecycle; {
	case h == nil || h.PreStop == nil:
		p = append(p, "no preStop hook: SIGTERM would come while the endpoints still send new sessions to the pod")
	case h.PreStop.Sleep != nil && h.PreStop.Sleep.Seconds > 0:
		preStop = time.Duration(h.PreStop.Sleep.Seconds) * time.Second
	default:
		p = append(p, "preStop: want a sleep of a few seconds")
	}
	grace := time.Duration(30) * time.Second // the API's default
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if need := preStop + drain + serverShutdown + shutdownMargin; grace < need {
		p = append(p, fmt.Sprintf("terminationGracePeriodSeconds %.0f: want at least %.0f (preStop %s + drain %s + server shutdown %s + margin %s)",
			grace.Seconds(), need.Seconds(), preStop, drain, serverShutdown, shutdownMargin))
	}
	return p
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && sel != nil && !s.Empty() && s.Matches(labels.Set(set))
}

// checkSelectors: the PDB and the Services select the Deployment's pods,
// and the Services reach the ports they name.
func (r *rendered) checkSelectors(d *appsv1.Deployment, c *corev1.Container, gateway, admin int32) []string {
	var p []string
	pod := d.Spec.Template.Labels
	if !selects(d.Spec.Selector, pod) {
		p = append(p, "Deployment: its selector does not match its pod template's labels")
	}
	if len(r.pdbs) != 1 {
		p = append(p, fmt.Sprintf("want one PodDisruptionBudget, got %d", len(r.pdbs)))
	}
	for _, b := range r.pdbs {
		if b.Namespace != d.Namespace || !selects(b.Spec.Selector, pod) {
			p = append(p, fmt.Sprintf("PodDisruptionBudget %s does not select the Deployment's pods", b.Name))
		}
		one := intstr.FromInt32(1)
		if !(b.Spec.MaxUnavailable != nil && *b.Spec.MaxUnavailable == one && b.Spec.MinAvailable == nil ||
			b.Spec.MinAvailable != nil && *b.Spec.MinAvailable == one && b.Spec.MaxUnavailable == nil) {
			p = append(p, fmt.Sprintf("PodDisruptionBudget %s: want maxUnavailable: 1 or minAvailable: 1", b.Name))
		}
	}
	exposed := map[int32]*corev1.Service{}
	for _, s := range r.services {
		if s.Namespace != d.Namespace || !selects(&metav1.LabelSelector{MatchLabels: s.Spec.Selector}, pod) {
			p = append(p, fmt.Sprintf("Service %s does not select the Deployment's pods", s.Name))
			continue
		}
		for _, sp := range s.Spec.Ports {
			target := sp.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(sp.Port)
			}
			port, ok := containerPort(c, target)
			if !ok {
				p = append(p, fmt.Sprintf("Service %s: port %s targets %s, not a container port", s.Name, sp.Name, target.String()))
				continue
			}
			exposed[port] = s
		}
	}
	switch s := exposed[gateway]; {
	case s == nil:
		p = append(p, fmt.Sprintf("no Service exposes the gateway port %d", gateway))
	case s.Spec.SessionAffinity != corev1.ServiceAffinityClientIP:
		p = append(p, fmt.Sprintf("Service %s: sessionAffinity %q, want ClientIP: a session lives in the replica that logged it in", s.Name, s.Spec.SessionAffinity))
	}
	if exposed[admin] == nil {
		p = append(p, fmt.Sprintf("no Service exposes the admin port %d", admin))
	}
	return p
}

// checkAutoscaler: the HPA scales the Deployment on a per-pod rate of a
// counter the gateway exports.
func (r *rendered) checkAutoscaler(d *appsv1.Deployment, counters map[string]bool) []string {
	if len(r.hpas) != 1 {
		return []string{fmt.Sprintf("want one HorizontalPodAutoscaler, got %d", len(r.hpas))}
	}
	h := r.hpas[0]
	var p []string
	if t := h.Spec.ScaleTargetRef; t.APIVersion != "apps/v1" || t.Kind != "Deployment" || t.Name != d.Name || h.Namespace != d.Namespace {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s targets %s %s/%s, want Deployment %s", h.Name, t.APIVersion, t.Kind, t.Name, d.Name))
	}
	min := int32(1)
	if h.Spec.MinReplicas != nil {
		min = *h.Spec.MinReplicas
	}
	if min < 2 {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s: minReplicas %d, want at least 2 so that a disruption leaves one", h.Name, min))
	}
	if rep := d.Spec.Replicas; rep == nil || *rep < min || *rep > h.Spec.MaxReplicas {
		p = append(p, fmt.Sprintf("Deployment replicas %v outside the HorizontalPodAutoscaler's %d..%d", deref(rep), min, h.Spec.MaxReplicas))
	}
	found := false
	for _, m := range h.Spec.Metrics {
		if m.Pods == nil {
			continue
		}
		found = true
		name := m.Pods.Metric.Name
		counter := strings.TrimSuffix(name, "_per_second") + "_total"
		if !strings.HasSuffix(name, "_per_second") || !counters[counter] {
			p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s: Pods metric %s is not a rate of a counter the gateway exports (want NAME_per_second for NAME_total)", h.Name, name))
		}
		if m.Pods.Target.Type != "AverageValue" || m.Pods.Target.AverageValue == nil || m.Pods.Target.AverageValue.Sign() <= 0 {
			p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s: metric %s wants a positive AverageValue target", h.Name, name))
		}
	}
	if !found {
		p = append(p, fmt.Sprintf("HorizontalPodAutoscaler %s: no Pods metric (the statement rate)", h.Name))
	}
	return p
}

func deref(p *int32) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func checkSecurity(d *appsv1.Deployment, c *corev1.Container) []string {
	var p []string
	ps, cs := d.Spec.Template.Spec.SecurityContext, c.SecurityContext
	nonRoot := ps != nil && ps.RunAsNonRoot != nil && *ps.RunAsNonRoot || cs != nil && cs.RunAsNonRoot != nil && *cs.RunAsNonRoot
	if !nonRoot {
		p = append(p, "securityContext: want runAsNonRoot: true")
	}
	if cs == nil || cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem {
		p = append(p, "container securityContext: want readOnlyRootFilesystem: true")
	}
	if cs == nil || cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
		p = append(p, "container securityContext: want allowPrivilegeEscalation: false")
	}
	if cs == nil || cs.Capabilities == nil || !slices.Contains(cs.Capabilities.Drop, "ALL") {
		p = append(p, "container securityContext: want capabilities drop [ALL]")
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			p = append(p, fmt.Sprintf("resources: no %s request", res))
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			p = append(p, fmt.Sprintf("resources: no %s limit", res))
		}
	}
	// Large results are spooled to os.TempDir(): TMPDIR must be a writable
	// emptyDir, since the root filesystem is read-only.
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "TMPDIR" })
	if i < 0 {
		return append(p, "env: TMPDIR is unset: results beyond 1 MiB are spooled to os.TempDir()")
	}
	m, v := mountOf(d, c, c.Env[i].Value)
	if v == nil || v.EmptyDir == nil || m.ReadOnly || m.MountPath != c.Env[i].Value {
		p = append(p, fmt.Sprintf("env: TMPDIR %q is not the mount of a writable emptyDir", c.Env[i].Value))
	}
	return p
}

var (
	secretName = regexp.MustCompile(`(?i)password|secret|token|webhook|private|credential|_key$|dsn`)
	dsnPass    = regexp.MustCompile(`://[^:/@\s]+:([^@\s]+)@`)
	envRef     = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)
)

// checkSecrets: no Secret, and no secret value, is part of the manifests:
// secrets reach the container from a Secret created outside them.
func (r *rendered) checkSecrets(c *corev1.Container, config string) []string {
	var p []string
	for _, s := range r.secrets {
		p = append(p, fmt.Sprintf("Secret %s is part of the manifests: secrets are created outside them", s.Name))
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil && secretName.MatchString(e.Name) {
			p = append(p, fmt.Sprintf("env %s has a literal value: take it from a Secret (valueFrom.secretKeyRef)", e.Name))
		}
	}
	for _, m := range dsnPass.FindAllStringSubmatch(config, -1) {
		if !envRef.MatchString(m[1]) {
			p = append(p, "config: a URL has a literal password: write ${VAR} and set VAR from a Secret")
		}
	}
	var cfg struct {
		Approvals struct {
			Webhook string `yaml:"webhook_url"`
		} `yaml:"approvals"`
	}
	if yaml.Unmarshal([]byte(config), &cfg) == nil && cfg.Approvals.Webhook != "" && !envRef.MatchString(cfg.Approvals.Webhook) {
		p = append(p, "config: approvals.webhook_url is a credential: write ${VAR} and set VAR from a Secret")
	}
	return p
}

// checkPaths: every absolute path the config names is in one of the
// container's volumes (the root filesystem is the image's, read-only), and
// Vault's Kubernetes auth reads a projected service account token.
func checkPaths(d *appsv1.Deployment, c *corev1.Container, config string, cfg gatewayConfig) []string {
	var p []string
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(config), &doc); err != nil {
		return []string{err.Error()}
	}
	for _, s := range scalars(&doc) {
		if v := s.Value; strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
			if _, vol := mountOf(d, c, v); vol == nil {
				p = append(p, fmt.Sprintf("config line %d: %s is in none of the container's volumes", s.Line, v))
			}
		}
	}
	if v := cfg.Credentials.Vault; v != nil && v.Auth.Method == "kubernetes" {
		tp := v.Auth.TokenPath
		if tp == "" {
			tp = vaultTokenPath
		}
		m, vol := mountOf(d, c, tp)
		rel := strings.TrimPrefix(tp, m.MountPath+"/")
		ok := vol != nil && vol.Projected != nil && slices.ContainsFunc(vol.Projected.Sources, func(s corev1.VolumeProjection) bool {
			return s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == rel && s.ServiceAccountToken.Audience != ""
		})
		if !ok {
			p = append(p, fmt.Sprintf("credentials.vault.auth.token_path %s: want a projected service account token with an audience there", tp))
		}
	}
	return p
}

// scalars are the scalar nodes of a YAML document, keys and values.
func scalars(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

// mountOf is the container's mount holding the file or directory p, and its
// volume (nil when no mount holds p).
func mountOf(d *appsv1.Deployment, c *corev1.Container, p string) (corev1.VolumeMount, *corev1.Volume) {
	p = path.Clean(p)
	var best corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if (p == m.MountPath || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/")) && len(m.MountPath) > len(best.MountPath) {
			best = m
		}
	}
	for i, v := range d.Spec.Template.Spec.Volumes {
		if best.Name != "" && v.Name == best.Name {
			return best, &d.Spec.Template.Spec.Volumes[i]
		}
	}
	return best, nil
}
