package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

func init() {
	commands["config"] = command{summary: "check a gateway config file (validate)", run: runConfig}
}

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "validate" {
		fmt.Fprintln(stderr, "usage: snowgate config validate --config FILE [--output json]\n\nThe keys are described in docs/config.md.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errors.New("config: want the validate subcommand")
	}
	fs := newFlags("config validate", "config validate --config FILE [--output json]", stderr)
	path := fs.String("config", "", "the gateway's YAML config file")
	output := fs.String("output", "text", "text or json")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--config is required")
	}
	l, err := checkConfig(*path, lookupEnv)
	var ce *configError
	switch {
	case errors.As(err, &ce):
	case err != nil:
		return &exitError{code: 2, err: err}
	}
	if *output == "json" {
		report := struct {
			File     string    `json:"file"`
			Valid    bool      `json:"valid"`
			Problems []problem `json:"problems"`
			Env      []string  `json:"environment,omitempty"`
		}{File: *path, Valid: ce == nil, Problems: []problem{}}
		if ce != nil {
			report.Problems = ce.Problems
		} else {
			report.Env = l.vars
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else if ce == nil {
		fmt.Fprint(stdout, l.summary())
	}
	if ce != nil {
		if *output != "json" {
			fmt.Fprintln(stdout, strings.Join(ce.Lines(), "\n"))
		}
		n := len(ce.Problems)
		return &exitError{code: 1, err: fmt.Errorf("config %s is invalid: %d problem%s", *path, n, map[bool]string{true: "s"}[n != 1])}
	}
	return nil
}

// summary says in a few lines what the config sets up, without a secret:
// values that came from the environment are shown as written, URLs
// without their passwords.
func (l *loadedConfig) summary() string {
	c := l.config
	var b strings.Builder
	line := func(what, format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s %s\n", what, fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "%s is valid\n", l.file)
	line("listen", "%s (admin %s)", l.shown("listen", c.Listen), l.shown("admin_listen", c.AdminListen))
	issuers := make([]string, len(c.Issuers))
	for i, is := range c.Issuers {
		issuers[i] = l.shown(fmt.Sprintf("issuers[%d].url", i), is.URL)
	}
	line("issuers", "%s", strings.Join(issuers, ", "))
	u := c.Upstream
	line("upstream", "account %s at %s://%s:%d", l.shown("upstream.account", u.Account), orDefault(u.Protocol, "https"),
		orDefault(l.shown("upstream.host", u.Host), u.Account+".snowflakecomputing.com"), map[bool]int{true: u.Port, false: 443}[u.Port != 0])
	switch cr := c.Credentials; {
	case cr.Static != nil:
		line("credentials", "static, user %s", l.shown("credentials.static.user", cr.Static.User))
	case cr.Vault != nil:
		what := "database secrets engine"
		if cr.Vault.KV != nil {
			what = "KV secret"
		}
		line("credentials", "vault at %s (%s login), %s", l.shown("credentials.vault.address", cr.Vault.Address), cr.Vault.Auth.Method, what)
	}
	switch p := c.Policy; {
	case p.Bundle != nil:
		src := l.shown("policy.bundle.oci", p.Bundle.OCI)
		if p.Bundle.URL != "" {
			src = l.shown("policy.bundle.url", p.Bundle.URL)
		}
		line("policy", "bundles from %s, %d trusted key(s)", src, len(p.Bundle.Keys))
	case p.Dir != "":
		line("policy", "directory %s", l.shown("policy.dir", p.Dir))
	default:
		line("policy", "the embedded library")
	}
	line("approvals", "%s, store %s", orDefault(c.Approvals.Mode, "hold"), l.shown("approvals.store", c.Approvals.Store))
	signed := "checkpoints unsigned"
	if c.Audit.SigningKeyFile != "" {
		signed = "checkpoints signed"
	}
	line("audit", "%s (replica %s), %s", l.shown("audit.dsn", c.Audit.DSN), c.Audit.Replica, signed)
	line("sessions", "token %s, idle %s, at most %s", durOr(c.Session.TokenTTL, time.Hour), durOr(c.Session.IdleTimeout, 4*time.Hour), durOr(c.Session.MaxLife, 24*time.Hour))
	if len(l.vars) > 0 {
		line("environment", "%s (values not shown)", strings.Join(l.vars, ", "))
	}
	return b.String()
}

func durOr(d duration, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}
