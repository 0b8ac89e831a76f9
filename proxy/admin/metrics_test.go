package admin_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, st *devstack.Stack) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + st.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// sample is the value of the family's sample with the given labels (a
// counter's or gauge's value, a histogram's count); -1 when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

// sum adds a counter family's samples.
func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	total := 0.0
	for _, m := range fams[name].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total
}

func openDB(t *testing.T, st *devstack.Stack, as string) *sql.DB {
	t.Helper()
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s&loginTimeout=10", host, port, tok))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMetrics_afterTraffic scrapes /metrics from a running dev stack before
// and after gosnowflake's traffic (an allowed, a masked, a denied, a failing
// and a held statement, approved while a scrape sees it pending) and reads
// it with Prometheus' parser: every family is there with its type, and the
// counters moved.
func TestMetrics_afterTraffic(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{Gateway: proxy.Config{PingPong: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	before := scrape(t, st)
	wantTypes := map[string]dto.MetricType{
		"snowgate_policy_info":                          dto.MetricType_GAUGE,
		"snowgate_policy_age_seconds":                   dto.MetricType_GAUGE,
		"snowgate_sessions":                             dto.MetricType_GAUGE,
		"snowgate_logins_total":                         dto.MetricType_COUNTER,
		"snowgate_decisions_total":                      dto.MetricType_COUNTER,
		"snowgate_decisions_remembered_total":           dto.MetricType_COUNTER,
		"snowgate_statement_failures_total":             dto.MetricType_COUNTER,
		"snowgate_statements_abandoned_total":           dto.MetricType_COUNTER,
		"snowgate_statement_stage_duration_seconds":     dto.MetricType_HISTOGRAM,
		"snowgate_approvals_pending":                    dto.MetricType_GAUGE,
		"snowgate_approvals_oldest_pending_age_seconds": dto.MetricType_GAUGE,
		"snowgate_audit_queue_depth":                    dto.MetricType_GAUGE,
		"snowgate_audit_commit_duration_seconds":        dto.MetricType_HISTOGRAM,
		"snowgate_audit_records_total":                  dto.MetricType_COUNTER,
		"snowgate_audit_commit_failures_total":          dto.MetricType_COUNTER,
		"snowgate_quota_sync_age_seconds":               dto.MetricType_GAUGE,
		"snowgate_quota_sync_failures_total":            dto.MetricType_COUNTER,
	}
	for name, typ := range wantTypes {
		if f := before[name]; f == nil || f.GetType() != typ {
			t.Errorf("before any traffic, %s: %v, want a %s", name, f, typ)
		}
	}
	if age := sample(before, "snowgate_quota_sync_age_seconds"); age < 0 || age > 15 {
		t.Errorf("snowgate_quota_sync_age_seconds = %v, want the counters synced within their 15 s", age)
	}
	// The Go process gauges, under the names Prometheus' Go client uses.
	process := []string{"go_goroutines", "go_memstats_heap_inuse_bytes"}
	if runtime.GOOS == "linux" {
		process = append(process, "process_open_fds")
	}
	for _, name := range process {
		if f := before[name]; f == nil || f.GetType() != dto.MetricType_GAUGE || sample(before, name) <= 0 {
			t.Errorf("%s: %v, want a positive gauge", name, f)
		}
	}

	analyst := openDB(t, st, "analyst")
	var city string
	if err := analyst.QueryRow(`SELECT city FROM customers WHERE id = 1`).Scan(&city); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	var name, email string
	if err := analyst.QueryRow(`SELECT name, email FROM customers WHERE id = 1`).Scan(&name, &email); err != nil {
		t.Fatalf("masked: %v", err)
	}
	if _, err := analyst.Exec(`GRANT ROLE SYSADMIN TO USER mallory`); err == nil {
		t.Fatal("GRANT was not denied")
	}
	if _, err := analyst.Exec(`SELECT city FROM no_such_table`); err == nil {
		t.Fatal("a statement on a missing table ran")
	}
	held := make(chan error, 1)
	go func() {
		_, err := analyst.Exec(`DELETE FROM orders WHERE amount > 0`)
		held <- err
	}()
	var req *approval.Request
	for deadline := time.Now().Add(20 * time.Second); req == nil; {
		if rs, _ := st.Approvals.List(context.Background(), approval.Pending); len(rs) == 1 {
			req = rs[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no pending approval request")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	waiting := scrape(t, st)
	if got := sample(waiting, "snowgate_approvals_pending"); got != 1 {
		t.Errorf("snowgate_approvals_pending while held = %v, want 1", got)
	}
	if got := sample(waiting, "snowgate_approvals_oldest_pending_age_seconds"); got <= 0 {
		t.Errorf("snowgate_approvals_oldest_pending_age_seconds while held = %v, want > 0", got)
	}
	approver, err := st.Issuer.Token("approver")
	if err != nil {
		t.Fatal(err)
	}
	post, _ := http.NewRequest("POST", "http://"+st.AdminAddr+"/api/v1/approvals/"+req.ID+"/approve", bytes.NewReader([]byte(`{"reason":"metrics test"}`)))
	post.Header.Set("Authorization", "Bearer "+approver)
	post.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(post); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %v %v", resp, err)
	}
	select {
	case err := <-held:
		if err != nil {
			t.Fatalf("the approved statement: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the approved statement did not run")
	}

	after := scrape(t, st)
	for name, typ := range wantTypes {
		if f := after[name]; f == nil || f.GetType() != typ {
			t.Errorf("after the traffic, %s: %v, want a %s", name, f, typ)
		}
	}
	for _, name := range []string{"snowgate_masked_columns_total", "snowgate_upstream_errors_total"} {
		if f := after[name]; f == nil || f.GetType() != dto.MetricType_COUNTER {
			t.Errorf("after the traffic, %s: %v, want a counter", name, f)
		}
	}
	moved := func(name string, labels ...string) {
		t.Helper()
		if b, a := max(sample(before, name, labels...), 0), sample(after, name, labels...); a <= b {
			t.Errorf("%s%v did not move: %v before, %v after", name, labels, b, a)
		}
	}
	moved("snowgate_logins_total", "result", "ok")
	for _, action := range []string{"allow", "mask", "deny", "require_approval"} {
		moved("snowgate_decisions_total", "action", action)
	}
	// What fired: the GRANT's deny rule packages, the masking package.
	moved("snowgate_decision_rules_total", "action", "deny", "rule", "privileges")
	moved("snowgate_decision_rules_total", "action", "mask", "rule", "masking")
	for _, stage := range proxy.Stages {
		moved("snowgate_statement_stage_duration_seconds", "stage", string(stage))
	}
	moved("snowgate_statement_failures_total")
	moved("snowgate_audit_records_total")
	moved("snowgate_audit_commit_duration_seconds")
	if got := sum(after, "snowgate_masked_columns_total"); got < 1 {
		t.Errorf("snowgate_masked_columns_total = %v after a masked statement", got)
	}
	if got := sum(after, "snowgate_upstream_errors_total"); got < 1 {
		t.Errorf("snowgate_upstream_errors_total = %v after a failing statement", got)
	}
	if got := sample(after, "snowgate_approvals_pending"); got != 0 {
		t.Errorf("snowgate_approvals_pending after the approval = %v", got)
	}
	if got := sample(after, "snowgate_statement_stage_duration_seconds", "stage", "approval"); got != 1 {
		t.Errorf("approval waits counted = %v, want 1", got)
	}
	for _, name := range []string{"snowgate_statement_stage_duration_seconds", "snowgate_audit_commit_duration_seconds"} {
		for _, m := range after[name].GetMetric() {
			checkBuckets(t, name, m.GetHistogram())
		}
	}
	// The one approval wait lands in the bucket its duration belongs to.
	for _, m := range after["snowgate_statement_stage_duration_seconds"].GetMetric() {
		if m.GetLabel()[0].GetValue() != "approval" {
			continue
		}
		h, prev := m.GetHistogram(), 0.0
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() == 1 {
				if h.GetSampleSum() <= prev || h.GetSampleSum() > b.GetUpperBound() {
					t.Errorf("an approval wait of %vs counted in the bucket (%v, %v]", h.GetSampleSum(), prev, b.GetUpperBound())
				}
				break
			}
			prev = b.GetUpperBound()
		}
	}
	if got := sample(after, "snowgate_audit_commit_failures_total"); got != 0 {
		t.Errorf("snowgate_audit_commit_failures_total = %v", got)
	}
	if got := sample(after, "snowgate_policy_info", "revision", st.Engine.Revision()); got != 1 {
		t.Errorf("snowgate_policy_info{revision=%q} = %v", st.Engine.Revision(), got)
	}
}

// checkBuckets: a histogram's buckets are cumulative, end at +Inf, and the
// +Inf bucket holds every observation.
func checkBuckets(t *testing.T, name string, h *dto.Histogram) {
	t.Helper()
	bs := h.GetBucket()
	if len(bs) == 0 || !math.IsInf(bs[len(bs)-1].GetUpperBound(), 1) || bs[len(bs)-1].GetCumulativeCount() != h.GetSampleCount() {
		t.Errorf("%s: buckets %v, count %d: want a last +Inf bucket holding every observation", name, bs, h.GetSampleCount())
		return
	}
	for i := 1; i < len(bs); i++ {
		if bs[i].GetUpperBound() <= bs[i-1].GetUpperBound() || bs[i].GetCumulativeCount() < bs[i-1].GetCumulativeCount() {
			t.Errorf("%s: buckets not cumulative at %v: %v", name, bs[i].GetUpperBound(), bs)
		}
	}
}
