package proxy_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// TestClosed_nothingKept: once a stack that ran statements is closed,
// nothing of it stays reachable: not the gateway, not the stand-in its
// sessions used, and so none of their results. A timer, goroutine or
// global that outlives a statement and points back into the gateway
// keeps every result it ran in memory; the abandonment watcher did, for
// AbandonAfter after each statement. AbandonAfter is an hour here, so a
// watcher left running would keep them past the test.
func TestClosed_nothingKept(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{Gateway: proxy.Config{AbandonAfter: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, st, "analyst")
	for range 3 {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	collected := map[string]chan struct{}{"gateway": make(chan struct{}), "stand-in": make(chan struct{})}
	runtime.AddCleanup(st.Gateway, func(c chan struct{}) { close(c) }, collected["gateway"])
	runtime.AddCleanup(st.Standin, func(c chan struct{}) { close(c) }, collected["stand-in"])
	st.Close()
	st = nil

	for name, c := range collected {
		// Collections until it goes: what a finalizer alone keeps takes
		// one more after the finalizer has run.
		for i := 0; ; i++ {
			runtime.GC()
			select {
			case <-c:
			case <-time.After(20 * time.Millisecond):
				if i < 100 {
					continue
				}
				t.Fatalf("the closed stack's %s is still reachable after %d collections", name, i)
			}
			break
		}
	}
}
