package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/load"
)

func init() {
	commands["load"] = command{
		summary: "drive a gateway with many gosnowflake sessions and report throughput, latencies and the gateway's memory",
		run:     runLoad,
	}
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", "load [--addr HOST:PORT] [--admin HOST:PORT | --token-file FILE | --token-cmd CMD] [--sessions N] [--duration D] [--statements N] [flags]", stderr)
	var cfg load.Config
	fs.StringVar(&cfg.Addr, "addr", defaultAddr, "the gateway's Snowflake address")
	fs.StringVar(&cfg.Protocol, "protocol", "http", "http or https")
	admin := fs.String("admin", defaultAdminAddr, "admin address of snowgate dev: its dev issuer gives the tokens (unless --token-file or --token-cmd) and its /metrics is read")
	as := fs.String("as", "agent", "demo identity the dev issuer's tokens are for")
	tokenFile := fs.String("token-file", "", "read the token from this file (again at each login)")
	tokenCmd := fs.String("token-cmd", "", "run this shell command for a token (its standard output)")
	tokenReuse := fs.Duration("token-reuse", 30*time.Second, "use one token for the logins within this long (0: a new token for every login)")
	metricsURL := fs.String("metrics-url", "", "the gateway's admin /metrics (default: http://ADMIN/metrics; \"off\" for none)")
	fs.DurationVar(&cfg.MetricsInterval, "metrics-interval", load.DefaultMetricsInterval, "how often /metrics is read")
	fs.IntVar(&cfg.Sessions, "sessions", load.DefaultSessions, "concurrent sessions, each one gosnowflake connection")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to run (default 30s unless --statements is given; 30m with --soak)")
	fs.Int64Var(&cfg.Statements, "statements", 0, "how many statements to send in all (0: no limit)")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "spread the first logins over this long")
	fs.DurationVar(&cfg.Relogin, "relogin", load.DefaultRelogin, "how long a session lasts before it logs out and in again (jittered ±25%; negative: never)")
	fs.DurationVar(&cfg.LoginTimeout, "login-timeout", load.DefaultLoginTimeout, "gosnowflake's login timeout")
	mix := fs.String("mix", "", "weights by class, e.g. allowed=60,large=5,masked=20,denied=10,approval=5 (the defaults; unnamed classes keep theirs)")
	var sqls []string
	fs.Func("sql", "CLASS=SQL: run this statement for a class instead of its default (repeatable; a masked class's values are then not checked)", func(s string) error {
		sqls = append(sqls, s)
		return nil
	})
	soak := fs.Bool("soak", false, "judge whether the gateway's goroutines, heap and open files stay flat under the constant load and come back after it; exit 1 if not, or if a statement had an unexpected outcome")
	settle := fs.Duration("settle", load.DefaultSettle, "with --soak: how long to wait, once the sessions have left, for the gateway to come back to its level before the run")
	output := fs.String("output", "table", "table or json")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the sessions' random choices")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output %q: want table or json", *output)
	}
	if cfg.Duration <= 0 && cfg.Statements <= 0 {
		cfg.Duration = 30 * time.Second
		if *soak {
			cfg.Duration = 30 * time.Minute
		}
	}
	if *soak {
		cfg.Soak = &load.SoakConfig{Settle: *settle}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	var err error
	if cfg.Mix, err = loadMix(*mix, sqls); err != nil {
		return err
	}
	switch {
	case *tokenFile != "" && *tokenCmd != "":
		return errors.New("--token-file and --token-cmd: give one")
	case *tokenFile != "":
		cfg.Token = func(context.Context) (string, error) {
			b, err := os.ReadFile(*tokenFile)
			return strings.TrimSpace(string(b)), err
		}
	case *tokenCmd != "":
		cfg.Token = func(ctx context.Context) (string, error) {
			out, err := exec.CommandContext(ctx, "sh", "-c", *tokenCmd).Output()
			if err != nil {
				return "", fmt.Errorf("--token-cmd: %w", err)
			}
			return strings.TrimSpace(string(out)), nil
		}
	default:
		cfg.Token = func(ctx context.Context) (string, error) { return devToken(ctx, *admin, *as) }
	}
	if *tokenReuse > 0 {
		cfg.Token = reuseToken(cfg.Token, *tokenReuse)
	}
	switch *metricsURL {
	case "off":
	case "":
		cfg.MetricsURL = "http://" + *admin + "/metrics"
	default:
		cfg.MetricsURL = *metricsURL
	}
	if _, set := os.LookupEnv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION"); !set {
		os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	}
	_ = sf.GetLogger().SetLogLevel("fatal") // failures are counted in the report

	rep, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := writeReport(stdout, rep, *output); err != nil {
		return err
	}
	return soakVerdict(rep)
}

func writeReport(w io.Writer, rep *load.Report, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(w)
}

// soakVerdict fails a soak whose gauges were not flat or whose statements
// did not all have their expected outcome.
func soakVerdict(rep *load.Report) error {
	if rep.Soak == nil {
		return nil
	}
	var problems []string
	if rep.Unexpected > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d statements had an unexpected outcome", rep.Unexpected, rep.Sent))
	}
	if n := rep.Logins.Outcomes[load.Error]; n > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d logins failed", n, rep.Logins.Sent))
	}
	problems = append(problems, rep.Soak.Problems...)
	if len(problems) == 0 {
		return nil
	}
	return &exitError{code: 1, err: fmt.Errorf("soak failed: %s", strings.Join(problems, "; "))}
}

// loadMix is the default mix with the weights and statements the flags give.
func loadMix(weights string, sqls []string) ([]load.Statement, error) {
	mix := load.DefaultMix()
	find := func(class string) (*load.Statement, error) {
		for i := range mix {
			if mix[i].Class == class {
				return &mix[i], nil
			}
		}
		names := make([]string, len(mix))
		for i, s := range mix {
			names[i] = s.Class
		}
		return nil, fmt.Errorf("statement class %q: want one of %v", class, names)
	}
	for _, kv := range strings.Split(weights, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		s, err := find(k)
		if err != nil {
			return nil, fmt.Errorf("--mix: %w", err)
		}
		if s.Weight, err = strconv.Atoi(v); err != nil || s.Weight < 0 {
			return nil, fmt.Errorf("--mix %s=%q: want a weight of 0 or more", k, v)
		}
	}
	for _, kv := range sqls {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("--sql %q: want CLASS=SQL", kv)
		}
		s, err := find(k)
		if err != nil {
			return nil, fmt.Errorf("--sql: %w", err)
		}
		s.SQL, s.Args, s.Check = v, nil, nil
	}
	return mix, nil
}

// reuseToken hands out one token from src for the logins within ttl.
func reuseToken(src load.TokenSource, ttl time.Duration) load.TokenSource {
	var mu sync.Mutex
	var tok string
	var at time.Time
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok != "" && time.Since(at) < ttl {
			return tok, nil
		}
		t, err := src(ctx)
		if err != nil {
			return "", err
		}
		tok, at = t, time.Now()
		return tok, nil
	}
}
