package bundles

import (
	"errors"
	"strings"
	"testing"
)

func TestVerifier_Verify(t *testing.T) {
	rsaKey := newKey(t, "rsa", "team-rsa")
	ecKey := newKey(t, "ec", "team-ec")
	stranger := newKey(t, "rsa", "team-rsa") // same key id, different key
	good := signedBundle(t, "allow", "r1", rsaKey)
	scoped := func() []byte {
		b := mustRead(t, signedBundle(t, "allow", "r1", rsaKey))
		k := rsaKey.signing
		k.Scope = "prod"
		if err := Sign(b, k); err != nil {
			t.Fatal(err)
		}
		raw, err := Encode(b)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}()
	unsigned := func() []byte {
		raw, err := Encode(mustRead(t, good))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}()
	prodKey := rsaKey
	prodKey.public.Scope = "prod"

	for name, tc := range map[string]struct {
		raw        []byte
		keys       []testKey
		wantErr    string // "" means accepted
		unverified bool   // the error must wrap ErrUnverified
	}{
		"RS256":          {raw: good, keys: []testKey{rsaKey}},
		"ES256":          {raw: signedBundle(t, "allow", "r1", ecKey), keys: []testKey{ecKey}},
		"key rotation":   {raw: signedBundle(t, "allow", "r1", ecKey), keys: []testKey{rsaKey, ecKey}},
		"scope":          {raw: scoped, keys: []testKey{prodKey}},
		"scope missing":  {raw: good, keys: []testKey{prodKey}, wantErr: "scope mismatch", unverified: true},
		"scope unwanted": {raw: scoped, keys: []testKey{rsaKey}, wantErr: "scope mismatch", unverified: true},
		"unknown key id": {raw: signedBundle(t, "allow", "r1", ecKey), keys: []testKey{rsaKey}, wantErr: "not found", unverified: true},
		"wrong key":      {raw: signedBundle(t, "allow", "r1", stranger), keys: []testKey{rsaKey}, wantErr: "verification error", unverified: true},
		"unsigned":       {raw: unsigned, keys: []testKey{rsaKey}, wantErr: "missing .signatures.json", unverified: true},
		"tampered module": {raw: rewriteTar(t, good, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "decision.rego") {
				return []byte(strings.ReplaceAll(string(data), "allow", "deny"))
			}
			return data
		}, nil), keys: []testKey{rsaKey}, wantErr: "digest mismatch", unverified: true},
		"tampered data": {raw: rewriteTar(t, good, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "data.json") {
				return []byte(strings.ReplaceAll(string(data), "from data.json", "edited"))
			}
			return data
		}, nil), keys: []testKey{rsaKey}, wantErr: "digest mismatch", unverified: true},
		"added module": {raw: rewriteTar(t, good, nil, map[string]string{"/extra.rego": "package snowgate.extra\n\nx := 1\n"}),
			keys: []testKey{rsaKey}, wantErr: "not included in bundle signature", unverified: true},
		"removed module": {raw: rewriteTar(t, good, func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "helpers.rego") {
				return nil
			}
			return data
		}, nil), keys: []testKey{rsaKey}, wantErr: "not found in the target bundle", unverified: true},
		"renamed signature file": {raw: rewriteTar(t, good, nil, map[string]string{"/lib/.signatures.json": `{"signatures":[]}`}),
			keys: []testKey{rsaKey}, wantErr: "multiple signatures files", unverified: true},
		"not a bundle": {raw: []byte("hello"), keys: []testKey{rsaKey}, wantErr: "read bundle"},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := verifier(t, tc.keys...).Verify(tc.raw)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case tc.wantErr == "":
				if b.Manifest.Revision != "r1" {
					t.Errorf("revision %q", b.Manifest.Revision)
				}
			case err == nil:
				t.Fatalf("Verify accepted the bundle, want an error containing %q", tc.wantErr)
			case !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Verify: %v, want an error containing %q", err, tc.wantErr)
			case errors.Is(err, ErrUnverified) != tc.unverified:
				t.Fatalf("Verify: %v; errors.Is(ErrUnverified) = %v, want %v", err, !tc.unverified, tc.unverified)
			}
		})
	}
}

func TestNewVerifier_Errors(t *testing.T) {
	k := newKey(t, "rsa", "a")
	ec := newKey(t, "ec", "b")
	for name, keys := range map[string][]PublicKey{
		"none":         nil,
		"duplicate id": {k.public, k.public},
		"private key":  {{ID: "a", PEM: k.signing.PEM}},
		"alg mismatch": {{ID: "b", PEM: ec.public.PEM, Algorithm: "RS256"}},
		"not PEM":      {{ID: "a", PEM: "hello"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewVerifier(keys...); err == nil {
				t.Fatal("NewVerifier accepted the keys")
			}
		})
	}
	if _, err := NewVerifier(); !errors.Is(err, ErrNoKeys) {
		t.Errorf("NewVerifier(): %v, want ErrNoKeys", err)
	}
}

func TestInspect_Signature(t *testing.T) {
	k := newKey(t, "ec", "inspector")
	info, err := Inspect(signedBundle(t, "allow", "r9", k))
	if err != nil {
		t.Fatal(err)
	}
	s := info.Signature
	if s == nil || s.KeyID != "inspector" || s.Algorithm != "ES256" || s.Files != 5 {
		t.Errorf("signature %+v, want kid inspector, ES256, 5 files (3 modules, data, manifest)", s)
	}
}
