package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/mcp"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
)

func init() {
	commands["mcp"] = command{
		summary: "serve MCP tools that run SQL through the gateway as the caller (stdio, or streamable HTTP)",
		run:     runMCP,
	}
}

// defaultMCPAddr is where `snowgate dev` serves MCP over HTTP.
const defaultMCPAddr = "127.0.0.1:8768"

func runMCP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mcp", "mcp [--gateway URL] [--admin URL] [--http ADDR [--public-url URL] [--config FILE | --issuer URL --audience AUD]]", stderr)
	var cfg mcp.Config
	fs.StringVar(&cfg.Gateway, "gateway", "http://"+defaultAddr, "the gateway's URL")
	fs.StringVar(&cfg.Admin, "admin", "http://"+defaultAdminAddr, "the admin API's URL (approvals), for wait_for_approval")
	fs.StringVar(&cfg.Database, "database", "", "database named at login (default: the gateway's)")
	fs.StringVar(&cfg.Schema, "schema", "", "schema named at login (default: the gateway's)")
	fs.IntVar(&cfg.MaxRows, "max-rows", mcp.DefaultMaxRows, "the most rows a statement returns to the host")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", mcp.DefaultIdleTimeout, "close a caller's gateway session unused this long")
	tokenEnv := fs.String("token-env", "SNOWGATE_TOKEN", "stdio: the environment variable holding the caller's OIDC token")
	addr := fs.String("http", "", "serve streamable HTTP on this address instead of stdio; each request carries Authorization: Bearer <OIDC token>")
	publicURL := fs.String("public-url", "", "HTTP: where hosts reach this server (default http://ADDR)")
	configPath := fs.String("config", "", "HTTP: the gateway's config file (snowgate serve --config): its issuers verify tokens")
	issuer := fs.String("issuer", "http://"+defaultAdminAddr, "HTTP: the trusted OIDC issuer, without --config (default: snowgate dev's)")
	audience := fs.String("audience", devidp.Audience, "HTTP: the audience tokens must carry, without --config")
	verbose := fs.Bool("v", false, "log every tool call's gateway session")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	} else {
		_ = sf.GetLogger().SetLogLevel("fatal") // failures reach the host as tool errors
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Version = buildVersion()
	noPlatformProbes()
	srv, err := mcp.New(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	if *addr == "" {
		token := strings.TrimSpace(os.Getenv(*tokenEnv))
		if token == "" {
			return fmt.Errorf("%s is not set: stdio needs the caller's OIDC token there (e.g. %s=$(snowgate token --as agent))", *tokenEnv, *tokenEnv)
		}
		return srv.RunStdio(ctx, token)
	}

	issuers := []identity.Issuer{{URL: *issuer, Audience: *audience}}
	var skew time.Duration
	if *configPath != "" {
		c, err := loadConfig(*configPath)
		if err != nil {
			return err
		}
		issuers, skew = c.Issuers, time.Duration(c.ClockSkew)
	}
	verifier, err := identity.New(issuers, skew)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	h, err := srv.Handler(mcp.HTTPConfig{Verifier: verifier, Issuers: issuerURLs(issuers), PublicURL: orDefault(*publicURL, "http://"+ln.Addr().String())})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "snowgate mcp: streamable HTTP at http://%s%s for the gateway at %s\n", ln.Addr(), mcp.EndpointPath, cfg.Gateway)
	return serveListener(ctx, ln, h)
}

// serveListener serves h on ln until ctx ends.
func serveListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveDevMCP serves the front door over streamable HTTP on addr for
// `snowgate dev`, with the dev issuer's tokens, and returns its URL. An
// empty addr is defaultMCPAddr when it is free, and no front door (with a
// warning) when it is not.
func serveDevMCP(ctx context.Context, st *devstack.Stack, addr string, log *slog.Logger) (string, func(), error) {
	_ = sf.GetLogger().SetLogLevel("fatal") // failures reach the host as tool errors
	noPlatformProbes()
	issuer := "http://" + st.AdminAddr
	verifier, err := identity.New([]identity.Issuer{{URL: issuer, Audience: devidp.Audience}}, 0)
	if err != nil {
		return "", nil, err
	}
	srv, err := mcp.New(mcp.Config{Gateway: "http://" + st.GatewayAddr, Admin: issuer, Version: buildVersion(), Logger: log})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", orDefault(addr, defaultMCPAddr))
	if err != nil && addr == "" {
		srv.Close()
		log.Info("no MCP front door: its default address is taken; choose one with --mcp-addr", "err", err)
		return "off (" + defaultMCPAddr + " is taken)", func() {}, nil
	}
	if err != nil {
		srv.Close()
		return "", nil, fmt.Errorf("MCP address: %w", err)
	}
	base := "http://" + ln.Addr().String()
	h, err := srv.Handler(mcp.HTTPConfig{Verifier: verifier, Issuers: []string{issuer}, PublicURL: base})
	if err != nil {
		ln.Close()
		srv.Close()
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serveListener(ctx, ln, h); err != nil {
			log.Error("MCP front door stopped", "err", err)
		}
	}()
	return base + mcp.EndpointPath, func() { cancel(); <-done; srv.Close() }, nil
}

// noPlatformProbes keeps gosnowflake from probing cloud metadata services
// at its first login: the gateway is no cloud account.
func noPlatformProbes() {
	if _, set := os.LookupEnv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION"); !set {
		os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	}
}

func issuerURLs(is []identity.Issuer) []string {
	out := make([]string, len(is))
	for i, x := range is {
		out[i] = x.URL
	}
	return out
}

// buildVersion is the module version the binary was built from, "dev"
// for a local build.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
