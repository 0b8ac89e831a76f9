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
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/identity"
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
	eng, err := engine.New(ctx, engine.Options{Dir: c.Policy.Dir, Logger: log})
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	password := ""
	if env := c.Credentials.Static.PasswordEnv; env != "" {
		var ok bool
		if password, ok = os.LookupEnv(env); !ok {
			return fmt.Errorf("credentials.static.password_env: %s is not set", env)
		}
	}
	u := c.Upstream
	gw, err := proxy.New(proxy.Config{
		Name: "gateway", Auth: verifier, Decider: eng, Logger: log,
		Upstream:    &snowflake.Upstream{Account: u.Account, Host: u.Host, Port: u.Port, Protocol: u.Protocol},
		Credentials: vault.Static{User: c.Credentials.Static.User, Password: password},
		Defaults:    proxy.OpenParams{Database: u.Database, Schema: u.Schema, Warehouse: u.Warehouse, Role: u.Role},
		TokenTTL:    time.Duration(c.Session.TokenTTL), IdleTimeout: time.Duration(c.Session.IdleTimeout),
		MaxLife: time.Duration(c.Session.MaxLife), SpoolDir: c.SpoolDir,
	})
	if err != nil {
		return err
	}
	defer gw.Close()

	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	admin.HandleFunc("GET /v1/policy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"revision\":%q}\n", eng.Revision())
	})
	return serveAll(ctx, log, map[string]http.Handler{c.Listen: gw, c.AdminListen: admin})
}

// serveAll serves each handler on its address until ctx ends or one fails.
func serveAll(ctx context.Context, log *slog.Logger, handlers map[string]http.Handler) error {
	errc := make(chan error, len(handlers))
	var servers []*http.Server
	for addr, h := range handlers {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		log.Info("listening", "addr", ln.Addr().String())
		go func() { errc <- srv.Serve(ln) }()
	}
	var err error
	select {
	case <-ctx.Done():
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
