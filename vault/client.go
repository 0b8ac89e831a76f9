package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/vault/api"
)

// DefaultRequestTimeout bounds one request to Vault when the caller's
// context has no earlier deadline.
const DefaultRequestTimeout = 10 * time.Second

// Config configures a Client. Nothing is read from the environment: the
// VAULT_* variables Vault's own tools honour are ignored.
type Config struct {
	Address   string // required, e.g. https://vault.example.com:8200
	Namespace string // Vault Enterprise namespace; default none
	// CACertFile is a PEM bundle to verify Vault's TLS certificate with;
	// default the system's roots.
	CACertFile string
	Auth       Auth // required: Token, AppRole or Kubernetes
	// RequestTimeout bounds each request; default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxRetries is how often a request failing with a 5xx or a broken
	// connection is retried within its timeout; default 0 (negative: 0).
	MaxRetries int
	Logger     *slog.Logger // default: discard
}

// Client talks to Vault for the credential sources: it logs in lazily,
// renews its token and logs in again when the token runs out or is
// refused. It keeps its token in memory only. Its methods are safe for
// concurrent use.
type Client struct {
	api     *api.Client
	auth    Auth
	log     *slog.Logger
	timeout time.Duration

	relogin   bool // the auth method can log in again
	namespace string
	lock      chan struct{} // held while the token is checked or replaced
	sess      session
	issued    time.Time
	hasSess   bool
}

// NewClient checks cfg and returns a client. It does not contact Vault:
// the first request logs in, so the gateway starts while Vault is down.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Address == "" {
		return nil, fmt.Errorf("%w: Address is empty", ErrConfig)
	}
	if cfg.Auth == nil {
		return nil, fmt.Errorf("%w: Auth: %w", ErrConfig, errNoAuth)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: CACertFile %q: %w", ErrConfig, cfg.CACertFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: CACertFile %q: no PEM certificates", ErrConfig, cfg.CACertFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	ac, err := api.NewClient(&api.Config{
		Address: cfg.Address,
		HttpClient: &http.Client{
			Transport: tr,
			// Vault's client follows redirects itself.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Timeout:    timeout,
		MaxRetries: max(cfg.MaxRetries, 0),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: Address %q: %w", ErrConfig, cfg.Address, err)
	}
	// api.NewClient reads VAULT_TOKEN and VAULT_NAMESPACE; undo that.
	ac.ClearToken()
	ac.ClearNamespace()
	if cfg.Namespace != "" {
		ac.SetNamespace(cfg.Namespace)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		api: ac, auth: cfg.Auth, log: log.With(logAuth, cfg.Auth.method()), timeout: timeout,
		relogin: cfg.Auth.method() != Token{}.method(), namespace: cfg.Namespace, lock: make(chan struct{}, 1),
	}, nil
}

// Login makes sure the client holds a usable token, logging in if needed.
// Requests do this by themselves; call it to check the settings at start.
func (c *Client) Login(ctx context.Context) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	_, err := c.token(ctx, "")
	return err
}

var errNearMaxTTL = errors.New("vault token near its maximum life")

// bound applies the request timeout unless ctx ends earlier.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// token returns a client carrying a usable token: the current one, renewed
// when two thirds of its life are gone, or a new login. refused names a
// token Vault refused: unless another request already replaced it, token
// logs in again.
func (c *Client) token(ctx context.Context, refused string) (*api.Client, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, classify("wait for login", ctx.Err())
	}
	defer func() { <-c.lock }()

	if c.hasSess && refused != "" && c.sess.token != refused {
		return c.api, nil
	}
	if c.hasSess && refused == "" {
		age := time.Since(c.issued)
		if c.sess.ttl == 0 || age < c.sess.ttl*2/3 {
			return c.api, nil
		}
		if c.sess.renewable && age < c.sess.ttl {
			err := c.renewSelf(ctx)
			switch {
			case err == nil:
				return c.api, nil
			case errors.Is(err, errNearMaxTTL):
				c.log.Debug("vault token near its maximum life; logging in again")
			default:
				c.log.Warn("vault token renewal failed; logging in again", logErr, err)
			}
		}
	}
	lc, err := c.api.Clone()
	if err != nil {
		return nil, fmt.Errorf("vault: clone client: %w", err)
	}
	lc.ClearToken()
	if c.namespace != "" {
		lc.SetNamespace(c.namespace)
	}
	s, err := c.auth.login(ctx, lc)
	if err != nil {
		return nil, err
	}
	c.api.SetToken(s.token)
	c.sess, c.issued, c.hasSess = s, time.Now(), true
	if c.relogin {
		c.log.Info("logged in to vault", logTTL, s.ttl.String(), "renewable", s.renewable)
	}
	return c.api, nil
}

func (c *Client) renewSelf(ctx context.Context) error {
	sec, err := c.api.Auth().Token().RenewSelfWithContext(ctx, 0)
	if err != nil {
		return classify("renew token", err)
	}
	if sec == nil || sec.Auth == nil {
		return fmt.Errorf("vault: renew token: %w: no auth in the answer", ErrBadSecret)
	}
	ttl := time.Duration(sec.Auth.LeaseDuration) * time.Second
	if ttl < c.sess.ttl/3 {
		// Near the token's max TTL: log in again rather than renew
		// every few seconds.
		return errNearMaxTTL
	}
	c.sess.ttl, c.sess.renewable, c.issued = ttl, sec.Auth.Renewable, time.Now()
	return nil
}

// do runs one request with a usable token, within the request timeout.
// When Vault refuses the token (it expired or was revoked) and the auth
// method can log in again, it logs in once more and retries.
func (c *Client) do(ctx context.Context, op string, fn func(ctx context.Context, ac *api.Client) (*api.Secret, error)) (*api.Secret, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	ac, err := c.token(ctx, "")
	if err != nil {
		return nil, err
	}
	used := ac.Token()
	sec, err := fn(ctx, ac)
	if err == nil {
		return sec, nil
	}
	err = classify(op, err)
	if !errors.Is(err, ErrDenied) || !c.relogin {
		return nil, err
	}
	if ac, err = c.token(ctx, used); err != nil {
		return nil, err
	}
	sec, err = fn(ctx, ac)
	if err != nil {
		return nil, classify(op, err)
	}
	return sec, nil
}

func (c *Client) read(ctx context.Context, path string) (*api.Secret, error) {
	return c.do(ctx, "read "+path, func(ctx context.Context, ac *api.Client) (*api.Secret, error) {
		return ac.Logical().ReadWithContext(ctx, path)
	})
}

func (c *Client) renewLease(ctx context.Context, id string, increment time.Duration) (*api.Secret, error) {
	return c.do(ctx, "renew lease", func(ctx context.Context, ac *api.Client) (*api.Secret, error) {
		return ac.Sys().RenewWithContext(ctx, id, int(increment.Seconds()))
	})
}

func (c *Client) lookupLease(ctx context.Context, id string) (*api.Secret, error) {
	return c.do(ctx, "look up lease", func(ctx context.Context, ac *api.Client) (*api.Secret, error) {
		return ac.Sys().LookupWithContext(ctx, id)
	})
}

func (c *Client) revokeLease(ctx context.Context, id string) error {
	_, err := c.do(ctx, "revoke lease", func(ctx context.Context, ac *api.Client) (*api.Secret, error) {
		return nil, ac.Sys().RevokeWithContext(ctx, id)
	})
	return err
}
