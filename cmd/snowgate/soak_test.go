package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/snowgate/snowgate/load"
)

// Soak settings: the length comes from SNOWGATE_SOAK (`make soak`: 30m);
// SNOWGATE_SOAK_REPORT names a file for the JSON report.
const (
	defaultSoak    = 2 * time.Minute
	soakSessions   = 50
	soakRamp       = 10 * time.Second
	soakRelogin    = 15 * time.Second
	soakScrapeEach = time.Second
)

// TestSoak runs `snowgate load --soak` against `snowgate dev`: 50 sessions
// of the default mix (allowed, large, masked, denied and approval-bound
// statements, re-logins every 15 s or so) for SNOWGATE_SOAK (default 2m).
// The gateway's goroutines, heap in use and open files must stay flat under
// the constant load and come back after it, and every statement and login
// must have its expected outcome.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	if dl, ok := t.Deadline(); ok && time.Until(dl) < d+load.DefaultSettle+time.Minute {
		t.Fatalf("a %s soak and up to %s of settling do not fit in the test's deadline (%s left): raise -timeout", d, load.DefaultSettle, time.Until(dl).Round(time.Second))
	}
	gw, admin := startDev(t, "--mcp-addr", "off")

	rep, out, err := runSoak(t, gw, admin, d)
	t.Logf("snowgate load --soak:\n%s", out)
	if rep == nil {
		t.Fatalf("no report: %v", err)
	}
	logSoak(t, rep)
	if err != nil {
		t.Errorf("snowgate load --soak failed: %v", err)
	}
	checkOutcomes(t, rep)
	checkSteadySessions(t, rep, d)
	checkSoak(t, rep)
}

func soakDuration(t *testing.T) time.Duration {
	v := os.Getenv("SNOWGATE_SOAK")
	if v == "" {
		return defaultSoak
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Minute {
		t.Fatalf("SNOWGATE_SOAK=%q: want a duration of a minute or more", v)
	}
	return d
}

// runSoak runs the soak and decodes its JSON report; out is its log.
func runSoak(t *testing.T, gw, admin string, d time.Duration) (*load.Report, string, error) {
	t.Helper()
	cmd := exec.Command(binary, "load", "--soak", "--output", "json", "--addr", gw, "--admin", admin,
		"--sessions", strconv.Itoa(soakSessions), "--ramp", soakRamp.String(), "--duration", d.String(),
		"--relogin", soakRelogin.String(), "--metrics-interval", soakScrapeEach.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if path := os.Getenv("SNOWGATE_SOAK_REPORT"); path != "" {
		if err := os.WriteFile(path, stdout.Bytes(), 0o644); err != nil {
			t.Errorf("SNOWGATE_SOAK_REPORT: %v", err)
		}
	}
	var rep load.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return nil, stderr.String(), err
	}
	return &rep, stderr.String(), runErr
}

func logSoak(t *testing.T, rep *load.Report) {
	t.Helper()
	t.Logf("%d sessions, %.0f s: %d statements, %.1f/s; %d logins", rep.Sessions, rep.Seconds, rep.Sent, rep.PerSecond, rep.Logins.Sent)
	for _, c := range rep.Classes {
		t.Logf("  %-8s %6d sent, p50 %.1f ms, p99 %.1f ms", c.Name, c.Sent, c.Latency.P50, c.Latency.P99)
	}
	if rep.Soak == nil {
		return
	}
	for _, g := range rep.Soak.Gauges {
		unit := 1.0
		if g.Name == "go_memstats_heap_inuse_bytes" {
			unit = 1 << 20 // MiB
		}
		t.Logf("  %s: before %.1f, Q2 median %.1f, Q4 median %.1f (%+.1f%%, %.1f/min), peak %.1f, after %.1f",
			g.Name, g.Baseline/unit, g.Early/unit, g.Late/unit, 100*g.Growth, g.SlopePerMinute/unit, g.Peak/unit, g.End/unit)
	}
	t.Logf("  %.0f statements/s in the second quarter, %.0f in the last; back at rest %.0f s after the sessions left",
		rep.Soak.EarlyRate, rep.Soak.LateRate, rep.Soak.SettleSeconds)
}

// checkOutcomes: every class ran, each statement with its expected outcome,
// and every login succeeded.
func checkOutcomes(t *testing.T, rep *load.Report) {
	t.Helper()
	if rep.Sent == 0 || rep.Errors != 0 || rep.Unexpected != 0 {
		t.Errorf("%d statements, %d errors, %d unexpected outcomes; codes %v", rep.Sent, rep.Errors, rep.Unexpected, rep.Codes)
	}
	for _, c := range rep.Classes {
		if c.Sent == 0 || c.Outcomes[c.Expect] != c.Sent {
			t.Errorf("class %s: %d sent, outcomes %v, want all %s; samples %v", c.Name, c.Sent, c.Outcomes, c.Expect, c.ErrorSamples)
		}
	}
	if rep.Logins.Sent <= int64(rep.Sessions) || rep.Logins.Outcomes[load.Error] != 0 {
		t.Errorf("%d logins, %d failed: want re-logins, none failed; samples %v", rep.Logins.Sent, rep.Logins.Outcomes[load.Error], rep.Logins.ErrorSamples)
	}
}

// checkSteadySessions: /metrics was read throughout, and the gateway held
// the sessions from the second quarter to the end.
func checkSteadySessions(t *testing.T, rep *load.Report, d time.Duration) {
	t.Helper()
	if want := int(d / soakScrapeEach / 2); len(rep.Metrics) < want || rep.MetricsFailures != 0 {
		t.Errorf("%d /metrics samples (want %d or more), %d failed scrapes", len(rep.Metrics), want, rep.MetricsFailures)
	}
	low := 0
	for _, s := range rep.Metrics {
		if s.Seconds >= d.Seconds()/4 && s.Seconds <= d.Seconds() && s.Sessions < 0.9*soakSessions {
			low++
		}
	}
	if low > len(rep.Metrics)/20 {
		t.Errorf("in %d of %d samples of the steady part the gateway held fewer than 90%% of the %d sessions", low, len(rep.Metrics), soakSessions)
	}
}

// checkSoak: the verdict is flat, gauge by gauge.
func checkSoak(t *testing.T, rep *load.Report) {
	t.Helper()
	if rep.Soak == nil {
		t.Fatal("the report has no soak verdict")
	}
	if !rep.Soak.OK || len(rep.Soak.Gauges) != 3 {
		t.Errorf("soak not flat: %v", rep.Soak.Problems)
	}
	for _, g := range rep.Soak.Gauges {
		if !g.Flat || !g.Back || g.Baseline <= 0 || g.Early <= 0 || g.End <= 0 {
			t.Errorf("%s: %+v", g.Name, g)
		}
	}
}
