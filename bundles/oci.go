package bundles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// The media types of a bundle in an OCI registry, as OPA's OCI downloader
// (v1/download/oci_download.go) expects them: an image manifest whose one
// layer is the bundle tarball, with an empty-object image config.
const (
	MediaTypeBundleLayer = ocispec.MediaTypeImageLayerGzip // application/vnd.oci.image.layer.v1.tar+gzip
	MediaTypeConfig      = ocispec.MediaTypeImageConfig    // application/vnd.oci.image.config.v1+json
	// AnnotationRevision carries the bundle's manifest revision on the OCI
	// manifest, so a registry UI or `oras manifest fetch` shows it.
	AnnotationRevision = ocispec.AnnotationRevision
)

// OCI is a bundle repository in an OCI registry, addressed by a reference
// such as 127.0.0.1:5000/snowgate/policy:v2 or
// registry.example.com/snowgate/policy@sha256:… (a digest pins the bundle).
type OCI struct {
	// Reference is the repository and tag or digest. Required.
	Reference string
	// Username and Password, when Username is set, are sent as Basic
	// credentials (and exchanged for a token when the registry asks).
	Username, Password string
	// PlainHTTP talks http:// instead of https://. Default false, except
	// for loopback hosts (localhost, 127.0.0.0/8, ::1), as with oras.
	PlainHTTP bool
	// Client is the HTTP client. Default: oras' retrying client.
	Client *http.Client
	// MaxSize bounds the bundle layer. Default DefaultMaxSize.
	MaxSize int64

	mu     sync.Mutex
	client *auth.Client // made on first use, so auth tokens are cached across polls
}

var _ Source = (*OCI)(nil)

// String is the reference.
func (o *OCI) String() string { return o.Reference }

// Pushed says where Push put a bundle.
type Pushed struct {
	Reference string `json:"reference"` // repository@manifest-digest
	Manifest  string `json:"manifest"`  // manifest digest
	Layer     string `json:"layer"`     // the tarball's digest
	Tag       string `json:"tag"`
	Revision  string `json:"revision"`
}

// Push uploads a bundle tarball and tags it with the reference's tag.
func (o *OCI) Push(ctx context.Context, raw []byte) (*Pushed, error) {
	info, err := Inspect(raw)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	repo, err := o.repository()
	if err != nil {
		return nil, err
	}
	tag := repo.Reference.Reference
	if tag == "" || strings.Contains(tag, ":") {
		return nil, fmt.Errorf("push %s: the reference needs a tag, not a digest", o.Reference)
	}
	layer := content.NewDescriptorFromBytes(MediaTypeBundleLayer, raw)
	layer.Annotations = map[string]string{ocispec.AnnotationTitle: "bundle.tar.gz"}
	config := content.NewDescriptorFromBytes(MediaTypeConfig, []byte("{}"))
	for _, blob := range []struct {
		desc ocispec.Descriptor
		data []byte
	}{{layer, raw}, {config, []byte("{}")}} {
		if err := pushBlob(ctx, repo, blob.desc, blob.data); err != nil {
			return nil, fmt.Errorf("push %s: %w", o.Reference, err)
		}
	}
	annotations := map[string]string{}
	if info.Revision != "" {
		annotations[AnnotationRevision] = info.Revision
	}
	manifest := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      config,
		Layers:      []ocispec.Descriptor{layer},
		Annotations: annotations,
	}
	mbytes, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	mdesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mbytes)
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(mbytes), tag); err != nil {
		return nil, fmt.Errorf("push %s: manifest: %w", o.Reference, err)
	}
	return &Pushed{
		Reference: repo.Reference.Registry + "/" + repo.Reference.Repository + "@" + mdesc.Digest.String(),
		Manifest:  mdesc.Digest.String(), Layer: layer.Digest.String(), Tag: tag, Revision: info.Revision,
	}, nil
}

func pushBlob(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, data []byte) error {
	ok, err := repo.Exists(ctx, desc)
	if err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if ok {
		return nil
	}
	if err := repo.Push(ctx, desc, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return nil
}

// Fetch resolves the reference and downloads the bundle layer, unless the
// manifest digest equals version (ErrNotModified). Digests of the manifest
// and the layer are checked against what the registry announced.
func (o *OCI) Fetch(ctx context.Context, version string) (*Download, error) {
	repo, err := o.repository()
	if err != nil {
		return nil, err
	}
	desc, err := repo.Resolve(ctx, repo.Reference.Reference)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", o.Reference, err)
	}
	if version != "" && desc.Digest.String() == version {
		return nil, ErrNotModified
	}
	layer, err := o.bundleLayer(ctx, repo, desc, 0)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", o.Reference, err)
	}
	if layer.Size > o.maxSize() {
		return nil, fmt.Errorf("pull %s: %w (%d bytes)", o.Reference, ErrTooLarge, layer.Size)
	}
	raw, err := content.FetchAll(ctx, repo, layer)
	if err != nil {
		return nil, fmt.Errorf("pull %s: layer %s: %w", o.Reference, layer.Digest, err)
	}
	return &Download{Raw: raw, Version: desc.Digest.String()}, nil
}

// bundleLayer finds the bundle layer under a manifest, or under the first
// manifest of an index that has one, as OPA does.
func (o *OCI) bundleLayer(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, depth int) (ocispec.Descriptor, error) {
	if depth > 2 {
		return ocispec.Descriptor{}, errors.New("image index nested too deeply")
	}
	if desc.Size > 4<<20 {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w (%d bytes)", desc.Digest, ErrTooLarge, desc.Size)
	}
	data, err := content.FetchAll(ctx, repo, desc)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		var idx ocispec.Index
		if err := json.Unmarshal(data, &idx); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		var errs []error
		for _, m := range idx.Manifests {
			l, err := o.bundleLayer(ctx, repo, m, depth+1)
			if err == nil {
				return l, nil
			}
			errs = append(errs, err)
		}
		return ocispec.Descriptor{}, fmt.Errorf("index %s has no bundle layer: %w", desc.Digest, errors.Join(errs...))
	case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
		var m ocispec.Manifest
		if err := json.Unmarshal(data, &m); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", desc.Digest, err)
		}
		for _, l := range m.Layers {
			if l.MediaType == MediaTypeBundleLayer {
				return l, nil
			}
		}
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s has no %s layer", desc.Digest, MediaTypeBundleLayer)
	}
	return ocispec.Descriptor{}, fmt.Errorf("%s is a %q, not an image manifest or index", desc.Digest, desc.MediaType)
}

// Resolve returns the manifest digest the reference points at.
func (o *OCI) Resolve(ctx context.Context) (digest.Digest, error) {
	repo, err := o.repository()
	if err != nil {
		return "", err
	}
	desc, err := repo.Resolve(ctx, repo.Reference.Reference)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", o.Reference, err)
	}
	return desc.Digest, nil
}

func (o *OCI) repository() (*remote.Repository, error) {
	repo, err := remote.NewRepository(o.Reference)
	if err != nil {
		return nil, fmt.Errorf("oci reference %q: %w", o.Reference, err)
	}
	if repo.Reference.Reference == "" {
		return nil, fmt.Errorf("oci reference %q: needs a tag or a digest", o.Reference)
	}
	repo.PlainHTTP = o.PlainHTTP || isLoopback(repo.Reference.Registry)
	repo.Client = o.authClient(repo.Reference.Registry)
	return repo, nil
}

func (o *OCI) authClient(registry string) *auth.Client {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.client != nil {
		return o.client
	}
	hc := o.Client
	if hc == nil {
		hc = retry.DefaultClient
	}
	o.client = &auth.Client{Client: hc, Cache: auth.NewCache()}
	o.client.SetUserAgent("snowgate")
	if o.Username != "" {
		o.client.Credential = auth.StaticCredential(registry, auth.Credential{Username: o.Username, Password: o.Password})
	}
	return o.client
}

func (o *OCI) maxSize() int64 {
	if o.MaxSize > 0 {
		return o.MaxSize
	}
	return DefaultMaxSize
}

// isLoopback reports whether a registry host[:port] is on this machine.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
