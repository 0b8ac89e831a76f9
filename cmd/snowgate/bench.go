package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/bench"
)

func init() {
	commands["bench"] = command{
		summary: "measure the gateway next to what it stands in front of (direct, opa server, TiDB parse, loopback) and print one markdown table",
		run:     runBench,
	}
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "bench [--time D] [--sessions N] [--only ROW,...] [flags]", stderr)
	cfg := bench.Config{OPA: bench.FindOPA()}
	fs.DurationVar(&cfg.Time, "time", bench.DefaultTime, "how long each measurement runs")
	fs.IntVar(&cfg.Sessions, "sessions", bench.DefaultSessions, "idle sessions logged in for the sessions row")
	fs.IntVar(&cfg.Rows, "rows", bench.DefaultRows, "rows of the large result of the masking and formats rows")
	fs.DurationVar(&cfg.Settle, "settle", bench.DefaultSettle, "how long the idle sessions rest before they are measured")
	fs.StringVar(&cfg.Root, "root", ".", "the repository's directory (its rego/ and opa-tests/fixtures are read)")
	only := fs.String("only", "", "comma-separated rows to measure, of "+strings.Join(bench.Names, ","))
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (gateway, stand-in and clients share the process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			cfg.Only = append(cfg.Only, n)
		}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	if _, set := os.LookupEnv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION"); !set {
		os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	}
	_ = sf.GetLogger().SetLogLevel("fatal")
	cfg.Logger.Info("bench", "opa", cfg.OPA, "time", cfg.Time, "sessions", cfg.Sessions, "rows", cfg.Rows)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return rep.WriteTable(stdout)
}
