package bundles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/engine"
)

// testKey is a generated key pair, also written to PEM files for the CLI.
type testKey struct {
	id                string
	signing           SigningKey
	public            PublicKey
	privFile, pubFile string
}

// newKey makes an RSA ("rsa") or P-256 ("ec") key pair with key id id.
func newKey(t testing.TB, kind, id string) testKey {
	t.Helper()
	var (
		priv any
		pub  any
		err  error
	)
	switch kind {
	case "rsa":
		k, e := rsa.GenerateKey(rand.Reader, 2048)
		priv, pub, err = k, &k.PublicKey, e
	case "ec":
		k, e := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		priv, pub, err = k, &k.PublicKey, e
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	dir := t.TempDir()
	k := testKey{
		id: id, signing: SigningKey{PEM: privPEM, KeyID: id}, public: PublicKey{ID: id, PEM: pubPEM},
		privFile: filepath.Join(dir, "priv.pem"), pubFile: filepath.Join(dir, "pub.pem"),
	}
	if err := os.WriteFile(k.privFile, []byte(privPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.pubFile, []byte(pubPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// verifier trusts keys.
func verifier(t testing.TB, keys ...testKey) *Verifier {
	t.Helper()
	pks := make([]PublicKey, len(keys))
	for i, k := range keys {
		pks[i] = k.public
	}
	v, err := NewVerifier(pks...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// policyDir writes a small policy whose decision is action, with the
// revision in its reasons, plus a test file and a stray file that must not
// end up in a bundle.
func policyDir(t testing.TB, action string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		".manifest":          `{"roots": ["snowgate"]}`,
		"decision.rego":      "package snowgate\n\ndecision := {\"action\": \"" + action + "\", \"reasons\": [data.snowgate.config.note]}\n",
		"connect.rego":       "package snowgate.connect\n\ndecision := {\"action\": \"deny\", \"reasons\": [\"test policy\"]}\n",
		"data.json":          `{"snowgate": {"config": {"note": "from data.json"}}}`,
		"decision_test.rego": "package snowgate_test\n\ntest_x if true\n",
		"README.md":          "not policy",
		"lib/helpers.rego":   "package snowgate.lib\n\nyes := true\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// signedBundle builds policyDir(action) at revision rev, signed by key.
func signedBundle(t testing.TB, action, rev string, key testKey) []byte {
	t.Helper()
	b, err := Build(BuildOptions{Dir: policyDir(t, action), Revision: rev})
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(b, key.signing); err != nil {
		t.Fatal(err)
	}
	raw, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rewriteTar returns raw with each file passed through edit; edit returns
// nil to drop a file. add appends files.
func rewriteTar(t testing.TB, raw []byte, edit func(name string, data []byte) []byte, add map[string]string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	write := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(h.Name, data)
		}
		if data != nil {
			write(h.Name, data)
		}
	}
	for name, body := range add {
		write(name, []byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// newEngine returns an engine that starts with NoPolicy, as the gateway's
// does when it takes its policy from a registry.
func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	e, err := engine.New(context.Background(), engine.Options{Bundle: NoPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// decide is the engine's decision on an empty statement.
func decide(e *engine.Engine) engine.Decision {
	return e.Decide(context.Background(), engine.Input{})
}

// mustRead parses raw without verification.
func mustRead(t testing.TB, raw []byte) *bundle.Bundle {
	t.Helper()
	b, err := ReadUnverified(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
