// Package devstack wires the whole of `snowgate dev` in one process: the
// DuckDB stand-in (also served on its own port with password and key-pair
// logins, for Vault and chained gateways), the dev OIDC issuer, the policy
// engine with the default library, and the gateway. Tests start the same
// stack on ephemeral ports.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	adminapi "github.com/snowgate/snowgate/proxy/admin"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/classify"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/quota"
	"github.com/snowgate/snowgate/proxy/standin"
)

// Options configure a Stack. Empty addresses pick free loopback ports.
type Options struct {
	Addr            string // gateway
	AdminAddr       string // dev issuer and admin API
	StandinAddr     string // the stand-in's own protocol server
	DataDir         string // empty: everything in memory
	StandinPassword string // password of the stand-in's ADMIN user
	PolicyDir       string // empty: the embedded default library
	ApprovalMode    string // hold (default) or ticket
	WebhookURL      string // Slack-compatible webhook told about new approval requests
	Gateway         proxy.Config
	// NoAudit runs the gateway without an audit trail, for benchmarks that
	// separate the trail's cost from the rest of the gateway's.
	NoAudit bool
	// WrapDecider, when set, wraps the engine as the gateway's decider
	// (tests record decisions with it).
	WrapDecider func(*engine.Engine) proxy.Decider
	Logger      *slog.Logger
}

// Stack is a running dev stack.
type Stack struct {
	GatewayAddr, AdminAddr, StandinAddr string
	Issuer                              *devidp.Issuer
	Standin                             *standin.Standin
	Engine                              *engine.Engine
	Gateway                             *proxy.Server
	Approvals                           *approval.Service
	Audit                               *audit.Log
	Classifications                     *classify.Service
	Quotas                              *quota.Counter

	servers []*http.Server
	closers []func() error
	errc    chan error
}

// Start starts the stack; Close stops it.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StandinPassword == "" {
		o.StandinPassword = "snowgate-dev"
	}
	st = &Stack{errc: make(chan error, 3)}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	listen := func(addr string) (net.Listener, error) {
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		return net.Listen("tcp", addr)
	}
	gwLn, err := listen(o.Addr)
	if err != nil {
		return st, fmt.Errorf("gateway address: %w", err)
	}
	adminLn, err := listen(o.AdminAddr)
	if err != nil {
		gwLn.Close()
		return st, fmt.Errorf("admin address: %w", err)
	}
	standinLn, err := listen(o.StandinAddr)
	if err != nil {
		gwLn.Close()
		adminLn.Close()
		return st, fmt.Errorf("stand-in address: %w", err)
	}
	lns := []net.Listener{gwLn, adminLn, standinLn}
	st.GatewayAddr, st.AdminAddr, st.StandinAddr = gwLn.Addr().String(), adminLn.Addr().String(), standinLn.Addr().String()
	st.closers = append(st.closers, func() error {
		for _, ln := range lns {
			ln.Close()
		}
		return nil
	})

	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return st, fmt.Errorf("data dir: %w", err)
		}
	}
	if st.Standin, err = standin.Open(ctx, o.DataDir, o.Logger); err != nil {
		return st, err
	}
	st.closers = append(st.closers, st.Standin.Close)
	if err := st.Standin.EnsureAdmin(ctx, "ADMIN", o.StandinPassword); err != nil {
		return st, err
	}
	issuerURL := "http://" + st.AdminAddr
	if st.Issuer, err = devidp.New(issuerURL, o.DataDir, 0); err != nil {
		return st, err
	}
	verifier, err := identity.New([]identity.Issuer{{URL: issuerURL, Audience: devidp.Audience}}, 0)
	if err != nil {
		return st, err
	}
	if st.Engine, err = engine.New(ctx, engine.Options{Dir: o.PolicyDir, Logger: o.Logger}); err != nil {
		return st, fmt.Errorf("policy: %w", err)
	}
	activated := time.Now() // the policy is never replaced in dev

	auditDir := o.DataDir
	if auditDir == "" {
		if auditDir, err = os.MkdirTemp("", "snowgate-dev-audit"); err != nil {
			return st, err
		}
		st.closers = append(st.closers, func() error { return os.RemoveAll(auditDir) })
	}
	if st.Audit, err = audit.Open(ctx, audit.Config{DSN: filepath.Join(auditDir, "audit.db"), Replica: "dev", Logger: o.Logger}); err != nil {
		return st, fmt.Errorf("audit trail: %w", err)
	}
	st.closers = append(st.closers, st.Audit.Close)

	var store approval.Store = approval.NewMemory()
	if o.DataDir != "" {
		sq, err := approval.OpenSQLite(ctx, filepath.Join(o.DataDir, "approvals.db"))
		if err != nil {
			return st, err
		}
		store = sq
	}
	st.closers = append(st.closers, store.Close)
	st.Approvals = approval.New(approval.Config{Store: store, WebhookURL: o.WebhookURL, PageURL: "http://" + st.AdminAddr + "/", Logger: o.Logger,
		OnChange: proxy.ApprovalAuditor(st.Audit)})

	// What copies of classified columns inherit, kept with the rest.
	var cstore classify.Store = classify.NewMemory()
	if o.DataDir != "" {
		if cstore, err = classify.OpenSQLite(ctx, filepath.Join(o.DataDir, "classifications.db")); err != nil {
			return st, err
		}
	}
	st.closers = append(st.closers, cstore.Close)
	if st.Classifications, err = classify.New(ctx, classify.Config{Store: cstore, Policy: st.Engine,
		OnChange: proxy.ClassificationAuditor(st.Audit), Logger: o.Logger}); err != nil {
		return st, fmt.Errorf("classifications: %w", err)
	}

	// Quota counters, in the data directory or in memory.
	qpath := ":memory:"
	if o.DataDir != "" {
		qpath = filepath.Join(o.DataDir, "quotas.db")
	}
	qstore, err := quota.Open(ctx, qpath)
	if err != nil {
		return st, err
	}
	if st.Quotas, err = quota.New(ctx, qstore, "dev", 0, o.Logger); err != nil {
		qstore.Close()
		return st, err
	}
	st.closers = append(st.closers, func() error { return st.Quotas.Close(context.Background()) })

	gcfg := o.Gateway
	gcfg.Name, gcfg.Auth, gcfg.Upstream, gcfg.Decider, gcfg.Logger = "gateway", verifier, st.Standin, st.Engine, o.Logger
	// DuckDB ignores the case of quoted names too: "demo" is DEMO there.
	gcfg.FoldQuotedIdentifiers = true
	if o.WrapDecider != nil {
		gcfg.Decider = o.WrapDecider(st.Engine)
	}
	if gcfg.Defaults == (proxy.OpenParams{}) {
		gcfg.Defaults = proxy.OpenParams{Database: standin.Database, Schema: standin.Schema}
	}
	if !o.NoAudit {
		gcfg.Audit = st.Audit
	}
	if gcfg.Quotas == nil {
		gcfg.Quotas = st.Quotas
	}
	gcfg.Approvals, gcfg.ApprovalMode, gcfg.ApprovalPage = st.Approvals, o.ApprovalMode, "http://"+st.AdminAddr+"/"
	if gcfg.Classifier == nil {
		gcfg.Classifier = st.Classifications
	}
	if st.Gateway, err = proxy.New(gcfg); err != nil {
		return st, err
	}
	st.closers = append(st.closers, st.Gateway.Close)
	sn, err := proxy.New(proxy.Config{Name: "standin", Auth: st.Standin, Upstream: st.Standin, Unguarded: true, Logger: o.Logger, PingPong: gcfg.PingPong, FoldQuotedIdentifiers: true})
	if err != nil {
		return st, err
	}
	st.closers = append(st.closers, sn.Close)

	admin := http.NewServeMux()
	issuer := st.Issuer.Handler()
	admin.Handle("/.well-known/", issuer)
	admin.Handle("/jwks", issuer)
	admin.Handle("/dev/", issuer)
	admin.Handle("/", adminapi.New(adminapi.Config{Approvals: st.Approvals, Classifications: st.Classifications, Verifier: verifier, Revision: st.Engine.Revision, Remembered: st.Engine.Remembered, Stats: st.Gateway.Stats, Logger: o.Logger, DevLogin: true,
		PolicyActivated: func() time.Time { return activated }, Audit: st.Audit, Upstream: st.Standin, Quotas: st.Quotas, Draining: st.Gateway.Draining}))

	for i, h := range []http.Handler{st.Gateway, admin, sn} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		st.servers = append(st.servers, srv)
		go func() { st.errc <- srv.Serve(lns[i]) }()
	}
	return st, nil
}

// StartGateway starts another gateway, of cfg (its upstream and what else
// it sets), whose clients log in with tokens from the stack's dev issuer
// and whose policy is in policyDir ("" for the default library), on a free
// port of its own: a gateway in front of the stand-in reached over the
// Snowflake protocol, as a Snowflake account is, or of another upstream.
// It returns the gateway's address and how to stop it.
func (st *Stack) StartGateway(ctx context.Context, policyDir string, cfg proxy.Config) (addr string, stop func(), err error) {
	if cfg.Auth, err = identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0); err != nil {
		return "", nil, err
	}
	if cfg.Decider, err = engine.New(ctx, engine.Options{Dir: policyDir}); err != nil {
		return "", nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	gw, err := proxy.New(cfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gw.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close(); gw.Close() }, nil
}

// Wait blocks until ctx ends or a server fails.
func (st *Stack) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-st.errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Close stops the servers and releases everything, in reverse order.
func (st *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range st.servers {
		_ = s.Shutdown(ctx)
	}
	for i := len(st.closers) - 1; i >= 0; i-- {
		_ = st.closers[i]()
	}
}
