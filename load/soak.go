package load

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// A soak holds the sessions constant for the whole Duration and judges
// whether the gateway's goroutines, heap in use and open files stay flat:
// the median of the run's last quarter against the median of its second
// (the first is the ramp and warm-up). Once the sessions have left, each
// gauge must come back near its level before the run. The gateway collects
// garbage on its own — the Go runtime forces a collection after two
// minutes without one — so Settle waits past that for the heap.
//
// The heap under load holds the results a session may still fetch until
// it ends, so it follows the throughput: on a shared machine the
// statements answered a second can change by half within a run. The heap's
// steady limit therefore grows with the last quarter's throughput when
// that is higher than the second quarter's (never shrinks with it).

// DefaultSettle is SoakConfig.Settle's default: past the Go runtime's
// forced collection, two minutes after the last one.
const DefaultSettle = 150 * time.Second

// Limit is how far a gauge may go above a reference: Rel of it plus Abs.
type Limit struct {
	Rel float64 `json:"rel"`
	Abs float64 `json:"abs"`
}

func (l Limit) allows(ref, v float64) bool { return v <= ref*(1+l.Rel)+l.Abs }

// GaugeLimits bounds one gauge: Steady, the last quarter's median against
// the second quarter's; Back, its level after the run against the one
// before.
type GaugeLimits struct {
	Steady Limit `json:"steady"`
	Back   Limit `json:"back"`
}

// SoakConfig makes a run a soak.
type SoakConfig struct {
	// Settle is the longest wait, once the sessions have left, for every
	// gauge to be back within its limit (default DefaultSettle).
	Settle time.Duration
	// Limits by gauge name (go_goroutines, go_memstats_heap_inuse_bytes,
	// process_open_fds); a gauge left out gets DefaultLimits' entry.
	Limits map[string]GaugeLimits
}

// DefaultLimits of a soak. Under load the goroutines follow the statements
// in flight and the heap saw-tooths between collections, so the steady
// limits leave room for that noise; back at rest, a few goroutines and files
// may be workers started on first use, and the heap holds what the first
// statements warmed (policy, parser, caches).
func DefaultLimits() map[string]GaugeLimits {
	return map[string]GaugeLimits{
		"go_goroutines":                {Steady: Limit{Rel: 0.25, Abs: 20}, Back: Limit{Abs: 3}},
		"go_memstats_heap_inuse_bytes": {Steady: Limit{Rel: 0.25, Abs: 16 << 20}, Back: Limit{Rel: 1, Abs: 16 << 20}},
		"process_open_fds":             {Steady: Limit{Rel: 0.10, Abs: 10}, Back: Limit{Abs: 3}},
	}
}

// gauges are the judged gauges, in report order.
var gauges = []struct {
	name string
	get  func(Sample) float64
}{
	{"go_goroutines", func(s Sample) float64 { return s.Goroutines }},
	{"go_memstats_heap_inuse_bytes", func(s Sample) float64 { return s.HeapInuse }},
	{"process_open_fds", func(s Sample) float64 { return s.OpenFDs }},
}

func (c *SoakConfig) setDefaults(cfg *Config) error {
	switch {
	case cfg.MetricsURL == "":
		return fmt.Errorf("load: a soak reads the gateway's /metrics: MetricsURL is required")
	case cfg.Duration <= 0 || cfg.Statements > 0:
		return fmt.Errorf("load: a soak runs for a Duration, without a Statements budget")
	case cfg.Ramp > cfg.Duration/4:
		return fmt.Errorf("load: a soak's ramp (%s) must end within the first quarter of its duration (%s)", cfg.Ramp, cfg.Duration)
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	limits := DefaultLimits()
	for name, l := range c.Limits {
		if _, ok := limits[name]; !ok {
			return fmt.Errorf("load: soak limits: no gauge %q", name)
		}
		limits[name] = l
	}
	c.Limits = limits
	return nil
}

// Trend is one gauge over a soak.
type Trend struct {
	Name     string  `json:"name"`
	Baseline float64 `json:"baseline"`     // before the sessions came
	Early    float64 `json:"early_median"` // the run's second quarter
	Late     float64 `json:"late_median"`  // its last quarter
	// Growth is (Late-Early)/Early.
	Growth float64 `json:"growth"`
	// SlopePerMinute is the least-squares slope over the last three
	// quarters, in the gauge's unit a minute.
	SlopePerMinute float64 `json:"slope_per_minute"`
	Peak           float64 `json:"peak"`
	End            float64 `json:"end"` // after the sessions left and the gateway settled
	// Flat: Late within the Steady limit of Early (for the heap, of Early
	// times the throughput's growth).
	Flat bool `json:"flat"`
	Back bool `json:"back"` // End within the Back limit of Baseline
}

// Soak is a soak's verdict.
type Soak struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems,omitempty"`
	Gauges   []Trend  `json:"gauges"`
	// EarlyRate and LateRate are the statements answered a second in the
	// second and last quarters.
	EarlyRate float64 `json:"early_statements_per_second"`
	LateRate  float64 `json:"late_statements_per_second"`
	// SettleSeconds is how long after the sessions left the gauges were
	// back, or the Settle limit when they were not.
	SettleSeconds float64                `json:"settle_seconds"`
	Baseline      Sample                 `json:"baseline"`
	After         []Sample               `json:"after"` // read while settling
	Limits        map[string]GaugeLimits `json:"limits"`
}

// baseline reads the gateway's gauges before the sessions come.
func baseline(ctx context.Context, url string) (Sample, error) {
	s := &scraper{url: url, start: time.Now()}
	sm, err := s.read(ctx)
	if err != nil {
		return sm, fmt.Errorf("load: soak baseline: %w", err)
	}
	return sm, nil
}

// back says whether every gauge of s is within its Back limit of base.
func (c *SoakConfig) back(base, s Sample) bool {
	for _, g := range gauges {
		if !c.Limits[g.name].Back.allows(g.get(base), g.get(s)) {
			return false
		}
	}
	return true
}

// settle reads /metrics every interval until the gauges are back or limit
// has passed; it returns the samples and how long it waited.
func (s *scraper) settle(ctx context.Context, every, limit time.Duration, back func(Sample) bool) ([]Sample, time.Duration) {
	start := time.Now()
	var out []Sample
	for {
		if sm, err := s.read(ctx); err == nil {
			out = append(out, sm)
			if back(sm) {
				return out, time.Since(start)
			}
		}
		if time.Since(start) >= limit || !sleep(ctx, every) {
			return out, time.Since(start)
		}
	}
}

// judge compares the run's steady windows and the settled gauges with the
// baseline. run holds the samples read under load, after those read while
// settling.
func (c *SoakConfig) judge(duration time.Duration, base Sample, run, after []Sample, settled time.Duration) *Soak {
	d := duration.Seconds()
	early := window(run, d/4, d/2)
	late := window(run, 3*d/4, d)
	soak := &Soak{Baseline: base, After: after, SettleSeconds: settled.Seconds(), Limits: c.Limits, EarlyRate: rate(early), LateRate: rate(late)}
	if len(early) < 3 || len(late) < 3 {
		soak.Problems = append(soak.Problems, fmt.Sprintf("too few /metrics samples under steady load (%d in the second quarter, %d in the last): run longer or read /metrics more often", len(early), len(late)))
	}
	if len(after) == 0 {
		soak.Problems = append(soak.Problems, "no /metrics sample after the sessions left")
	}
	steady := window(run, d/4, d)
	for _, g := range gauges {
		t := trend(g.name, g.get, base, run, early, late, steady, after)
		l := c.Limits[g.name]
		ref := t.Early
		if g.name == "go_memstats_heap_inuse_bytes" {
			ref *= soak.throughputGrowth()
		}
		t.Flat = len(early) >= 3 && len(late) >= 3 && l.Steady.allows(ref, t.Late)
		t.Back = len(after) > 0 && l.Back.allows(t.Baseline, t.End)
		if !t.Flat && len(early) >= 3 && len(late) >= 3 {
			soak.Problems = append(soak.Problems, fmt.Sprintf("%s grew under constant load: median %s in the second quarter, %s in the last (%+.0f%%, %s/min; %.0f then %.0f statements/s); limit %s",
				g.name, format(g.name, t.Early), format(g.name, t.Late), 100*t.Growth, format(g.name, t.SlopePerMinute), soak.EarlyRate, soak.LateRate, format(g.name, ref*(1+l.Steady.Rel)+l.Steady.Abs)))
		}
		if !t.Back && len(after) > 0 {
			soak.Problems = append(soak.Problems, fmt.Sprintf("%s did not come back after the sessions left: %s before the run, %s after %.0f s at rest; limit %s",
				g.name, format(g.name, t.Baseline), format(g.name, t.End), soak.SettleSeconds, format(g.name, t.Baseline*(1+l.Back.Rel)+l.Back.Abs)))
		}
		soak.Gauges = append(soak.Gauges, t)
	}
	soak.OK = len(soak.Problems) == 0
	return soak
}

// throughputGrowth is the last quarter's throughput over the second's, or
// 1 when it did not grow.
func (s *Soak) throughputGrowth() float64 {
	if s.EarlyRate <= 0 || s.LateRate <= s.EarlyRate {
		return 1
	}
	return s.LateRate / s.EarlyRate
}

// rate is the statements answered a second over the samples.
func rate(s []Sample) float64 {
	if len(s) < 2 {
		return 0
	}
	first, last := s[0], s[len(s)-1]
	if last.Seconds <= first.Seconds {
		return 0
	}
	return float64(last.Answered-first.Answered) / (last.Seconds - first.Seconds)
}

func trend(name string, get func(Sample) float64, base Sample, run, early, late, steady, after []Sample) Trend {
	t := Trend{Name: name, Baseline: get(base), Early: median(early, get), Late: median(late, get), SlopePerMinute: 60 * slope(steady, get)}
	if t.Early > 0 {
		t.Growth = (t.Late - t.Early) / t.Early
	}
	for _, s := range run {
		t.Peak = max(t.Peak, get(s))
	}
	if len(after) > 0 {
		t.End = get(after[len(after)-1])
	}
	return t
}

// window is the samples read from from to to seconds into the run.
func window(s []Sample, from, to float64) []Sample {
	var out []Sample
	for _, sm := range s {
		if sm.Seconds >= from && sm.Seconds <= to {
			out = append(out, sm)
		}
	}
	return out
}

func median(s []Sample, get func(Sample) float64) float64 {
	if len(s) == 0 {
		return 0
	}
	v := make([]float64, len(s))
	for i, sm := range s {
		v[i] = get(sm)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// slope is the least-squares slope of the gauge against time, a second.
func slope(s []Sample, get func(Sample) float64) float64 {
	if len(s) < 2 {
		return 0
	}
	var mx, my float64
	for _, sm := range s {
		mx += sm.Seconds
		my += get(sm)
	}
	mx /= float64(len(s))
	my /= float64(len(s))
	var sxy, sxx float64
	for _, sm := range s {
		sxy += (sm.Seconds - mx) * (get(sm) - my)
		sxx += (sm.Seconds - mx) * (sm.Seconds - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// format writes a gauge's value in its unit: MiB for the heap.
func format(name string, v float64) string {
	if name == "go_memstats_heap_inuse_bytes" {
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%.1f", v)
}

// write writes the verdict for people.
func (s *Soak) write(w io.Writer) error {
	verdict := "flat"
	if !s.OK {
		verdict = "NOT FLAT"
	}
	fmt.Fprintf(w, "\nsoak: %s (second quarter against last, %.0f then %.0f statements/s; back at rest %.0f s after the sessions left):\n",
		verdict, s.EarlyRate, s.LateRate, s.SettleSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "gauge\tbefore\tQ2 median\tQ4 median\tgrowth\tslope/min\tpeak\tafter\tflat\tback\t")
	for _, t := range s.Gauges {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.1f%%\t%s\t%s\t%s\t%s\t%s\t\n", t.Name, format(t.Name, t.Baseline), format(t.Name, t.Early), format(t.Name, t.Late),
			100*t.Growth, format(t.Name, t.SlopePerMinute), format(t.Name, t.Peak), format(t.Name, t.End), yes(t.Flat), yes(t.Back))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
