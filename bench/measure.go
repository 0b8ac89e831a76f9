package bench

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// latencies is a sample of operation times.
type latencies []time.Duration

// quantile is the q-quantile (0 < q < 1) of the sample, nearest rank.
func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(q * float64(len(s)))
	return s[min(i, len(s)-1)]
}

func (l latencies) median() time.Duration { return l.quantile(0.5) }

// alternate runs each op once in turn, round after round, until d has
// passed and every op ran at least once, so that a noisy machine weighs on
// all of them alike. It returns each op's times.
func alternate(d time.Duration, ops ...func() error) ([]latencies, error) {
	out := make([]latencies, len(ops))
	end := time.Now().Add(d)
	for len(out[0]) == 0 || time.Now().Before(end) {
		for i, op := range ops {
			start := time.Now()
			if err := op(); err != nil {
				return nil, err
			}
			out[i] = append(out[i], time.Since(start))
		}
	}
	return out, nil
}

// loop runs op until d has passed, at least once, and returns how many
// times it ran and how long that took.
func loop(d time.Duration, op func() error) (int, time.Duration, error) {
	start := time.Now()
	n := 0
	for n == 0 || time.Since(start) < d {
		if err := op(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(start), nil
}

// perOp is the mean time of op over d.
func perOp(d time.Duration, op func() error) (time.Duration, error) {
	n, took, err := loop(d, op)
	if err != nil {
		return 0, err
	}
	return took / time.Duration(n), nil
}

// allocsPerOp is the mean number of heap allocations of op over n runs.
func allocsPerOp(n int, op func() error) (float64, error) {
	if err := op(); err != nil { // warm: pools and caches
		return 0, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.Mallocs
	for range n {
		if err := op(); err != nil {
			return 0, err
		}
	}
	runtime.ReadMemStats(&ms)
	return float64(ms.Mallocs-before) / float64(n), nil
}

// ratio is a ÷ b, or an error when b is zero.
func ratio(a, b float64) (float64, error) {
	if b == 0 {
		return 0, fmt.Errorf("ratio %g ÷ 0", a)
	}
	return a / b, nil
}
