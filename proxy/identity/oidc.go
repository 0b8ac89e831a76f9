// Package identity verifies the OIDC tokens clients log in with (go-oidc:
// discovery, JWKS with key rotation, audience, expiry) and turns their
// claims into the identity the policy sees: the human, and the agent acting
// for them.
package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
)

// DefaultClockSkew is the leeway on exp and nbf.
const DefaultClockSkew = 30 * time.Second

// Issuer configures one trusted OIDC issuer.
type Issuer struct {
	URL         string   `json:"url" yaml:"url"`                   // the issuer identifier (the tokens' iss); discovery at URL/.well-known/openid-configuration
	Audience    string   `json:"audience" yaml:"audience"`         // the aud a token must carry
	Algorithms  []string `json:"algorithms" yaml:"algorithms"`     // accepted signing algorithms; default RS256, ES256, PS256
	GroupsClaim string   `json:"groups_claim" yaml:"groups_claim"` // the claim listing the user's groups; default "groups"
	EmailClaim  string   `json:"email_claim" yaml:"email_claim"`   // the claim holding the user's email address; default "email"
	NameClaim   string   `json:"name_claim" yaml:"name_claim"`     // the claim holding the user's display name; default "name"
	// AgentClaim names a claim that carries the agent's id, for issuers
	// that do not use RFC 8693's act claim. "azp" uses the OAuth client.
	AgentClaim string `json:"agent_claim" yaml:"agent_claim"`
}

// Verifier checks tokens from a set of issuers. It implements
// proxy.Authenticator for the OAUTH login method.
type Verifier struct {
	now func() time.Time
	mu  sync.Mutex // serialises discovery
	set atomic.Pointer[issuerSet]
}

// issuerSet is the trusted issuers and the clock skew, swapped whole by
// Replace.
type issuerSet struct {
	skew    time.Duration
	issuers map[string]*issuer
}

type issuer struct {
	cfg      Issuer
	algs     []jose.SignatureAlgorithm
	verifier *oidc.IDTokenVerifier // nil until discovery succeeds
}

// New returns a verifier for the issuers. Discovery happens on first use
// and is retried until it succeeds, so an issuer that is down at start
// does not stop the gateway.
func New(issuers []Issuer, skew time.Duration) (*Verifier, error) {
	set, err := newIssuerSet(issuers, skew, nil)
	if err != nil {
		return nil, err
	}
	v := &Verifier{now: time.Now}
	v.set.Store(set)
	return v, nil
}

// Replace makes issuers (and skew) the trusted set, e.g. on a config
// reload, between two verifications. An issuer whose settings are
// unchanged keeps its discovered keys. On error nothing changes.
func (v *Verifier) Replace(issuers []Issuer, skew time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	set, err := newIssuerSet(issuers, skew, v.set.Load())
	if err != nil {
		return err
	}
	v.set.Store(set)
	return nil
}

// newIssuerSet checks the issuers' settings; issuers configured exactly as
// in old are carried over.
func newIssuerSet(issuers []Issuer, skew time.Duration, old *issuerSet) (*issuerSet, error) {
	if len(issuers) == 0 {
		return nil, errors.New("identity: no issuers configured")
	}
	if skew <= 0 {
		skew = DefaultClockSkew
	}
	set := &issuerSet{skew: skew, issuers: map[string]*issuer{}}
	for _, c := range issuers {
		if c.URL == "" || c.Audience == "" {
			return nil, fmt.Errorf("identity: issuer %q needs url and audience", c.URL)
		}
		if _, dup := set.issuers[c.URL]; dup {
			return nil, fmt.Errorf("identity: issuer %q configured twice", c.URL)
		}
		if len(c.Algorithms) == 0 {
			c.Algorithms = []string{"RS256", "ES256", "PS256"}
		}
		if old != nil {
			if is, ok := old.issuers[c.URL]; ok && reflect.DeepEqual(is.cfg, c) {
				set.issuers[c.URL] = is
				continue
			}
		}
		is := &issuer{cfg: c}
		for _, a := range c.Algorithms {
			alg := jose.SignatureAlgorithm(a)
			if strings.HasPrefix(a, "HS") || a == "none" {
				return nil, fmt.Errorf("identity: issuer %q: %s is not an acceptable algorithm for public-key verification", c.URL, a)
			}
			is.algs = append(is.algs, alg)
		}
		set.issuers[c.URL] = is
	}
	return set, nil
}

func (v *Verifier) verifierFor(ctx context.Context, is *issuer) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if is.verifier != nil {
		return is.verifier, nil
	}
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, is.cfg.URL), is.cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("discover issuer %s: %w", is.cfg.URL, err)
	}
	algs := make([]string, len(is.algs))
	for i, a := range is.algs {
		algs[i] = string(a)
	}
	is.verifier = p.Verifier(&oidc.Config{SupportedSigningAlgs: algs, SkipClientIDCheck: true, SkipIssuerCheck: true, SkipExpiryCheck: true})
	return is.verifier, nil
}

// The reasons a token is refused; each is a distinct, stable error.
var (
	ErrMalformed    = errors.New("token is not a signed JWT")
	ErrAlgorithm    = errors.New("token signing algorithm not accepted")
	ErrIssuer       = errors.New("token issuer not trusted")
	ErrSignature    = errors.New("token signature does not verify")
	ErrAudience     = errors.New("token audience not accepted")
	ErrExpired      = errors.New("token expired")
	ErrNotYetValid  = errors.New("token not yet valid")
	ErrNoSubject    = errors.New("token has no subject")
	ErrIssuerDown   = errors.New("token issuer unreachable")
	ErrMissingToken = errors.New("no token")
)

// Authenticate implements proxy.Authenticator.
func (v *Verifier) Authenticate(ctx context.Context, c proxy.LoginCredentials) (*proxy.Principal, error) {
	if c.Method != "OAUTH" {
		return nil, fmt.Errorf("%w: snowgate accepts OAUTH logins with an OIDC token (authenticator=oauth, token=...), not %s", proxy.ErrUnsupportedMethod, c.Method)
	}
	id, exp, err := v.Verify(ctx, c.Token)
	if err != nil {
		return nil, refusal(err)
	}
	return &proxy.Principal{Identity: id, Expires: exp}, nil
}

func refusal(err error) error {
	code := proxy.CodeOAuthInvalid
	switch {
	case errors.Is(err, ErrExpired):
		code = proxy.CodeOAuthExpired
	case errors.Is(err, ErrIssuerDown):
		return &proxy.Error{Code: proxy.CodeLoginRefused, SQLState: "08004", Message: "login refused: the token's issuer could not be reached; try again later", Err: err}
	}
	return &proxy.Error{Code: code, SQLState: "28000", Message: "login refused: " + err.Error(), Err: err}
}

// Verify checks a raw token and returns the identity it carries and when
// it expires.
func (v *Verifier) Verify(ctx context.Context, raw string) (engine.Identity, time.Time, error) {
	if raw == "" {
		return engine.Identity{}, time.Time{}, ErrMissingToken
	}
	if alg := headerAlg(raw); alg != "unknown" && !slices.Contains(knownAlgorithms, jose.SignatureAlgorithm(alg)) {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %s", ErrAlgorithm, alg)
	}
	jws, err := jose.ParseSigned(raw, knownAlgorithms)
	if err != nil {
		return engine.Identity{}, time.Time{}, ErrMalformed
	}
	if len(jws.Signatures) != 1 {
		return engine.Identity{}, time.Time{}, ErrMalformed
	}
	var unverified struct {
		Iss string `json:"iss" yaml:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return engine.Identity{}, time.Time{}, ErrMalformed
	}
	set := v.set.Load()
	is, ok := set.issuers[unverified.Iss]
	if !ok {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %q", ErrIssuer, unverified.Iss)
	}
	alg := jose.SignatureAlgorithm(jws.Signatures[0].Header.Algorithm)
	if !slices.Contains(is.algs, alg) {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %s", ErrAlgorithm, alg)
	}
	verifier, err := v.verifierFor(ctx, is)
	if err != nil {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %v", ErrIssuerDown, err)
	}
	// go-oidc checks the signature (it skips issuer, audience and expiry,
	// which are checked below on the verified claims, each with its own
	// error). It formats its key-fetch failures with %v, so they are told
	// apart by their text.
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "fetching keys") || strings.Contains(msg, "get keys") {
			return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %v", ErrIssuerDown, err)
		}
		return engine.Identity{}, time.Time{}, ErrSignature
	}
	if tok.Issuer != is.cfg.URL {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: %q", ErrIssuer, tok.Issuer)
	}
	if !slices.Contains(tok.Audience, is.cfg.Audience) {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w: want %q", ErrAudience, is.cfg.Audience)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return engine.Identity{}, time.Time{}, ErrMalformed
	}
	now := v.now()
	if tok.Expiry.IsZero() || now.Add(-set.skew).After(tok.Expiry) {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w at %s", ErrExpired, tok.Expiry.UTC().Format(time.RFC3339))
	}
	if nbf, ok := claims["nbf"].(float64); ok && now.Add(set.skew).Before(time.Unix(int64(nbf), 0)) {
		return engine.Identity{}, time.Time{}, fmt.Errorf("%w until %s", ErrNotYetValid, time.Unix(int64(nbf), 0).UTC().Format(time.RFC3339))
	}
	if tok.Subject == "" {
		return engine.Identity{}, time.Time{}, ErrNoSubject
	}
	return identityOf(is.cfg, tok.Issuer, tok.Subject, claims), tok.Expiry.Add(set.skew), nil
}

// knownAlgorithms are the algorithms the parser recognises; which of them
// an issuer accepts is checked afterwards, so that the refusal can say why.
var knownAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512,
}

// headerAlg reads the alg of an unparseable token's header, for the message.
func headerAlg(raw string) string {
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "unknown"
	}
	var hdr struct {
		Alg string `json:"alg" yaml:"alg"`
	}
	if json.Unmarshal(b, &hdr) != nil || hdr.Alg == "" {
		return "unknown"
	}
	return hdr.Alg
}

// identityOf maps verified claims to the policy's identity.
func identityOf(cfg Issuer, iss, sub string, claims map[string]any) engine.Identity {
	str := func(name, def string) string {
		if name == "" {
			name = def
		}
		s, _ := claims[name].(string)
		return s
	}
	id := engine.Identity{
		Subject: sub, Issuer: iss, Claims: claims,
		Email: str(cfg.EmailClaim, "email"), Name: str(cfg.NameClaim, "name"),
		Groups: stringList(claims[pick(cfg.GroupsClaim, "groups")]),
	}
	if act, ok := claims["act"].(map[string]any); ok {
		if s, _ := act["sub"].(string); s != "" {
			id.Agent = &engine.Agent{ID: s, Source: engine.AgentSourceAct}
		}
	}
	if id.Agent == nil && cfg.AgentClaim != "" {
		if s, _ := claims[cfg.AgentClaim].(string); s != "" {
			src := engine.AgentSourceClaim
			if cfg.AgentClaim == "azp" || cfg.AgentClaim == "client_id" {
				src = engine.AgentSourceAzp
			}
			id.Agent = &engine.Agent{ID: s, Source: src}
		}
	}
	return id
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return strings.Fields(strings.ReplaceAll(x, ",", " "))
	}
	return []string{}
}
