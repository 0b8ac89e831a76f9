package proxy_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
)

// TestDrain: a gateway told to stop takes no new logins or statements
// (HTTP 503, which drivers retry), answers a statement held for approval
// at once with "run it again" while its request stays in the store, and
// waits until a running statement's result — its spooled chunks included
// — has reached the real driver before it reports drained.
func TestDrain(t *testing.T) {
	st := startStack(t, "", proxy.Config{PingPong: 300 * time.Millisecond, ChunkBytes: 64 << 10, InlineBytes: 16 << 10})
	analyst := openDB(t, st, "analyst")
	if err := analyst.Ping(); err != nil {
		t.Fatal(err)
	}

	// A person's DELETE, held for approval.
	held := make(chan error, 1)
	go func() { _, err := analyst.Exec(`DELETE FROM orders`); held <- err }()
	req := pending(t, st)

	// A slow statement (seconds on the stand-in), and a large result in
	// spooled chunks.
	slow := make(chan error, 1)
	var n int64
	go func() {
		slow <- analyst.QueryRow(`SELECT count(*) FROM orders a, orders b, orders c, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) d WHERE a.amount + b.amount > c.amount + d.k`).Scan(&n)
	}()
	rows, err := analyst.Query(`SELECT id, event_type, payload FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)

	drained := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() { drained <- st.Gateway.Drain(ctx) }()

	// New work is refused with a status drivers retry.
	time.Sleep(50 * time.Millisecond)
	resp, err := http.Post("http://"+st.GatewayAddr+"/session/v1/login-request", "application/json", strings.NewReader(`{"data":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("login while draining: HTTP %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// Readiness fails, so that a load balancer sends new sessions elsewhere.
	ready, err := http.Get("http://" + st.AdminAddr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(ready.Body)
	ready.Body.Close()
	if ready.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(rb), "draining") {
		t.Errorf("/readyz while draining: HTTP %d %s", ready.StatusCode, rb)
	}

	// The held statement is answered at once; its request stays.
	select {
	case err := <-held:
		if err == nil || !strings.Contains(err.Error(), "run the statement again") {
			t.Errorf("held DELETE while draining: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the held statement was not answered while draining")
	}
	if r, err := st.Approvals.Get(context.Background(), req.ID); err != nil || r.State != approval.Pending {
		t.Errorf("approval request after the drain began: %+v, %v; want it pending", r, err)
	}

	// Not drained while a statement runs.
	select {
	case err := <-drained:
		t.Fatalf("drained (%v) while a statement ran", err)
	case err := <-slow:
		t.Fatalf("the slow statement ended (%v) before the test could see the drain wait", err)
	case <-time.After(300 * time.Millisecond):
	}
	read := 0
	for rows.Next() {
		read++
	}
	if err := rows.Err(); err != nil || read != 2000 {
		t.Fatalf("large result while draining: %d rows, %v; want 2000", read, err)
	}
	rows.Close()
	if err := <-slow; err != nil || n == 0 {
		t.Fatalf("slow statement while draining: %d, %v", n, err)
	}
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("not drained after every answer reached its client")
	}
}

// A REST API read runs statements: while draining it is refused like a
// query request.
func TestDrain_refusesRESTReads(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := st.Gateway.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + st.GatewayAddr + "/api/v2/databases/DEMO")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("REST read while draining: HTTP %d, want 503", resp.StatusCode)
	}
}
