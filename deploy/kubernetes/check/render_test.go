package check

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The manifests are decoded into the Go types of the Kubernetes API, which
// its OpenAPI schemas are generated from, rather than checked by kubeconform:
// kubeconform is not served by this machine's Go module proxy and fetches its
// schemas over the network. The decoder is strict: an unknown or duplicated
// field, or a kind not registered below, is an error.
var decoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}()

// kustomizations are the directories to render: base and every overlay.
func kustomizations() ([]string, error) {
	overlays, err := filepath.Glob("../overlays/*/kustomization.yaml")
	if err != nil {
		return nil, err
	}
	dirs := []string{"../base"}
	for _, k := range overlays {
		dirs = append(dirs, filepath.Dir(k))
	}
	return dirs, nil
}

// rendered is one kustomization's output, decoded.
type rendered struct {
	dir         string
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	accounts    []*corev1.ServiceAccount
	secrets     []*corev1.Secret
	pdbs        []*policyv1.PodDisruptionBudget
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
}

// render builds the kustomization in dir as kubectl apply -k would.
func render(dir string) (*rendered, error) {
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err != nil {
		return nil, err
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	r := &rendered{dir: dir, configMaps: map[string]*corev1.ConfigMap{}}
	for _, res := range m.Resources() {
		b, err := res.AsYAML()
		if err != nil {
			return nil, err
		}
		if err := r.add(b); err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", dir, res.GetKind(), res.GetName(), err)
		}
	}
	return r, nil
}

// add decodes one object strictly into its Kubernetes type.
func (r *rendered) add(b []byte) error {
	obj, _, err := decoder.Decode(b, nil, nil)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		r.deployments = append(r.deployments, o)
	case *corev1.Service:
		r.services = append(r.services, o)
	case *corev1.ConfigMap:
		r.configMaps[o.Name] = o
	case *corev1.ServiceAccount:
		r.accounts = append(r.accounts, o)
	case *corev1.Secret:
		r.secrets = append(r.secrets, o)
	case *policyv1.PodDisruptionBudget:
		r.pdbs = append(r.pdbs, o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		r.hpas = append(r.hpas, o)
	default:
		return fmt.Errorf("%T: no check knows this kind: add it to rendered", obj)
	}
	return nil
}

// clone is a deep copy, for tests that break one thing.
func (r *rendered) clone() *rendered {
	c := &rendered{dir: r.dir, configMaps: map[string]*corev1.ConfigMap{}}
	for _, o := range r.deployments {
		c.deployments = append(c.deployments, o.DeepCopy())
	}
	for _, o := range r.services {
		c.services = append(c.services, o.DeepCopy())
	}
	for k, o := range r.configMaps {
		c.configMaps[k] = o.DeepCopy()
	}
	for _, o := range r.accounts {
		c.accounts = append(c.accounts, o.DeepCopy())
	}
	for _, o := range r.secrets {
		c.secrets = append(c.secrets, o.DeepCopy())
	}
	for _, o := range r.pdbs {
		c.pdbs = append(c.pdbs, o.DeepCopy())
	}
	for _, o := range r.hpas {
		c.hpas = append(c.hpas, o.DeepCopy())
	}
	return c
}

// gateway is the Deployment and its snowgate container; the checks of
// rendered require exactly one of each.
func (r *rendered) gateway() (*appsv1.Deployment, *corev1.Container) {
	if len(r.deployments) != 1 {
		return nil, nil
	}
	d := r.deployments[0]
	i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "snowgate" })
	if i < 0 {
		return d, nil
	}
	return d, &d.Spec.Template.Spec.Containers[i]
}
