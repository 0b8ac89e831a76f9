package proxy_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/standin"
)

// mockIssuer starts oauth2-mock-server, an OpenID Provider no one here
// wrote, and returns its issuer URL.
func mockIssuer(t *testing.T) string {
	t.Helper()
	mods := os.Getenv("SNOWGATE_NODE_PATH")
	if mods == "" {
		t.Fatal("SNOWGATE_NODE_PATH is not set: run the tests with `make test`, which installs oauth2-mock-server")
	}
	script, _ := filepath.Abs("testdata/clients/oidc_server.mjs")
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "ISSUER "); ok {
			return u
		}
	}
	t.Fatal("oauth2-mock-server did not start")
	return ""
}

// mockToken asks the mock issuer for a token shaped by the form fields.
func mockToken(t *testing.T, issuer string, fields map[string]string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"snowgate-tests"}}
	for k, v := range fields {
		form.Set(k, v)
	}
	resp, err := http.PostForm(issuer+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("mock token: %v", err)
	}
	return body.AccessToken
}

// mockPublicKey fetches the mock issuer's signing key.
func mockPublicKey(t *testing.T, issuer string) (string, *rsa.PublicKey) {
	resp, err := http.Get(issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("mock jwks: %v", err)
	}
	return set.Keys[0].KeyID, set.Keys[0].Key.(*rsa.PublicKey)
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestOIDC_independentIssuer: tokens from oauth2-mock-server log in; every
// kind of bad token is refused with its own error, and every refusal is in
// the audit trail.
func TestOIDC_independentIssuer(t *testing.T) {
	issuer := mockIssuer(t)
	ctx := context.Background()
	// A second trusted issuer beside it: several issuers at once.
	devSrv := httptest.NewUnstartedServer(nil)
	dev, err := devidp.New("http://"+devSrv.Listener.Addr().String(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	devSrv.Config.Handler = dev.Handler()
	devSrv.Start()
	defer devSrv.Close()
	verifier, err := identity.New([]identity.Issuer{{URL: issuer, Audience: "snowgate"}, {URL: dev.URL(), Audience: devidp.Audience}}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := standin.Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	eng, err := engine.New(ctx, engine.Options{Dir: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.Open(ctx, audit.Config{DSN: filepath.Join(t.TempDir(), "audit.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	gw, err := proxy.New(proxy.Config{Auth: verifier, Upstream: sb, Decider: eng, Audit: trail})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: gw}
	go srv.Serve(ln)
	defer srv.Close()
	c := &rawClient{t: t, base: "http://" + ln.Addr().String()}
	login := func(tok string) reply {
		return c.post("/session/v1/login-request", map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": tok}})
	}

	// Accepted: a human, and an agent acting for them, from either issuer.
	r := login(mockToken(t, issuer, map[string]string{"sub": "mock-ana", "groups": "analysts", "act": "mock-agent"}))
	if !r.Success {
		t.Fatalf("a valid token from the independent issuer was refused: %s", *r.Message)
	}
	devTok, _ := dev.Token("approver")
	if r := login(devTok); !r.Success {
		t.Fatalf("a valid token from the second issuer was refused: %s", *r.Message)
	}

	kid, pub := mockPublicKey(t, issuer)
	now := time.Now().Unix()
	claims := map[string]any{"iss": issuer, "sub": "mallory", "aud": "snowgate", "iat": now, "exp": now + 600}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	forged, _ := jwt.Signed(signer).Claims(claims).Serialize()
	none := b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(claims) + "."
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	unsigned := b64(map[string]string{"alg": "HS256", "typ": "JWT", "kid": kid}) + "." + b64(claims)
	mac := hmac.New(sha256.New, pubPEM)
	mac.Write([]byte(unsigned))
	hsWithPublicKey := unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	devIssuer, _ := devidp.New("http://127.0.0.1:1", "", 0)
	wrongIssuer, _ := devIssuer.Token("analyst")

	for _, tc := range []struct{ name, token, want string }{
		{"forged", forged, "token signature does not verify"},
		{"expired", mockToken(t, issuer, map[string]string{"exp_in": "-300"}), "token expired"},
		{"not yet valid", mockToken(t, issuer, map[string]string{"nbf_in": "600"}), "token not yet valid"},
		{"wrong audience", mockToken(t, issuer, map[string]string{"aud": "someone-else"}), "token audience not accepted"},
		{"wrong issuer", wrongIssuer, "token issuer not trusted"},
		{"alg none", none, "token signing algorithm not accepted: none"},
		{"HS256 with the public key", hsWithPublicKey, "token signing algorithm not accepted: HS256"},
		{"garbage", "not-a-jwt", "token is not a signed JWT"},
	} {
		r := login(tc.token)
		if r.Success || r.Message == nil || !strings.Contains(*r.Message, tc.want) {
			t.Errorf("%s: success %v message %v, want a refusal saying %q", tc.name, r.Success, deref(r.Message), tc.want)
		}
	}

	var refusals []string
	_ = trail.Store().Chain(ctx, trail.Replica(), func(rec audit.Record) error {
		env, err := rec.Decode()
		if err == nil && env.Event.Type == audit.TypeLoginRefused {
			refusals = append(refusals, env.Event.Reason)
		}
		return nil
	})
	if len(refusals) != 8 {
		t.Errorf("%d refusals in the audit trail, want 8: %q", len(refusals), refusals)
	}

	// A token that expires ends the session's right to run statements.
	if r := login(mockToken(t, issuer, map[string]string{"exp_in": "2"})); !r.Success {
		t.Fatalf("short-lived token refused: %s", deref(r.Message))
	} else {
		var d struct{ Token string }
		_ = json.Unmarshal(r.Data, &d)
		c.token = d.Token
	}
	if r := c.post("/queries/v1/query-request?requestId=a", map[string]any{"sqlText": "SELECT 1"}); !r.Success {
		t.Fatalf("query before expiry: %s", deref(r.Message))
	}
	time.Sleep(3500 * time.Millisecond)
	r = c.post("/queries/v1/query-request?requestId=b", map[string]any{"sqlText": "SELECT 1"})
	if r.Success || !strings.Contains(deref(r.Message), "identity token expired") || !strings.Contains(deref(r.Message), "reconnect") {
		t.Errorf("query after the token expired: success %v, %s", r.Success, deref(r.Message))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
