// Package check holds the tests of snowgate's Kubernetes manifests
// (deploy/kubernetes): each kustomization is rendered with kustomize's API
// and every object decoded strictly into its k8s.io/api type, then checked
// for what the gateway needs, and the config in its ConfigMap is run
// through `snowgate config validate`.
//
// It is a module of its own so that the Kubernetes and kustomize modules stay
// out of the product's go.mod. Run it with
//
//	cd deploy/kubernetes/check && go test ./...
//
// (make test does). SNOWGATE_BIN names a snowgate binary to use instead of
// building one from the repository.
package check
