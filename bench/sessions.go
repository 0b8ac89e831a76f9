package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// loginWorkers is how many goroutines log the idle sessions in, as
// BenchmarkIdleSessions does.
const loginWorkers = 16

// gauges are this process's live Go heap and goroutines.
type gauges struct {
	heap       float64
	goroutines float64
}

// readGauges collects until the live heap stops shrinking, then reads it.
// One collection is not enough: what sync.Pools hold is only freed by the
// second, and an object with a finalizer (a file, a DuckDB connection of
// an earlier row's stack) only after its finalizer has run, with what it
// alone kept alive a collection later still. Read too soon, such memory
// freed between two readings made the sessions look as if they freed
// memory. HeapAlloc after a collection is the live heap in bytes.
func readGauges() gauges {
	var ms runtime.MemStats
	last := uint64(math.MaxUint64)
	for range 20 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc >= last-last/1000 {
			break
		}
		last = ms.HeapAlloc
		time.Sleep(5 * time.Millisecond) // the finalizers' goroutine runs
	}
	return gauges{heap: float64(ms.HeapAlloc), goroutines: float64(runtime.NumGoroutine())}
}

// sessions logs Sessions sessions in on a dev stack's gateway with raw
// login requests, leaves them idle for Settle and reports what each costs
// this process: live Go heap and goroutines, from before the logins.
func (r *runner) sessions(ctx context.Context) ([]Row, error) {
	st, err := startStack(ctx, "", proxy.Config{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	tok, err := st.Issuer.Token("analyst")
	if err != nil {
		return nil, fmt.Errorf("dev token: %w", err)
	}
	c := newRawClient(st.GatewayAddr, loginWorkers)
	if _, err := c.login(ctx, tok); err != nil { // warm: what every later login shares
		return nil, err
	}
	c.http.CloseIdleConnections()
	if err := sleep(ctx, time.Second); err != nil {
		return nil, err
	}
	before := readGauges()
	n := r.cfg.Sessions
	took, err := loginMany(ctx, c, tok, n)
	if err != nil {
		return nil, err
	}
	c.http.CloseIdleConnections()
	r.log.Info("sessions logged in; settling", "sessions", n, "logins/s", int(float64(n)/took.Seconds()), "settle", r.cfg.Settle)
	if err := sleep(ctx, r.cfg.Settle); err != nil {
		return nil, err
	}
	after := readGauges()
	heap := (after.heap - before.heap) / float64(n)
	gor := (after.goroutines - before.goroutines) / float64(n)
	return []Row{{
		Name: "sessions",
		What: fmt.Sprintf("%s idle sessions: per session", fmtInt(int64(n))),
		Snowgate: fmt.Sprintf("%s of live Go heap, %.2f goroutines (%s MiB, %+.0f goroutines in all)",
			fmtBytes(heap), gor, sig3((after.heap-before.heap)/(1<<20)), after.goroutines-before.goroutines),
		Note: fmt.Sprintf("in-process: gateway, stand-in and client in this process, the stand-in the gateway's upstream without an HTTP connection a session; "+
			"measured %s after %s logins/s from %d workers; the out-of-process figure (a real `snowgate serve`, resident memory too) is BenchmarkIdleSessions in ./cmd/snowgate",
			r.cfg.Settle, fmtCount(float64(n)/took.Seconds()), loginWorkers),
		// Goroutines are not among the figures: in-process, a session
		// may well hold none.
		Figures: []float64{heap, float64(n)},
	}}, nil
}

// loginMany logs n sessions in from loginWorkers goroutines and returns how
// long that took.
func loginMany(ctx context.Context, c *rawClient, tok string, n int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, loginWorkers)
	start := time.Now()
	for range loginWorkers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := c.login(ctx, tok); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
