package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLI_serveDrainsOnSIGTERM: `snowgate serve` told to stop (SIGTERM, as
// Kubernetes does) lets a statement that is running reach its client
// (the real gosnowflake driver), then exits 0 with its audit trail flushed,
// checkpointed and verifiable.
func TestCLI_serveDrainsOnSIGTERM(t *testing.T) {
	sv := startServe(t)
	db := sv.open(t, "analyst")
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		n   int64
		err error
	}
	slow := make(chan answer, 1)
	go func() {
		var a answer
		a.err = db.QueryRow(`SELECT count(*) FROM orders a, orders b, orders c, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) d
			WHERE a.amount + b.amount > c.amount + d.k`).Scan(&a.n)
		slow <- a
	}()
	time.Sleep(300 * time.Millisecond)
	if err := sv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-slow:
		if a.err != nil || a.n == 0 {
			t.Fatalf("the statement running at SIGTERM: %d, %v; want its result", a.n, a.err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the statement running at SIGTERM got no answer")
	}
	select {
	case <-sv.exited:
		if sv.err != nil {
			t.Fatalf("snowgate serve exited with %v after SIGTERM, want 0", sv.err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("snowgate serve did not exit after SIGTERM")
	}
	// Verified, and the last checkpoint covers the last record: nothing
	// rests on the hash chain alone.
	out, err := snowgate(t, "audit", "verify", "--db", sv.dir+"/audit.db")
	if err != nil || !strings.Contains(out, "checkpoints") || strings.Contains(out, "rest on the hash chain alone") {
		t.Fatalf("audit verify after the drain: %v\n%s", err, out)
	}
}
