package proxy

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// Stage is a step of the statement pipeline whose duration /metrics
// reports.
type Stage string

// The pipeline's stages, in the order a statement meets them.
const (
	StageAnalysis Stage = "analysis" // SQL text to statements (a request's statements together)
	StageDecision Stage = "decision" // the policy decision
	StageAudit    Stage = "audit"    // the statement's durable record in the trail
	StageApproval Stage = "approval" // waiting for an approval (held statements only)
	StageUpstream Stage = "upstream" // the upstream runs the statement until it answers
	StageEncoding Stage = "encoding" // reading, masking and re-encoding the result's rows
)

// Stages lists every Stage, in order.
var Stages = [...]Stage{StageAnalysis, StageDecision, StageAudit, StageApproval, StageUpstream, StageEncoding}

// StageBounds are the upper bounds, in seconds, of the stage histograms'
// buckets: from analysis (tens of microseconds) to an approval's wait
// (minutes).
var StageBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800}

// maxErrorCodes bounds the distinct upstream error codes counted; others
// are counted as "other".
const maxErrorCodes = 100

// counters are the gateway's running totals, for /metrics.
type counters struct {
	logins, loginsRefused atomic.Int64
	allow, deny, approval atomic.Int64
	mask, failed          atomic.Int64
	abandoned             atomic.Int64
	stages                [len(Stages)]durations

	mu             sync.Mutex
	masked         map[string]int64    // result columns masked, by strategy
	rules          map[[2]string]int64 // decisions by action and rule that fired
	upstreamErrors map[string]int64    // by Snowflake error code
}

func (c *counters) decided(a engine.Action, rules []string) {
	if len(rules) > 0 {
		c.mu.Lock()
		if c.rules == nil {
			c.rules = map[[2]string]int64{}
		}
		for _, r := range rules {
			if _, seen := c.rules[[2]string{string(a), r}]; seen || len(c.rules) < maxErrorCodes {
				c.rules[[2]string{string(a), r}]++
			}
		}
		c.mu.Unlock()
	}
	switch a {
	case engine.ActionAllow:
		c.allow.Add(1)
	case engine.ActionDeny:
		c.deny.Add(1)
	case engine.ActionRequireApproval:
		c.approval.Add(1)
	case engine.ActionMask:
		c.mask.Add(1)
	}
}

// since counts the time from start in st's histogram.
func (c *counters) since(st Stage, start time.Time) {
	if i := slices.Index(Stages[:], st); i >= 0 {
		c.stages[i].observe(time.Since(start))
	}
}

// maskedColumns counts the result columns a statement that ran had masked.
func (c *counters) maskedColumns(byOutput map[int]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.masked == nil {
		c.masked = map[string]int64{}
	}
	for _, strategy := range byOutput {
		c.masked[strategy]++
	}
}

// upstreamFailed counts an upstream failure by its Snowflake error code.
func (c *counters) upstreamFailed(err error) {
	code := "unknown"
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		code = e.Code
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upstreamErrors == nil {
		c.upstreamErrors = map[string]int64{}
	}
	if _, ok := c.upstreamErrors[code]; !ok && len(c.upstreamErrors) >= maxErrorCodes {
		code = "other"
	}
	c.upstreamErrors[code]++
}

// durations counts durations into StageBounds' buckets.
type durations struct {
	buckets [len(StageBounds) + 1]atomic.Uint64 // the last is +Inf
	nanos   atomic.Int64
}

func (d *durations) observe(took time.Duration) {
	i, _ := slices.BinarySearch(StageBounds[:], took.Seconds())
	d.buckets[i].Add(1)
	d.nanos.Add(int64(took))
}

func (d *durations) snapshot() Histogram {
	h := Histogram{Bounds: StageBounds[:], Counts: make([]uint64, len(d.buckets))}
	for i := range d.buckets {
		h.Counts[i] = d.buckets[i].Load()
	}
	h.Sum = time.Duration(d.nanos.Load()).Seconds()
	return h
}

// Histogram is a snapshot of durations counted into buckets.
type Histogram struct {
	Bounds []float64 // the buckets' upper bounds in seconds, ascending
	// Counts are the observations in each bucket (not cumulative): Counts[i]
	// those above Bounds[i-1] and at most Bounds[i], the last those above
	// every bound.
	Counts []uint64
	Sum    float64 // seconds
}

// Stats is a snapshot of the gateway's counters.
type Stats struct {
	Sessions       int
	Logins         int64
	LoginsRefused  int64
	Decisions      map[string]int64    // by action
	DecisionRules  map[[2]string]int64 // by action and the rule that fired
	Failed         int64               // statements that failed upstream or in the gateway
	Abandoned      int64               // statements whose client left while they were held or ran
	Stages         map[Stage]Histogram
	MaskedColumns  map[string]int64 // result columns masked in statements that ran, by strategy
	UpstreamErrors map[string]int64 // statements the upstream failed, by Snowflake error code
}

// Stats returns the gateway's counters.
func (s *Server) Stats() Stats {
	c := &s.counters
	st := Stats{
		Sessions: len(s.sessions.all()), Logins: c.logins.Load(), LoginsRefused: c.loginsRefused.Load(),
		Decisions: map[string]int64{
			string(engine.ActionAllow): c.allow.Load(), string(engine.ActionDeny): c.deny.Load(),
			string(engine.ActionRequireApproval): c.approval.Load(), string(engine.ActionMask): c.mask.Load(),
		},
		Failed: c.failed.Load(), Abandoned: c.abandoned.Load(),
		Stages: map[Stage]Histogram{},
	}
	for i, stage := range Stages {
		st.Stages[stage] = c.stages[i].snapshot()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st.MaskedColumns, st.UpstreamErrors, st.DecisionRules = maps.Clone(c.masked), maps.Clone(c.upstreamErrors), maps.Clone(c.rules)
	return st
}
