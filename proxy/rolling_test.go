package proxy_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
)

// balancer is a layer-4 load balancer as a Kubernetes Service with
// kube-proxy is one (a hand-written stand-in: no cluster runs here): each
// new TCP connection goes to the first backend whose /readyz answers 200,
// and an established connection stays with its backend until either side
// closes it.
type balancer struct {
	ln       net.Listener
	backends []backend
	mu       sync.Mutex
	routed   map[string]int // connections per backend
}

type backend struct{ gateway, admin string }

func newBalancer(t *testing.T, backends ...backend) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, backends: backends, routed: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serve(c)
		}
	}()
	return b
}

func (b *balancer) serve(c net.Conn) {
	defer c.Close()
	for _, be := range b.backends {
		resp, err := http.Get("http://" + be.admin + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			continue
		}
		up, err := net.Dial("tcp", be.gateway)
		if err != nil {
			continue
		}
		b.mu.Lock()
		b.routed[be.gateway]++
		b.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		return
	}
}

// TestReplicas_rollingRestart: two replicas on one PostgreSQL behind the
// balancer; replica A is told to stop while the real gosnowflake driver
// runs a statement on it and reads a large result. Every answer it had
// coming reaches it — the running statement's result and every row of the
// large result, whose chunks it fetches on new connections that the
// balancer sends to replica B once A is not ready — and what it sends
// afterwards fails in a way it can retry: its session was A's, and a new
// session, on B, runs. Nothing is acknowledged and lost.
func TestReplicas_rollingRestart(t *testing.T) {
	dsn := pgtest.DSN(t, "rolling")
	st := startStack(t, "", proxy.Config{})
	ctx := context.Background()
	gws := map[string]*proxy.Server{}
	var backends []backend
	for _, name := range []string{"a", "b"} {
		r := startReplica(t, st, dsn, name, proxy.Config{PingPong: 300 * time.Millisecond, InlineBytes: 4 << 10, ChunkBytes: 2 << 10})
		gws[name] = r.gw
		backends = append(backends, backend{gateway: r.gateway, admin: r.admin})
	}
	lb := newBalancer(t, backends...)
	db := openAt(t, st, lb.ln.Addr().String(), "analyst", "DEMO/PUBLIC")
	conn, err := db.Conn(ctx) // one session, which lands on A
	if err != nil {
		t.Fatal(err)
	}

	type answer struct {
		n   int64
		err error
	}
	slow := make(chan answer, 1)
	go func() {
		var a answer
		a.err = conn.QueryRowContext(ctx, `SELECT count(*) FROM orders a, orders b, orders c, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) d
			WHERE a.amount + b.amount > c.amount + d.k`).Scan(&a.n)
		slow <- a
	}()
	// And, on a second session of A, a slow statement whose result is
	// larger than the gateway sends inline (chunks are fetched on new
	// connections, which the balancer sends to B once A is not ready: a
	// draining gateway sends what it makes whole).
	conn2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	large := make(chan answer, 1)
	go func() {
		var a answer
		rows, err := conn2.QueryContext(ctx, `SELECT c.id, count(*) FROM orders a, orders b, orders c WHERE a.amount + b.amount > c.amount GROUP BY c.id`)
		if err != nil {
			large <- answer{err: err}
			return
		}
		defer rows.Close()
		for rows.Next() {
			a.n++
		}
		a.err = rows.Err()
		large <- a
	}()
	time.Sleep(200 * time.Millisecond)
	drained := make(chan error, 1)
	go func() {
		dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		drained <- gws["a"].Drain(dctx)
	}()

	a := <-slow
	if a.err != nil || a.n == 0 {
		t.Fatalf("the statement running on A when it began to stop: %d, %v; want its result", a.n, a.err)
	}
	if a := <-large; a.err != nil || a.n != 1000 {
		t.Fatalf("the large result made on A while it stopped: %d rows, %v; want 1000", a.n, a.err)
	}
	if err := <-drained; err != nil {
		t.Fatalf("A's drain: %v", err)
	}

	// The session was A's: what the client sends on it now fails, and it
	// can retry on a new session, which the balancer gives to B.
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM orders`).Scan(&n); err == nil {
		t.Fatal("A's session took a new statement after A drained")
	}
	conn.Close()
	fresh := openAt(t, st, lb.ln.Addr().String(), "analyst", "DEMO/PUBLIC")
	if err := fresh.QueryRow(`SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("a new session after A stopped: %d, %v", n, err)
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.routed[backends[1].gateway] == 0 {
		t.Errorf("the balancer sent nothing to B: %v", lb.routed)
	}
}
