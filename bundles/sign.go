package bundles

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// Sign signs b in place with key: it writes OPA's .signatures.json, one JWT
// (kid = key.KeyID, alg = key.Algorithm, an optional scope claim) over the
// SHA-256 digests of every module, the data and the manifest, exactly as
// `opa build --signing-key` does. Change nothing in b after signing.
func Sign(b *bundle.Bundle, key SigningKey) error {
	if b == nil {
		return errors.New("sign: no bundle")
	}
	if err := key.validate(); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	claims := ""
	if key.Scope != "" {
		// OPA's signer takes extra claims only from a file.
		path, err := claimsFile(map[string]any{"scope": key.Scope, "keyid": key.KeyID})
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		defer os.Remove(path)
		claims = path
	}
	b.Signatures = bundle.SignaturesConfig{}
	if err := b.GenerateSignature(bundle.NewSigningConfig(key.PEM, key.Algorithm, claims), key.KeyID, false); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	return nil
}

// claimsFile writes claims to a private temporary file.
func claimsFile(claims map[string]any) (string, error) {
	f, err := os.CreateTemp("", "snowgate-claims-*.json")
	if err != nil {
		return "", fmt.Errorf("claims file: %w", err)
	}
	err = json.NewEncoder(f).Encode(claims)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("claims file: %w", err)
	}
	return f.Name(), nil
}
