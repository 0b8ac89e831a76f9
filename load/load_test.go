package load_test

import (
	"context"
	"os"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/load"
	"github.com/snowgate/snowgate/proxy/devstack"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	os.Exit(m.Run())
}

// TestRun_devStack runs the default mix with 20 sessions for a few seconds
// against the in-process dev stack, as the agent, with re-logins every
// second or so: every statement is counted once, the outcomes are the
// expected ones (denials 003001, approvals 003002 tickets, masked values
// masked), latencies are recorded, and /metrics was read along the way.
func TestRun_devStack(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	rep, err := load.Run(context.Background(), load.Config{
		Addr:            st.GatewayAddr,
		Token:           func(context.Context) (string, error) { return st.Issuer.Token("agent") },
		Sessions:        20,
		Duration:        4 * time.Second,
		Relogin:         time.Second,
		MetricsURL:      "http://" + st.AdminAddr + "/metrics",
		MetricsInterval: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d statements, %.0f/s, %d logins", rep.Sent, rep.PerSecond, rep.Logins.Sent)

	if rep.Sent == 0 {
		t.Fatal("no statements sent")
	}
	if sum := rep.Allowed + rep.Masked + rep.Denied + rep.Ticketed + rep.Errors; sum != rep.Sent {
		t.Errorf("sent %d != allowed %d + masked %d + denied %d + ticketed %d + errors %d", rep.Sent, rep.Allowed, rep.Masked, rep.Denied, rep.Ticketed, rep.Errors)
	}
	if rep.Errors != 0 || rep.Unexpected != 0 {
		t.Errorf("%d errors, %d unexpected outcomes: %+v", rep.Errors, rep.Unexpected, rep.Classes)
	}
	if rep.Codes[load.CodeDenied] != rep.Denied || rep.Codes[load.CodeTicketed] != rep.Ticketed || len(rep.Codes) != 2 {
		t.Errorf("codes %v: want only %s (%d denied) and %s (%d ticketed)", rep.Codes, load.CodeDenied, rep.Denied, load.CodeTicketed, rep.Ticketed)
	}
	for _, c := range rep.Classes {
		if c.Sent == 0 {
			t.Errorf("class %s: nothing sent", c.Name)
			continue
		}
		// The masked class's values were checked (mask-check otherwise).
		if c.Outcomes[c.Expect] != c.Sent {
			t.Errorf("class %s: outcomes %v, want all %s", c.Name, c.Outcomes, c.Expect)
		}
		if l := c.Latency; l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
			t.Errorf("class %s: latencies %+v", c.Name, l)
		}
	}
	if rep.Logins.Sent <= 20 || rep.Logins.Outcomes[load.Error] != 0 {
		t.Errorf("logins: %d, %d failed; want more than one per session (re-logins) and none failed", rep.Logins.Sent, rep.Logins.Outcomes[load.Error])
	}
	if len(rep.Metrics) < 4 || rep.MetricsFailures != 0 {
		t.Fatalf("%d /metrics samples, %d failed scrapes", len(rep.Metrics), rep.MetricsFailures)
	}
	var peakSessions float64
	for _, s := range rep.Metrics {
		if s.Goroutines <= 0 || s.HeapInuse <= 0 || s.OpenFDs <= 0 {
			t.Errorf("sample %+v lacks a process gauge", s)
		}
		peakSessions = max(peakSessions, s.Sessions)
	}
	if peakSessions < 1 {
		t.Errorf("no open session seen in /metrics: %+v", rep.Metrics)
	}
}

// TestRun_masked: values that come back unmasked fail the masked class's
// check and are counted as errors, not as masked.
func TestRun_masked(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	mix := load.DefaultMix()
	for i := range mix {
		mix[i].Weight = 0
		if mix[i].Class == "masked" {
			mix[i].Weight = 1
			mix[i].SQL = `SELECT city FROM customers LIMIT 5` // not masked
		}
	}
	rep, err := load.Run(context.Background(), load.Config{
		Addr:       st.GatewayAddr,
		Token:      func(context.Context) (string, error) { return st.Issuer.Token("agent") },
		Sessions:   2,
		Statements: 4,
		Mix:        mix,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 4 || rep.Errors != 4 || rep.Codes[load.CodeMaskCheck] != 4 || rep.Unexpected != 4 {
		t.Errorf("sent %d, errors %d, codes %v, unexpected %d: want 4 mask-check errors", rep.Sent, rep.Errors, rep.Codes, rep.Unexpected)
	}
}
