// Package bench measures, in one process run, what the gateway costs next to
// what it stands in front of or replaces, as `snowgate bench` does: a small
// SELECT through the gateway and straight to the stand-in, a policy decision
// embedded and through `opa run --server`, statement analysis and TiDB's
// bare parse, a large result masked and not, the result formats served, 64
// clients through the gateway and through a bare loopback HTTP hop, and the
// memory of idle sessions. Run returns one table of the figures and their
// ratios.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultTime     = 3 * time.Second
	DefaultSessions = 10000
	DefaultRows     = 1_000_000
	DefaultSettle   = 5 * time.Second
)

// measurements are the table's rows, in order.
var measurements = []struct {
	name string
	run  func(*runner, context.Context) ([]Row, error)
}{
	{"select", (*runner).smallSelect},
	{"decision", (*runner).decision},
	{"analysis", (*runner).analysis},
	{"masking", (*runner).masking},
	{"formats", (*runner).formats},
	{"parallel", (*runner).parallel},
	{"sessions", (*runner).sessions},
}

// Names of the measurements, in the order of the table; Config.Only picks
// among them.
var Names = func() []string {
	out := make([]string, len(measurements))
	for i, m := range measurements {
		out[i] = m.name
	}
	return out
}()

// Config is one run.
type Config struct {
	Time     time.Duration // per measurement; default DefaultTime
	Sessions int           // idle sessions logged in; default DefaultSessions
	Rows     int           // rows of the large result; default DefaultRows
	Settle   time.Duration // idle sessions' rest before they are measured; default DefaultSettle
	Only     []string      // measurements to run (Names); empty: all
	// Root is the repository's directory: the policy library rego/ and the
	// inputs opa-tests/fixtures are read from it. Default ".".
	Root string
	// OPA is the opa binary run as `opa run --server`; empty: the decision
	// row says it was not found.
	OPA    string
	Logger *slog.Logger
}

// Row is one line of the table.
type Row struct {
	Name     string // the measurement it belongs to (Names)
	What     string
	Snowgate string // the gateway's (or the embedded engine's) figure
	Baseline string // what it is compared with
	Ratio    string
	Note     string
	// Figures are the numbers behind the cells; none when nothing could be
	// measured (a format not served, no opa binary).
	Figures []float64
}

// Report is a run's table.
type Report struct {
	CPUs      int
	GoVersion string
	Platform  string
	Time      time.Duration
	Rows      []Row
}

// FindOPA returns the opa binary: $SNOWGATE_OPA, else opa on PATH, else "".
func FindOPA() string {
	if p := os.Getenv("SNOWGATE_OPA"); p != "" {
		return p
	}
	p, _ := exec.LookPath("opa")
	return p
}

// Run takes the measurements cfg names and returns their rows.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, log: cfg.Logger}
	rep := &Report{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Time: cfg.Time}
	for _, m := range measurements {
		name := m.name
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.log.Info("measuring", "row", name)
		start := time.Now()
		rows, err := m.run(r, ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.log.Info("measured", "row", name, "took", time.Since(start).Round(time.Millisecond))
		rep.Rows = append(rep.Rows, rows...)
	}
	return rep, nil
}

func withDefaults(cfg Config) (Config, error) {
	if cfg.Time <= 0 {
		cfg.Time = DefaultTime
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = DefaultSessions
	}
	if cfg.Rows <= 0 {
		cfg.Rows = DefaultRows
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Root == "" {
		cfg.Root = "."
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for _, n := range cfg.Only {
		if !slices.Contains(Names, n) {
			return cfg, fmt.Errorf("measurement %q: want one of %s", n, strings.Join(Names, ", "))
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.Root, "rego")); err != nil {
		return cfg, fmt.Errorf("policy library: %w (run from the repository's root)", err)
	}
	return cfg, nil
}

// runner holds what several measurements share.
type runner struct {
	cfg   Config
	log   *slog.Logger
	large *largeResults // the large results, measured once for masking and formats
}
