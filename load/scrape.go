package load

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sample is one reading of the gateway's admin /metrics.
type Sample struct {
	Seconds    float64 `json:"s"` // since the run started
	Goroutines float64 `json:"go_goroutines"`
	HeapInuse  float64 `json:"go_memstats_heap_inuse_bytes"`
	OpenFDs    float64 `json:"process_open_fds"`
	Sessions   float64 `json:"snowgate_sessions"`
	// Answered is how many of the load's statements had been answered by then.
	Answered int64 `json:"answered"`
}

// scraper reads /metrics at an interval; its fields are read after loop returns.
type scraper struct {
	url      string
	start    time.Time
	answered *atomic.Int64 // the run's count of answered statements, if any
	client   http.Client
	samples  []Sample
	failures int
}

// loop scrapes now, at every tick until stop closes or ctx ends, and once more at the end.
func (s *scraper) loop(ctx context.Context, every time.Duration, stop <-chan struct{}) {
	s.client.Timeout = 10 * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.scrape(ctx)
		select {
		case <-t.C:
		case <-stop:
			s.scrape(ctx)
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *scraper) scrape(ctx context.Context) {
	sm, err := s.read(ctx)
	if err != nil {
		s.failures++
		return
	}
	s.samples = append(s.samples, sm)
}

func (s *scraper) read(ctx context.Context) (Sample, error) {
	sm := Sample{Seconds: time.Since(s.start).Seconds()}
	if s.answered != nil {
		sm.Answered = s.answered.Load()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return sm, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return sm, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sm, fmt.Errorf("%s: HTTP %d", s.url, resp.StatusCode)
	}
	want := map[string]*float64{
		"go_goroutines": &sm.Goroutines, "go_memstats_heap_inuse_bytes": &sm.HeapInuse,
		"process_open_fds": &sm.OpenFDs, "snowgate_sessions": &sm.Sessions,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if p := want[name]; ok && p != nil {
			if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
				*p = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return sm, err
	}
	return sm, nil
}
