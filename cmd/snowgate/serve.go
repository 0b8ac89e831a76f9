package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy"
	adminapi "github.com/snowgate/snowgate/proxy/admin"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/classify"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/quota"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/vault"
)

func init() {
	commands["serve"] = command{summary: "run the production gateway from a config file", run: runServe}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve --config FILE", stderr)
	path := fs.String("config", "", "the gateway's YAML config file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--config is required")
	}
	c, err := loadConfig(*path)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(orDefault(c.LogLevel, "info"))); err != nil {
		return fmt.Errorf("config: log_level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	verifier, err := identity.New(c.Issuers, time.Duration(c.ClockSkew))
	if err != nil {
		return err
	}
	// The policy source and the issuers follow the config file on SIGHUP (reload.go).
	policy, err := startPolicy(ctx, c.Policy, log)
	if err != nil {
		return err
	}
	defer policy.Close()
	eng, revision, activated := policy.eng, policy.Revision, policy.Activated
	creds, closeCreds, err := credentialSource(c, log)
	if err != nil {
		return err
	}
	defer closeCreds()
	var signingKey ed25519.PrivateKey
	if f := c.Audit.SigningKeyFile; f != "" {
		if signingKey, err = readEd25519(f); err != nil {
			return fmt.Errorf("audit.signing_key_file: %w", err)
		}
	}
	trail, err := audit.Open(ctx, audit.Config{DSN: c.Audit.DSN, Replica: c.Audit.Replica, SigningKey: signingKey, RedactLiterals: c.Audit.RedactLiterals, Logger: log})
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	defer trail.Close()
	var store approval.Store
	if strings.HasPrefix(c.Approvals.Store, "postgres://") || strings.HasPrefix(c.Approvals.Store, "postgresql://") {
		store, err = approval.OpenPostgres(ctx, c.Approvals.Store)
	} else {
		store, err = approval.OpenSQLite(ctx, c.Approvals.Store)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	approvals := approval.New(approval.Config{Store: store, WebhookURL: c.Approvals.WebhookURL, PageURL: c.Approvals.PageURL, Logger: log,
		OnChange: proxy.ApprovalAuditor(trail)})
	var cstore classify.Store
	if cs := c.Classifications.Store; strings.HasPrefix(cs, "postgres://") || strings.HasPrefix(cs, "postgresql://") {
		cstore, err = classify.OpenPostgres(ctx, cs)
	} else {
		cstore, err = classify.OpenSQLite(ctx, cs)
	}
	if err != nil {
		return err
	}
	defer cstore.Close()
	classifications, err := classify.New(ctx, classify.Config{Store: cstore, Policy: eng, OnChange: proxy.ClassificationAuditor(trail),
		Logger: log, PollInterval: time.Duration(c.Classifications.PollInterval)})
	if err != nil {
		return fmt.Errorf("classifications: %w", err)
	}
	go classifications.Run(ctx)

	qstore, err := quota.Open(ctx, c.Quotas.Store)
	if err != nil {
		return err
	}
	quotas, err := quota.New(ctx, qstore, c.Audit.Replica, 0, log)
	if err != nil {
		qstore.Close()
		return fmt.Errorf("quotas: %w", err)
	}
	defer quotas.Close(context.Background())

	u := c.Upstream
	upstream := &snowflake.Upstream{Account: u.Account, Host: u.Host, Port: u.Port, Protocol: u.Protocol}
	tp, stopTracing, err := tracing(ctx, log)
	if err != nil {
		return err
	}
	defer stopTracing(context.Background()) // after the drain: the last spans are flushed
	gw, err := proxy.New(proxy.Config{
		Tracer: tp, Audit: trail, Quotas: quotas, Approvals: approvals, ApprovalMode: c.Approvals.Mode, ApprovalPage: c.Approvals.PageURL, Classifier: classifications,
		Name: "gateway", Auth: verifier, Decider: eng, Logger: log,
		Upstream:    upstream,
		Credentials: creds,
		Defaults:    proxy.OpenParams{Database: u.Database, Schema: u.Schema, Warehouse: u.Warehouse, Role: u.Role},
		TokenTTL:    time.Duration(c.Session.TokenTTL), IdleTimeout: time.Duration(c.Session.IdleTimeout),
		MaxLife: time.Duration(c.Session.MaxLife), SpoolDir: c.SpoolDir,
		FoldQuotedIdentifiers: u.FoldQuotedIdentifiers,
	})
	if err != nil {
		return err
	}
	defer gw.Close()

	vaultHealth, _ := creds.(adminapi.Pinger) // nil unless the credentials come from Vault
	admin := adminapi.New(adminapi.Config{Approvals: approvals, Classifications: classifications, ForgetGroups: c.Classifications.ForgetGroups,
		Verifier: verifier, Revision: revision, Remembered: eng.Remembered, Stats: gw.Stats, Logger: log,
		PolicyActivated: activated, Audit: trail, Upstream: upstream, Vault: vaultHealth, Quotas: quotas, Draining: gw.Draining})
	stopReload := watchReload(ctx, *path, c, policy, verifier, log)
	defer stopReload()
	return serveAll(ctx, log, []listener{{"gateway", c.Listen, gw}, {"admin", c.AdminListen, admin}}, gw.Drain)
}

// listener is one server of the process.
type listener struct {
	name, addr string
	handler    http.Handler
}

// drainGrace bounds how long a stopping gateway waits for the answers of
// the statements it runs to reach their clients.
const drainGrace = 30 * time.Second

// serveAll serves each handler on its address until ctx ends (SIGTERM,
// SIGINT) or one fails. Then drain, when given, lets the work in flight
// finish (within drainGrace) while every server still answers, before the
// servers shut down; the deferred closes then flush the audit trail and
// sign its checkpoint.
func serveAll(ctx context.Context, log *slog.Logger, ls []listener, drain func(context.Context) error) error {
	errc := make(chan error, len(ls))
	var servers []*http.Server
	defer func() {
		for _, s := range servers {
			_ = s.Close()
		}
	}()
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", l.addr, err)
		}
		srv := &http.Server{Handler: l.handler, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		log.Info("listening", "server", l.name, "addr", ln.Addr().String())
		go func() { errc <- srv.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
		if drain != nil {
			grace, cancel := context.WithTimeout(context.Background(), drainGrace)
			if derr := drain(grace); derr != nil {
				log.Warn("stopping before every answer reached its client", "err", derr)
			}
			cancel()
		}
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readEd25519 reads a PEM-encoded PKCS#8 Ed25519 private key.
func readEd25519(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return key, nil
}

// credentialSource builds the upstream credential source the config names.
func credentialSource(c *config, log *slog.Logger) (proxy.CredentialSource, func(), error) {
	if st := c.Credentials.Static; st != nil {
		password := ""
		if env := st.PasswordEnv; env != "" {
			var ok bool
			if password, ok = os.LookupEnv(env); !ok {
				return nil, nil, fmt.Errorf("credentials.static.password_env: %s is not set", env)
			}
		}
		return vault.Static{User: st.User, Password: password}, func() {}, nil
	}
	v := c.Credentials.Vault
	var auth vault.Auth
	switch v.Auth.Method {
	case "token":
		tok, ok := os.LookupEnv(v.Auth.TokenEnv)
		if !ok {
			return nil, nil, fmt.Errorf("credentials.vault.auth.token_env: %q is not set", v.Auth.TokenEnv)
		}
		auth = vault.Token{Token: tok}
	case "approle":
		auth = vault.AppRole{Mount: v.Auth.Mount, RoleID: v.Auth.RoleID, SecretIDFile: v.Auth.SecretIDFile}
	case "kubernetes":
		auth = vault.Kubernetes{Mount: v.Auth.Mount, Role: v.Auth.Role, TokenPath: v.Auth.TokenPath}
	default:
		return nil, nil, fmt.Errorf("credentials.vault.auth.method %q: want token, approle or kubernetes", v.Auth.Method)
	}
	client, err := vault.NewClient(vault.Config{Address: v.Address, Namespace: v.Namespace, CACertFile: v.CACertFile,
		Auth: auth, RequestTimeout: time.Duration(v.RequestTimeout), Logger: log})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case v.Database != nil:
		d := &vault.Dynamic{Client: client, Mount: v.Database.Mount, Role: v.Database.Role, CheckEvery: time.Duration(v.Database.LeaseCheck), Logger: log}
		return d, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = d.Close(ctx) // revoke what sessions still hold
		}, nil
	case v.KV != nil:
		return &vault.KV{Client: client, Mount: v.KV.Mount, Path: v.KV.Path, Version: v.KV.Version}, func() {}, nil
	}
	return nil, nil, errors.New("credentials.vault: configure database (dynamic credentials) or kv")
}
