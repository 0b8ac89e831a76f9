package bundles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultKeyID is the key id written into a signature when none is given;
// it is the one `opa build --signing-key` uses.
const DefaultKeyID = "default"

// SigningKey is a private key that signs bundles.
type SigningKey struct {
	// PEM is the private key: PKCS#1 ("RSA PRIVATE KEY"), PKCS#8 ("PRIVATE
	// KEY") or SEC 1 ("EC PRIVATE KEY").
	PEM string
	// Algorithm is the JWT algorithm (RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384, ES512). Default: RS256 for RSA keys, ES256,
	// ES384 or ES512 for EC keys by curve.
	Algorithm string
	// KeyID is written as the JWT's kid; verifiers pick their key by it.
	// Default DefaultKeyID.
	KeyID string
	// Scope, when set, is written as the JWT's scope claim; a verifier
	// configured with a scope accepts only bundles signed with the same one.
	Scope string
}

// PublicKey is a trusted key that verifies bundle signatures.
type PublicKey struct {
	// ID is the key id a bundle's signature must name (its JWT kid).
	ID string
	// PEM is the public key ("PUBLIC KEY", "RSA PUBLIC KEY" or a
	// "CERTIFICATE").
	PEM string
	// Algorithm is the JWT algorithm the key verifies. Default: inferred
	// from the key as for SigningKey.
	Algorithm string
	// Scope, when set, must equal the signature's scope claim; when empty,
	// the signature must carry no scope.
	Scope string
}

// ReadSigningKey reads a PEM private key file and fills in the defaults.
func ReadSigningKey(path, alg, keyID, scope string) (SigningKey, error) {
	pemData, err := os.ReadFile(path)
	if err != nil {
		return SigningKey{}, fmt.Errorf("signing key: %w", err)
	}
	k := SigningKey{PEM: string(pemData), Algorithm: alg, KeyID: keyID, Scope: scope}
	if err := k.validate(); err != nil {
		return SigningKey{}, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ReadPublicKey reads a PEM public key file and fills in the defaults.
func ReadPublicKey(path, id, alg, scope string) (PublicKey, error) {
	pemData, err := os.ReadFile(path)
	if err != nil {
		return PublicKey{}, fmt.Errorf("verification key: %w", err)
	}
	k := PublicKey{ID: id, PEM: string(pemData), Algorithm: alg, Scope: scope}
	if err := k.validate(); err != nil {
		return PublicKey{}, fmt.Errorf("verification key %s: %w", path, err)
	}
	return k, nil
}

func (k *SigningKey) validate() error {
	if k.KeyID == "" {
		k.KeyID = DefaultKeyID
	}
	pub, err := privatePublic(k.PEM)
	if err != nil {
		return err
	}
	k.Algorithm, err = checkAlgorithm(pub, k.Algorithm)
	return err
}

func (k *PublicKey) validate() error {
	if k.ID == "" {
		k.ID = DefaultKeyID
	}
	pub, err := parsePublic(k.PEM)
	if err != nil {
		return err
	}
	k.Algorithm, err = checkAlgorithm(pub, k.Algorithm)
	return err
}

// privatePublic parses a PEM private key and returns its public half.
func privatePublic(pemData string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemData))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return s.Public(), nil
}

// parsePublic parses a PEM public key or certificate.
func parsePublic(pemData string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemData))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return k, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return k, nil
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		return c.PublicKey, nil
	}
	return nil, fmt.Errorf("PEM block %q is not a public key (a private key is not accepted for verification)", block.Type)
}

// checkAlgorithm returns alg, or the default for pub when alg is empty,
// after checking that the two fit together.
func checkAlgorithm(pub crypto.PublicKey, alg string) (string, error) {
	alg = strings.ToUpper(alg)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg {
		case "":
			return "RS256", nil
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return alg, nil
		}
		return "", fmt.Errorf("algorithm %q does not fit an RSA key (want RS256, RS384, RS512, PS256, PS384 or PS512)", alg)
	case *ecdsa.PublicKey:
		want := map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384", elliptic.P521(): "ES512"}[k.Curve]
		if want == "" {
			return "", fmt.Errorf("unsupported EC curve %s", k.Curve.Params().Name)
		}
		if alg == "" || alg == want {
			return want, nil
		}
		return "", fmt.Errorf("algorithm %q does not fit an EC key on %s (want %s)", alg, k.Curve.Params().Name, want)
	}
	return "", fmt.Errorf("unsupported key type %T (want RSA or ECDSA)", pub)
}
