package bundles

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Config is the bundle section of the gateway's config file (YAML), e.g.
//
//	policy:
//	  bundle:
//	    oci: registry.example.com/snowgate/policy:prod
//	    username: snowgate
//	    password_env: SNOWGATE_REGISTRY_PASSWORD
//	    keys:
//	      - {id: policy-2026, file: /etc/snowgate/policy-2026.pem}
//	    persist_dir: /var/lib/snowgate/bundles
//	    interval: 10s
//
// Exactly one of OCI and URL is required, and at least one key unless
// AllowUnsigned.
type Config struct {
	// OCI is the bundle's OCI reference: host[:port]/repository:tag, or
	// @sha256:… to pin a manifest.
	OCI string `yaml:"oci"`
	// URL is an HTTP bundle server's bundle URL (instead of OCI).
	URL string `yaml:"url"`
	// Username and the password in the environment variable PasswordEnv
	// are the registry's Basic credentials (OCI), or the server's (URL).
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"`
	// BearerTokenEnv names an environment variable holding a bearer
	// token for an HTTP bundle server.
	BearerTokenEnv string `yaml:"bearer_token_env"`
	// PlainHTTP talks to the registry over http://. Default false; loopback
	// registries always use plain HTTP.
	PlainHTTP bool `yaml:"plain_http"`
	// Keys are the trusted public keys; a bundle must be signed by one.
	Keys []KeyConfig `yaml:"keys"`
	// AllowUnsigned activates unsigned bundles when Keys is empty. For
	// development only; default false.
	AllowUnsigned bool `yaml:"allow_unsigned"`
	// PersistDir keeps the last trusted bundles for restarts while the
	// source is down. Default "": nothing survives a restart.
	PersistDir string `yaml:"persist_dir"`
	// Interval between polls. Default DefaultInterval (10s).
	Interval time.Duration `yaml:"interval"`
	// Pin holds the policy at a revision or tarball digest.
	Pin string `yaml:"pin"`
	// History is how many trusted bundles are kept. Default DefaultHistory.
	History int `yaml:"history"`
	// LongPollTimeout enables OPA-style long polling against an HTTP
	// bundle server that supports it. Default 0: off.
	LongPollTimeout time.Duration `yaml:"long_poll_timeout"`
	// OnActivate is called after each activation (not from YAML), e.g. to
	// write an audit event; see PollerOptions.OnActivate.
	OnActivate func(Status) `yaml:"-"`
}

// KeyConfig is one trusted public key: a PEM file or inline PEM.
type KeyConfig struct {
	ID        string `yaml:"id"`        // the key id bundles are signed with; default "default"
	File      string `yaml:"file"`      // PEM public key file
	PEM       string `yaml:"pem"`       // or the PEM itself
	Algorithm string `yaml:"algorithm"` // default: from the key (RS256, ES256, …)
	Scope     string `yaml:"scope"`     // required scope claim; default none
}

// ConfigError names the config field that is wrong.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "bundle config: " + e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// New builds the Poller described by cfg for eng. Call Run in a goroutine
// of its own; until it activates a bundle, eng keeps whatever policy it was
// created with (give it NoPolicy so that nothing runs). To serve the
// persisted bundle from the first request on, call Restore before Run.
func New(cfg Config, eng Activator, log *slog.Logger) (*Poller, error) {
	src, err := cfg.source()
	if err != nil {
		return nil, err
	}
	opts := PollerOptions{
		Source: src, Engine: eng, AllowUnsigned: cfg.AllowUnsigned, Dir: cfg.PersistDir,
		History: cfg.History, Interval: cfg.Interval, Pin: cfg.Pin, Logger: log, OnActivate: cfg.OnActivate,
	}
	if len(cfg.Keys) > 0 {
		keys := make([]PublicKey, 0, len(cfg.Keys))
		for i, k := range cfg.Keys {
			pk, err := k.publicKey()
			if err != nil {
				return nil, &ConfigError{Field: fmt.Sprintf("keys[%d]", i), Err: err}
			}
			keys = append(keys, pk)
		}
		if opts.Verifier, err = NewVerifier(keys...); err != nil {
			return nil, &ConfigError{Field: "keys", Err: err}
		}
	} else if !cfg.AllowUnsigned {
		return nil, &ConfigError{Field: "keys", Err: ErrNoKeys}
	}
	return NewPoller(opts)
}

func (cfg Config) source() (Source, error) {
	password := ""
	if cfg.PasswordEnv != "" {
		var ok bool
		if password, ok = os.LookupEnv(cfg.PasswordEnv); !ok {
			return nil, &ConfigError{Field: "password_env", Err: fmt.Errorf("%s is not set", cfg.PasswordEnv)}
		}
	}
	switch {
	case cfg.OCI != "" && cfg.URL != "":
		return nil, &ConfigError{Field: "oci", Err: errors.New("set oci or url, not both")}
	case cfg.OCI != "":
		return &OCI{Reference: cfg.OCI, Username: cfg.Username, Password: password, PlainHTTP: cfg.PlainHTTP}, nil
	case cfg.URL != "":
		h := &HTTP{URL: cfg.URL, Header: http.Header{}, LongPollTimeout: cfg.LongPollTimeout}
		if cfg.Username != "" {
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			req.SetBasicAuth(cfg.Username, password)
			h.Header.Set("Authorization", req.Header.Get("Authorization"))
		}
		if cfg.BearerTokenEnv != "" {
			tok, ok := os.LookupEnv(cfg.BearerTokenEnv)
			if !ok {
				return nil, &ConfigError{Field: "bearer_token_env", Err: fmt.Errorf("%s is not set", cfg.BearerTokenEnv)}
			}
			h.Header.Set("Authorization", "Bearer "+tok)
		}
		return h, nil
	}
	return nil, &ConfigError{Field: "oci", Err: errors.New("set oci (a registry reference) or url (a bundle server)")}
}

func (k KeyConfig) publicKey() (PublicKey, error) {
	switch {
	case k.File != "" && k.PEM != "":
		return PublicKey{}, errors.New("set file or pem, not both")
	case k.File != "":
		return ReadPublicKey(k.File, k.ID, k.Algorithm, k.Scope)
	case k.PEM != "":
		pk := PublicKey{ID: k.ID, PEM: k.PEM, Algorithm: k.Algorithm, Scope: k.Scope}
		return pk, pk.validate()
	}
	return PublicKey{}, errors.New("set file or pem")
}
