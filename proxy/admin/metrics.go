package admin

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
)

// AuditTrail is what the admin API reads of the audit trail (*audit.Log).
type AuditTrail interface {
	Check(ctx context.Context) error
	Stats() audit.Stats
}

// Leases are Vault's dynamic credentials as /metrics reports them
// (*vault.Dynamic).
type Leases interface {
	Active() int          // leases held for live sessions
	RenewFailures() int64 // renewals that failed
	Withdrawn() int64     // leases that went (revoked in Vault, expired) while their session lived
}

// QuotaCounters are the gateway's quota counters as /metrics reports them
// (*quota.Counter).
type QuotaCounters interface {
	Synced() (at time.Time, failures int64)
}

// approvalsTimeout bounds the approvals store's answer to a scrape.
const approvalsTimeout = 2 * time.Second

// metrics serves the Prometheus text format (0.0.4), written by hand: the
// policy, sessions and logins, decisions, the pipeline's stages, masks,
// upstream errors, approvals, the audit writer and Vault's leases.
func (a *api) metrics(c echo.Context) error {
	var w expo
	rev := ""
	if a.cfg.Revision != nil {
		rev = a.cfg.Revision()
	}
	w.family("snowgate_policy_info", "gauge", "The active policy revision.")
	w.sample("snowgate_policy_info", 1, "revision", rev)
	if a.cfg.PolicyActivated != nil {
		if at := a.cfg.PolicyActivated(); !at.IsZero() {
			w.family("snowgate_policy_age_seconds", "gauge", "Seconds since the active policy revision was activated.")
			w.sample("snowgate_policy_age_seconds", time.Since(at).Seconds())
		}
	}
	if a.cfg.Stats != nil {
		a.gatewayMetrics(&w, a.cfg.Stats())
	}
	if a.cfg.Remembered != nil {
		w.family("snowgate_decisions_remembered_total", "counter", "Policy decisions answered from the engine's memo of decisions, without evaluating the policy (part of snowgate_decisions_total).")
		w.sample("snowgate_decisions_remembered_total", float64(a.cfg.Remembered()))
	}
	if a.cfg.Approvals != nil {
		a.approvalMetrics(c.Request().Context(), &w)
	}
	if a.cfg.Audit != nil {
		st := a.cfg.Audit.Stats()
		w.family("snowgate_audit_queue_depth", "gauge", "Audit events waiting for the writer: records a statement waits on, and deferred outcomes that ride the next commit.")
		w.sample("snowgate_audit_queue_depth", float64(st.Waiting), "kind", "record")
		w.sample("snowgate_audit_queue_depth", float64(st.Deferred), "kind", "deferred")
		w.family("snowgate_audit_commit_duration_seconds", "histogram", "Audit trail commits (one transaction and fsync for a batch), by duration, failed ones included.")
		w.histogram("snowgate_audit_commit_duration_seconds", audit.CommitBounds[:], st.CommitCounts, st.CommitSeconds)
		w.family("snowgate_audit_records_total", "counter", "Audit records committed.")
		w.sample("snowgate_audit_records_total", float64(st.Records))
		w.family("snowgate_audit_commit_failures_total", "counter", "Audit commits that failed (the statements waiting on them were refused).")
		w.sample("snowgate_audit_commit_failures_total", float64(st.Failures))
	}
	if l, ok := a.cfg.Vault.(Leases); ok {
		w.family("snowgate_vault_leases", "gauge", "Vault leases of upstream credentials held for live sessions.")
		w.sample("snowgate_vault_leases", float64(l.Active()))
		w.family("snowgate_vault_lease_renew_failures_total", "counter", "Vault lease renewals that failed.")
		w.sample("snowgate_vault_lease_renew_failures_total", float64(l.RenewFailures()))
		w.family("snowgate_vault_leases_withdrawn_total", "counter", "Vault leases that went while their session lived (revoked in Vault, or expired); each ended its session.")
		w.sample("snowgate_vault_leases_withdrawn_total", float64(l.Withdrawn()))
	}
	if q := a.cfg.Quotas; q != nil {
		at, failures := q.Synced()
		w.family("snowgate_quota_sync_age_seconds", "gauge", "Seconds since the quota counters last synced with their store (past 15 s the policy is told they are unavailable).")
		w.sample("snowgate_quota_sync_age_seconds", time.Since(at).Seconds())
		w.family("snowgate_quota_sync_failures_total", "counter", "Syncs of the quota counters with their store that failed.")
		w.sample("snowgate_quota_sync_failures_total", float64(failures))
	}
	processMetrics(&w)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(w.String()))
}

// processMetrics writes the standard Go process gauges under the names
// Prometheus' Go client gives them: goroutines, the heap in use and, where
// /proc exists (Linux), the open file descriptors.
func processMetrics(w *expo) {
	w.family("go_goroutines", "gauge", "Number of goroutines that currently exist.")
	w.sample("go_goroutines", float64(runtime.NumGoroutine()))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.family("go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.")
	w.sample("go_memstats_heap_inuse_bytes", float64(ms.HeapInuse))
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		w.family("process_open_fds", "gauge", "Number of open file descriptors.")
		w.sample("process_open_fds", float64(len(fds)))
	}
}

func (a *api) gatewayMetrics(w *expo, st proxy.Stats) {
	w.family("snowgate_sessions", "gauge", "Open client sessions.")
	w.sample("snowgate_sessions", float64(st.Sessions))
	w.family("snowgate_logins_total", "counter", "Logins by result.")
	w.sample("snowgate_logins_total", float64(st.Logins), "result", "ok")
	w.sample("snowgate_logins_total", float64(st.LoginsRefused), "result", "refused")
	w.family("snowgate_decisions_total", "counter", "Policy decisions by action.")
	for _, act := range []string{"allow", "mask", "require_approval", "deny"} {
		w.sample("snowgate_decisions_total", float64(st.Decisions[act]), "action", act)
	}
	w.family("snowgate_decision_rules_total", "counter", "Policy decisions by action and what fired: the rule package behind a deny or a mask, the approval requirement behind a require_approval.")
	keys := slices.SortedFunc(maps.Keys(st.DecisionRules), func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	for _, k := range keys {
		w.sample("snowgate_decision_rules_total", float64(st.DecisionRules[k]), "action", k[0], "rule", k[1])
	}
	w.family("snowgate_statement_failures_total", "counter", "Statements that failed after their decision.")
	w.sample("snowgate_statement_failures_total", float64(st.Failed))
	w.family("snowgate_statements_abandoned_total", "counter", "Statements whose client left while they were held for approval or ran.")
	w.sample("snowgate_statements_abandoned_total", float64(st.Abandoned))
	w.family("snowgate_statement_stage_duration_seconds", "histogram",
		"Time statements spend in each stage of the pipeline: analysis, decision, audit (the durable record), approval (held statements), upstream (until the upstream answers), encoding (reading, masking and re-encoding the rows).")
	for _, stage := range proxy.Stages {
		h := st.Stages[stage]
		w.histogram("snowgate_statement_stage_duration_seconds", h.Bounds, h.Counts, h.Sum, "stage", string(stage))
	}
	w.counters("snowgate_masked_columns_total", "Result columns masked in statements that ran, by strategy.", "strategy", st.MaskedColumns)
	w.counters("snowgate_upstream_errors_total", "Statements the upstream failed, by Snowflake error code.", "code", st.UpstreamErrors)
}

// approvalMetrics reports the pending approval requests; nothing when the
// store does not answer in time.
func (a *api) approvalMetrics(ctx context.Context, w *expo) {
	ctx, cancel := context.WithTimeout(ctx, approvalsTimeout)
	defer cancel()
	pending, err := a.cfg.Approvals.List(ctx, approval.Pending)
	if err != nil {
		a.cfg.Logger.Warn("metrics: approvals store", "err", err)
		return
	}
	oldest := 0.0
	for _, r := range pending {
		oldest = math.Max(oldest, time.Since(r.CreatedAt).Seconds())
	}
	w.family("snowgate_approvals_pending", "gauge", "Approval requests waiting for a decision.")
	w.sample("snowgate_approvals_pending", float64(len(pending)))
	w.family("snowgate_approvals_oldest_pending_age_seconds", "gauge", "Age of the oldest approval request waiting for a decision; 0 when none waits.")
	w.sample("snowgate_approvals_oldest_pending_age_seconds", oldest)
}

// expo writes the Prometheus text exposition format.
type expo struct{ strings.Builder }

var escapeLabel = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace

func (w *expo) family(name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, strings.ReplaceAll(help, "\n", " "), name, typ)
}

// sample writes one sample; labels are name, value pairs.
func (w *expo) sample(name string, v float64, labels ...string) {
	w.WriteString(name)
	if len(labels) > 0 {
		w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, `%s="%s"`, labels[i], escapeLabel(labels[i+1]))
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatValue(v))
	w.WriteByte('\n')
}

// counters writes a counter family with one label, from its values by
// label value; nothing before the first count.
func (w *expo) counters(name, help, label string, byValue map[string]int64) {
	if len(byValue) == 0 {
		return
	}
	w.family(name, "counter", help)
	for _, v := range slices.Sorted(maps.Keys(byValue)) {
		w.sample(name, float64(byValue[v]), label, v)
	}
}

// histogram writes a histogram's cumulative buckets, sum and count from
// per-bucket counts (the last above every bound).
func (w *expo) histogram(name string, bounds []float64, counts []uint64, sum float64, labels ...string) {
	var cum uint64
	for i, n := range counts {
		cum += n
		le := "+Inf"
		if i < len(bounds) {
			le = formatValue(bounds[i])
		}
		w.sample(name+"_bucket", float64(cum), append(slices.Clone(labels), "le", le)...)
	}
	w.sample(name+"_sum", sum, labels...)
	w.sample(name+"_count", float64(cum), labels...)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
