package load

import (
	"strings"
	"testing"
	"time"
)

// series is one sample a second over d seconds of run, the gauges given by
// functions of the second.
func series(d int, goroutines, heapMiB, fds func(s float64) float64) []Sample {
	var out []Sample
	for i := 0; i <= d; i++ {
		s := float64(i)
		out = append(out, Sample{Seconds: s, Goroutines: goroutines(s), HeapInuse: heapMiB(s) * (1 << 20), OpenFDs: fds(s), Sessions: 50})
	}
	return out
}

func constant(v float64) func(float64) float64 { return func(float64) float64 { return v } }

// sawtooth is a heap that grows by 100 MiB between collections, every 7 s.
func sawtooth(floor float64) func(float64) float64 {
	return func(s float64) float64 { return floor + 100*float64(int(s)%7)/6 }
}

func judgeSoak(t *testing.T, run, after []Sample) *Soak {
	t.Helper()
	c := &SoakConfig{}
	if err := c.setDefaults(&Config{MetricsURL: "http://x/metrics", Duration: 120 * time.Second}); err != nil {
		t.Fatal(err)
	}
	base := Sample{Goroutines: 13, HeapInuse: 9 << 20, OpenFDs: 17}
	return c.judge(120*time.Second, base, run, after, 5*time.Second)
}

var atRest = []Sample{{Seconds: 125, Goroutines: 13, HeapInuse: 17 << 20, OpenFDs: 17}}

func TestJudge_flat(t *testing.T) {
	run := series(120, func(s float64) float64 { return 200 + float64(int(s)%5)*10 }, sawtooth(150), constant(70))
	v := judgeSoak(t, run, atRest)
	if !v.OK || len(v.Problems) != 0 {
		t.Fatalf("flat run judged not flat: %v", v.Problems)
	}
	g := v.Gauges[0]
	if g.Name != "go_goroutines" || g.Baseline != 13 || g.Early != 220 || g.Late != 220 || g.Growth != 0 || g.Peak != 240 || g.End != 13 || !g.Flat || !g.Back {
		t.Errorf("goroutines trend %+v", g)
	}
	if fds := v.Gauges[2]; fds.SlopePerMinute != 0 || fds.Early != 70 {
		t.Errorf("open files trend %+v", fds)
	}
}

func TestJudge_growth(t *testing.T) {
	// Two goroutines and two files more every second: +120 a minute.
	leak := func(base float64) func(float64) float64 { return func(s float64) float64 { return base + 2*s } }
	run := series(120, leak(200), sawtooth(150), leak(70))
	v := judgeSoak(t, run, atRest)
	if v.OK {
		t.Fatal("growing goroutines and files judged flat")
	}
	for i, name := range []string{"go_goroutines", "process_open_fds"} {
		g := v.Gauges[[]int{0, 2}[i]]
		if g.Name != name || g.Flat || g.SlopePerMinute < 119.9 || g.SlopePerMinute > 120.1 || g.Growth <= 0.25 {
			t.Errorf("%s trend %+v: want not flat, slope 120/min", name, g)
		}
		if !hasProblem(v, name+" grew under constant load") {
			t.Errorf("no problem names %s's growth: %v", name, v.Problems)
		}
	}
	if !v.Gauges[1].Flat {
		t.Errorf("the flat heap judged growing: %+v", v.Gauges[1])
	}
}

func TestJudge_heapGrowth(t *testing.T) {
	// The floor under the saw-tooth rises 2 MiB a second.
	run := series(120, constant(200), func(s float64) float64 { return sawtooth(150)(s) + 2*s }, constant(70))
	v := judgeSoak(t, run, atRest)
	if v.OK || v.Gauges[1].Flat || !hasProblem(v, "go_memstats_heap_inuse_bytes grew") {
		t.Fatalf("growing heap judged flat: %+v %v", v.Gauges[1], v.Problems)
	}
}

// answering sets each sample's count of answered statements, perSecond(s)
// a second.
func answering(run []Sample, perSecond func(s float64) float64) []Sample {
	var n float64
	for i := 1; i < len(run); i++ {
		n += perSecond(run[i].Seconds) * (run[i].Seconds - run[i-1].Seconds)
		run[i].Answered = int64(n)
	}
	return run
}

// The heap follows the throughput: 40% more heap is flat when 50% more
// statements are answered a second, not when the throughput fell.
func TestJudge_heapFollowsThroughput(t *testing.T) {
	heap := func(s float64) float64 {
		if s < 60 {
			return 200
		}
		return 280
	}
	step := func(from, to float64) func(float64) float64 {
		return func(s float64) float64 {
			if s <= 60 {
				return from
			}
			return to
		}
	}
	v := judgeSoak(t, answering(series(120, constant(200), heap, constant(70)), step(500, 750)), atRest)
	if !v.OK || v.EarlyRate != 500 || v.LateRate != 750 {
		t.Errorf("heap grown with the throughput judged not flat: rates %.0f, %.0f; %v", v.EarlyRate, v.LateRate, v.Problems)
	}
	v = judgeSoak(t, answering(series(120, constant(200), heap, constant(70)), step(750, 500)), atRest)
	if v.OK || v.Gauges[1].Flat || !hasProblem(v, "go_memstats_heap_inuse_bytes grew") {
		t.Errorf("heap grown while the throughput fell judged flat: %+v", v.Gauges[1])
	}
}

func TestJudge_notBack(t *testing.T) {
	run := series(120, constant(200), sawtooth(150), constant(70))
	after := []Sample{{Seconds: 270, Goroutines: 113, HeapInuse: 80 << 20, OpenFDs: 21}}
	v := judgeSoak(t, run, after)
	if v.OK {
		t.Fatal("gauges that stayed up judged back")
	}
	for _, g := range v.Gauges {
		if !g.Flat || g.Back {
			t.Errorf("%s: %+v: want flat under load, not back", g.Name, g)
		}
		if !hasProblem(v, g.Name+" did not come back") {
			t.Errorf("no problem names %s: %v", g.Name, v.Problems)
		}
	}
	// Within the limits: 3 goroutines and files more, twice the heap and 16 MiB.
	c := &SoakConfig{Limits: DefaultLimits()}
	base := Sample{Goroutines: 13, HeapInuse: 9 << 20, OpenFDs: 17}
	if !c.back(base, Sample{Goroutines: 16, HeapInuse: 34 << 20, OpenFDs: 20}) {
		t.Error("gauges at their limits judged not back")
	}
	if c.back(base, Sample{Goroutines: 17, HeapInuse: 9 << 20, OpenFDs: 17}) || c.back(base, Sample{Goroutines: 13, HeapInuse: 35 << 20, OpenFDs: 17}) {
		t.Error("a gauge past its limit judged back")
	}
}

func TestJudge_tooFewSamples(t *testing.T) {
	run := series(120, constant(200), sawtooth(150), constant(70))
	v := judgeSoak(t, run[:40], nil)
	if v.OK || !hasProblem(v, "too few /metrics samples") || !hasProblem(v, "no /metrics sample after") {
		t.Fatalf("a run without steady samples and no sample at rest judged: %v", v.Problems)
	}
	for _, g := range v.Gauges {
		if g.Flat || g.Back {
			t.Errorf("%s judged without samples: %+v", g.Name, g)
		}
	}
}

func TestSoakConfig_needs(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Duration: time.Minute}, "MetricsURL is required"},
		{Config{MetricsURL: "u", Statements: 10}, "without a Statements budget"},
		{Config{MetricsURL: "u", Duration: time.Minute, Ramp: 20 * time.Second}, "first quarter"},
	} {
		c := &SoakConfig{Limits: map[string]GaugeLimits{}}
		if err := c.setDefaults(&tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	c := &SoakConfig{Limits: map[string]GaugeLimits{"go_threads": {}}}
	if err := c.setDefaults(&Config{MetricsURL: "u", Duration: time.Minute}); err == nil || !strings.Contains(err.Error(), `no gauge "go_threads"`) {
		t.Errorf("unknown gauge: %v", err)
	}
}

func hasProblem(v *Soak, prefix string) bool {
	for _, p := range v.Problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
