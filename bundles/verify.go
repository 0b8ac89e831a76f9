package bundles

import (
	"bytes"
	"fmt"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// Verifier checks bundle signatures against a fixed set of trusted keys.
// Every bundle it accepts carries a .signatures.json whose JWT names one of
// its keys (by kid), verifies under that key, matches the key's scope, and
// covers every file in the bundle with a matching digest.
type Verifier struct {
	keys map[string]*bundle.KeyConfig
}

// NewVerifier returns a Verifier trusting keys. It fails with ErrNoKeys
// when keys is empty: a verifier that trusts nothing is a configuration
// mistake, not a way to turn verification off.
func NewVerifier(keys ...PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	v := &Verifier{keys: make(map[string]*bundle.KeyConfig, len(keys))}
	for _, k := range keys {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("verification key %q: %w", k.ID, err)
		}
		if _, dup := v.keys[k.ID]; dup {
			return nil, fmt.Errorf("verification key %q: configured twice", k.ID)
		}
		v.keys[k.ID] = &bundle.KeyConfig{Key: k.PEM, Algorithm: k.Algorithm, Scope: k.Scope}
	}
	return v, nil
}

// KeyIDs lists the trusted key ids.
func (v *Verifier) KeyIDs() []string {
	ids := make([]string, 0, len(v.keys))
	for id := range v.keys {
		ids = append(ids, id)
	}
	return ids
}

// Verify parses a bundle tarball and checks its signature. A malformed
// tarball is an ordinary error; a missing, unknown, invalid or incomplete
// signature wraps ErrUnverified.
func (v *Verifier) Verify(raw []byte) (*bundle.Bundle, error) {
	// Parse once without verification so that a broken tarball is not
	// reported as a signature failure.
	if _, err := ReadUnverified(raw); err != nil {
		return nil, err
	}
	// The JWT's kid selects the key and the key's own scope applies, as
	// OPA does with `signing: {}`; the signature is required (OPA >= 1.21.3
	// semantics). A JWT without a key id (`opa build --claims-file` writes
	// none) can only be checked against a verifier's single key.
	vc := bundle.NewVerificationConfig(v.keys, v.keyIDFor(raw), "", nil)
	b, err := bundle.NewReader(bytes.NewReader(raw)).
		WithBundleVerificationConfig(vc).
		WithSizeLimitBytes(DefaultMaxSize).
		Read()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnverified, err)
	}
	if b.Type() != bundle.SnapshotBundleType {
		return nil, fmt.Errorf("%w: %s bundles cannot be signed", ErrUnverified, b.Type())
	}
	return &b, nil
}

// keyIDFor is the key to force for raw's signature: the only key when the
// signature names none, else "" (the JWT's kid decides). Forcing a key is
// safe: the signature must still verify under it.
func (v *Verifier) keyIDFor(raw []byte) string {
	if len(v.keys) != 1 {
		return ""
	}
	sigs, _, err := scanTarball(raw)
	if err != nil || sigs == nil {
		return ""
	}
	if s, err := decodeSignature(sigs); err != nil || s.KeyID != "" {
		return ""
	}
	for id := range v.keys {
		return id
	}
	return ""
}
