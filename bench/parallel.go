package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// clients is how many goroutines the parallel row runs.
const clients = 64

// parallel measures the small SELECT's rate with 64 clients, each its own
// gosnowflake connection (and gateway session), next to the rate of a
// trivial net/http handler on loopback hit by 64 goroutines, and to the
// same clients' rate straight to the stand-in: the ceiling the driver and
// the upstream leave any gateway on these cores.
func (r *runner) parallel(ctx context.Context) ([]Row, error) {
	st, err := startStack(ctx, "", proxy.Config{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	gw, err := r.clientsParallel(ctx, func() (*sql.DB, error) { return openGateway(st, "analyst") })
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	direct, err := r.clientsParallel(ctx, func() (*sql.DB, error) { return openDirect(st) })
	if err != nil {
		return nil, fmt.Errorf("direct: %w", err)
	}
	lo, err := r.loopbackParallel(ctx)
	if err != nil {
		return nil, fmt.Errorf("loopback: %w", err)
	}
	x, err := ratio(gw, lo)
	if err != nil {
		return nil, err
	}
	xd, err := ratio(direct, lo)
	if err != nil {
		return nil, err
	}
	return []Row{{
		Name:     "parallel",
		What:     fmt.Sprintf("%d clients in parallel: per second", clients),
		Snowgate: fmt.Sprintf("small SELECT through the gateway (durable audit), gosnowflake: %s statements/s", fmtCount(gw)),
		Baseline: fmt.Sprintf("trivial net/http handler on 127.0.0.1: %s requests/s", fmtCount(lo)),
		Ratio:    fmt.Sprintf("%s%% (gateway ÷ loopback hop)", sig3(100*x)),
		Note: fmt.Sprintf("each client its own connection; client, gateway and stand-in share the cores; the same clients straight to the stand-in: %s statements/s, %s%% of the loopback hop",
			fmtCount(direct), sig3(100*xd)),
		Figures: []float64{gw, lo, x, direct, xd},
	}}, nil
}

// clientsParallel runs the small SELECT on 64 connections of the database
// open opens, at once.
func (r *runner) clientsParallel(ctx context.Context, open func() (*sql.DB, error)) (float64, error) {
	db, err := open()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	conns := make([]*sql.Conn, 0, clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range clients {
		c, err := db.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("connection %d: %w", len(conns), err)
		}
		conns = append(conns, c)
		if err := querySmall(ctx, c); err != nil { // log in and warm
			return 0, err
		}
	}
	return inParallel(r.cfg.Time, clients, func(i int) error { return querySmall(ctx, conns[i]) })
}

func (r *runner) loopbackParallel(ctx context.Context) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c := newHTTPClient(clients)
	defer c.close()
	url := "http://" + ln.Addr().String() + "/"
	get := func(int) error { return c.get(ctx, url) }
	if err := get(0); err != nil {
		return 0, err
	}
	return inParallel(r.cfg.Time, clients, get)
}

// inParallel runs op in n goroutines (op(i) in the i-th) until d has passed
// and returns how many ran per second.
func inParallel(d time.Duration, n int, op func(i int) error) (float64, error) {
	var done atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := op(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}
