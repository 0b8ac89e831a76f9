// Package devidp is the built-in OpenID Provider of `snowgate dev`: discovery,
// a JWKS and RS256 tokens for the demo identities, so that the gateway's
// real OIDC verification runs in development exactly as in production.
// It has no login page: `snowgate token --as NAME` asks it for a token.
package devidp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Audience is the audience of the dev issuer's tokens.
const Audience = "snowgate"

// Issuer signs tokens for the demo users.
type Issuer struct {
	url    string
	key    *rsa.PrivateKey
	kid    string
	signer jose.Signer
	ttl    time.Duration
}

// New returns an issuer whose identifier is url. With dir set, its signing
// key is kept in dir so that tokens survive a restart.
func New(url, dir string, ttl time.Duration) (*Issuer, error) {
	key, err := loadKey(dir)
	if err != nil {
		return nil, err
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	kid := fmt.Sprintf("dev-%x", der[len(der)-8:])
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("dev issuer signer: %w", err)
	}
	if ttl <= 0 {
		ttl = 8 * time.Hour
	}
	return &Issuer{url: url, key: key, kid: kid, signer: signer, ttl: ttl}, nil
}

func loadKey(dir string) (*rsa.PrivateKey, error) {
	path := ""
	if dir != "" {
		path = filepath.Join(dir, "dev-issuer-key.pem")
		if b, err := os.ReadFile(path); err == nil {
			if blk, _ := pem.Decode(b); blk != nil {
				if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
					return k, nil
				}
			}
			return nil, fmt.Errorf("dev issuer key %s is not a PKCS#1 RSA key", path)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("dev issuer key: %w", err)
	}
	if path != "" {
		b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("save dev issuer key: %w", err)
		}
	}
	return key, nil
}

// URL is the issuer identifier.
func (i *Issuer) URL() string { return i.url }

// ErrUnknownUser is returned for a handle that is not a demo user.
var ErrUnknownUser = errors.New("unknown demo user")

// Token signs a token for the demo user with the given handle.
func (i *Issuer) Token(name string) (string, error) {
	u, ok := Users[name]
	if !ok {
		return "", fmt.Errorf("%w %q (have %v)", ErrUnknownUser, name, Names())
	}
	now := time.Now()
	claims := map[string]any{
		"iss": i.url, "sub": u.Subject, "aud": Audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(i.ttl).Unix(),
		"email": u.Email, "email_verified": true, "name": u.FullName, "groups": u.Groups,
		"preferred_username": u.Name,
	}
	for k, v := range u.Claims {
		claims[k] = v
	}
	if u.Agent != "" {
		claims["act"] = map[string]any{"sub": u.Agent}
		claims["azp"] = u.Agent
	}
	return jwt.Signed(i.signer).Claims(claims).Serialize()
}

// Names lists the demo users' handles.
func Names() []string {
	out := make([]string, 0, len(Users))
	for n := range Users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Handler serves discovery, the JWKS and, for `snowgate token`, tokens at
// /dev/token?as=NAME.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": i.url, "jwks_uri": i.url + "/jwks",
			"authorization_endpoint": i.url + "/authorize", "token_endpoint": i.url + "/dev/token",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /dev/token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := i.Token(r.URL.Query().Get("as"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(i.ttl.Seconds())})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
