package bundles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// DefaultMaxSize bounds a bundle tarball and each file in it.
const DefaultMaxSize = 64 << 20

// Encode writes b as the standard gzipped bundle tarball, with its
// .signatures.json when b is signed.
func Encode(b *bundle.Bundle) ([]byte, error) {
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(*b); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadUnverified parses a bundle tarball WITHOUT checking its signature;
// the signature itself is dropped. Use it to inspect or re-sign a bundle,
// never to activate one: Verifier.Verify is for that.
func ReadUnverified(raw []byte) (*bundle.Bundle, error) {
	b, err := bundle.NewReader(bytes.NewReader(raw)).
		WithSkipBundleVerification(true).
		WithSizeLimitBytes(DefaultMaxSize).
		Read()
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return &b, nil
}

// Digest is the "sha256:<hex>" digest of a tarball, the same digest an OCI
// registry gives the bundle's layer.
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}
