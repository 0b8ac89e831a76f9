package load

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// maxErrorSamples is how many error messages a class keeps per code.
const maxErrorSamples = 3

// classStats collects one statement class's (or the logins') outcomes.
type classStats struct {
	name, expect string
	mu           sync.Mutex
	latencies    []time.Duration
	outcomes     map[string]int64
	codes        map[string]int64
	samples      map[string][]string
	unexpected   int64
}

func newClassStats(name, expect string) *classStats {
	return &classStats{name: name, expect: expect, outcomes: map[string]int64{}, codes: map[string]int64{}, samples: map[string][]string{}}
}

func (s *classStats) record(d time.Duration, outcome, code string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, d)
	s.outcomes[outcome]++
	if code != "" {
		s.codes[code]++
	}
	unexpected := s.expect != "" && outcome != s.expect
	if unexpected {
		s.unexpected++
	}
	if (outcome == Error || unexpected) && err != nil && len(s.samples[code]) < maxErrorSamples {
		s.samples[code] = append(s.samples[code], err.Error())
	}
}

// Class is one statement class's figures.
type Class struct {
	Name   string `json:"name"`
	Expect string `json:"expect,omitempty"`
	Sent   int64  `json:"sent"`
	// Outcomes counts by outcome: allowed, masked, denied, ticketed, error.
	Outcomes map[string]int64 `json:"outcomes"`
	// Codes counts the Snowflake codes answered (denials and tickets
	// included), and "client" for failures that were not the gateway's
	// answer, "mask-check" for values that came back unmasked.
	Codes map[string]int64 `json:"codes,omitempty"`
	// ErrorSamples holds a few messages of the errors and of the
	// unexpected outcomes, by code.
	ErrorSamples map[string][]string `json:"error_samples,omitempty"`
	// Unexpected counts statements whose outcome was not Expect.
	Unexpected int64   `json:"unexpected"`
	Latency    Latency `json:"latency_ms"`
}

// Latency percentiles, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func (s *classStats) class() Class {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Class{Name: s.name, Expect: s.expect, Sent: int64(len(s.latencies)), Outcomes: maps.Clone(s.outcomes),
		Codes: maps.Clone(s.codes), Unexpected: s.unexpected}
	if len(s.samples) > 0 {
		c.ErrorSamples = maps.Clone(s.samples)
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	c.Latency = Latency{P50: pct(l, 50), P90: pct(l, 90), P99: pct(l, 99), Max: pct(l, 100)}
	return c
}

// pct is the nearest-rank percentile of sorted durations, in ms.
func pct(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted) + 99) / 100
	i = min(max(i, 1), len(sorted))
	return float64(sorted[i-1].Microseconds()) / 1000
}

// Report is a run's result.
type Report struct {
	Sessions        int              `json:"sessions"`
	Seconds         float64          `json:"seconds"`
	Sent            int64            `json:"statements"`
	PerSecond       float64          `json:"statements_per_second"`
	Allowed         int64            `json:"allowed"`
	Masked          int64            `json:"masked"`
	Denied          int64            `json:"denied"`
	Ticketed        int64            `json:"ticketed"`
	Errors          int64            `json:"errors"`
	Unexpected      int64            `json:"unexpected"`
	Codes           map[string]int64 `json:"codes"`
	Classes         []Class          `json:"classes"`
	Logins          Class            `json:"logins"`
	Metrics         []Sample         `json:"gateway_metrics,omitempty"`
	MetricsFailures int              `json:"gateway_metrics_failures,omitempty"`
	Soak            *Soak            `json:"soak,omitempty"`
}

func (r *runner) report(elapsed time.Duration, scr *scraper) *Report {
	rep := &Report{Sessions: r.cfg.Sessions, Seconds: elapsed.Seconds(), Codes: map[string]int64{}, Logins: r.logins.class()}
	for _, s := range r.cfg.Mix {
		if slices.ContainsFunc(rep.Classes, func(c Class) bool { return c.Name == s.Class }) {
			continue
		}
		c := r.classes[s.Class].class()
		rep.Classes = append(rep.Classes, c)
		rep.Sent += c.Sent
		rep.Allowed += c.Outcomes[Allowed]
		rep.Masked += c.Outcomes[Masked]
		rep.Denied += c.Outcomes[Denied]
		rep.Ticketed += c.Outcomes[Ticketed]
		rep.Errors += c.Outcomes[Error]
		rep.Unexpected += c.Unexpected
		for code, n := range c.Codes {
			rep.Codes[code] += n
		}
	}
	if elapsed > 0 {
		rep.PerSecond = float64(rep.Sent) / elapsed.Seconds()
	}
	if scr != nil {
		rep.Metrics, rep.MetricsFailures = scr.samples, scr.failures
	}
	return rep
}

// WriteTable writes the report for people.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d sessions, %.1f s: %d statements, %.1f/s; %d logins, %d failed\n\n",
		rep.Sessions, rep.Seconds, rep.Sent, rep.PerSecond, rep.Logins.Sent, rep.Logins.Outcomes[Error])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tsent\tallowed\tmasked\tdenied\tticketed\terrors\tunexpected\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	row := func(c Class) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", c.Name, c.Sent,
			c.Outcomes[Allowed], c.Outcomes[Masked], c.Outcomes[Denied], c.Outcomes[Ticketed], c.Outcomes[Error], c.Unexpected,
			c.Latency.P50, c.Latency.P90, c.Latency.P99, c.Latency.Max)
	}
	for _, c := range rep.Classes {
		row(c)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\t\t\t\t\n", rep.Sent, rep.Allowed, rep.Masked, rep.Denied, rep.Ticketed, rep.Errors, rep.Unexpected)
	row(rep.Logins)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nSnowflake codes:")
	codes := rep.Logins.Codes
	all := maps.Clone(rep.Codes)
	for c, n := range codes {
		all["login "+c] += n
	}
	if len(all) == 0 {
		fmt.Fprint(w, " none")
	}
	for _, c := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(w, " %s %d;", c, all[c])
	}
	fmt.Fprintln(w)
	for _, c := range append(slices.Clone(rep.Classes), rep.Logins) {
		for _, code := range slices.Sorted(maps.Keys(c.ErrorSamples)) {
			for _, m := range c.ErrorSamples[code] {
				fmt.Fprintf(w, "  %s %s: %s\n", c.Name, code, m)
			}
		}
	}
	if err := rep.writeMetrics(w); err != nil {
		return err
	}
	if rep.Soak != nil {
		return rep.Soak.write(w)
	}
	return nil
}

// writeMetrics writes the gateway's gauges read under load.
func (rep *Report) writeMetrics(w io.Writer) error {
	if len(rep.Metrics) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\ngateway (admin /metrics, %d samples, %d failed scrapes):\n", len(rep.Metrics), rep.MetricsFailures)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "s\tgoroutines\theap in use MiB\topen fds\tsessions\t")
	for _, s := range thin(rep.Metrics, 12) {
		fmt.Fprintf(tw, "%.1f\t%.0f\t%.1f\t%.0f\t%.0f\t\n", s.Seconds, s.Goroutines, s.HeapInuse/(1<<20), s.OpenFDs, s.Sessions)
	}
	mx := func(f func(Sample) float64) float64 {
		return f(slices.MaxFunc(rep.Metrics, func(a, b Sample) int { return cmp.Compare(f(a), f(b)) }))
	}
	fmt.Fprintf(tw, "max\t%.0f\t%.1f\t%.0f\t%.0f\t\n", mx(func(s Sample) float64 { return s.Goroutines }),
		mx(func(s Sample) float64 { return s.HeapInuse })/(1<<20), mx(func(s Sample) float64 { return s.OpenFDs }), mx(func(s Sample) float64 { return s.Sessions }))
	return tw.Flush()
}

// thin picks at most n samples, evenly spaced, the first and last included.
func thin(s []Sample, n int) []Sample {
	if len(s) <= n {
		return s
	}
	out := make([]Sample, 0, n)
	for i := range n {
		out = append(out, s[i*(len(s)-1)/(n-1)])
	}
	return out
}
