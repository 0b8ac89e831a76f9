package bundles

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// replica is one gateway's engine with its running poller.
type replica struct {
	eng    *engine.Engine
	poller *Poller
	stop   func()
}

// startReplica runs a poller for src over a fresh NoPolicy engine.
func startReplica(t testing.TB, src Source, v *Verifier, dir, pin string, interval time.Duration) *replica {
	t.Helper()
	eng := newEngine(t)
	p, err := NewPoller(PollerOptions{
		Source: src, Verifier: v, Engine: eng, Dir: dir, Pin: pin, Interval: interval,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	r := &replica{eng: eng, poller: p}
	var stopped bool
	r.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(r.stop)
	return r
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// enforcing reports whether r's engine decides with revision rev and action.
func (r *replica) enforcing(rev string, action engine.Action) bool {
	d := decide(r.eng)
	return d.Revision == rev && d.Action == action
}

// assertServing fails unless r enforces rev with action.
func (r *replica) assertServing(t testing.TB, rev string, action engine.Action) {
	t.Helper()
	if d := decide(r.eng); d.Revision != rev || d.Action != action {
		t.Fatalf("engine decides %s at revision %q (%v), want %s at %q", d.Action, d.Revision, d.Reasons, action, rev)
	}
	if got := r.poller.Revision(); got != rev {
		t.Fatalf("poller reports revision %q, want %q", got, rev)
	}
}

// waitRejected waits until the poller has refused one more bundle, and
// returns the error it reported.
func (r *replica) waitRejected(t testing.TB, failures int64) string {
	t.Helper()
	waitFor(t, 20*time.Second, "the poller to refuse the bundle", func() bool { return r.poller.Status().Failures > failures })
	return r.poller.Status().LastError
}

func TestPoller_Registry(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	trusted := newKey(t, "rsa", "policy-2026")
	v := verifier(t, trusted)
	dir := t.TempDir()
	repo := reg.repo("snowgate/policy:prod")
	push := func(raw []byte) {
		t.Helper()
		if _, err := repo.Push(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}

	push(signedBundle(t, "allow", "r1", trusted))
	gw := startReplica(t, reg.repo("snowgate/policy:prod"), v, dir, "", 100*time.Millisecond)
	waitFor(t, 20*time.Second, "r1 to be enforced", func() bool { return gw.enforcing("r1", engine.ActionAllow) })

	push(signedBundle(t, "deny", "r2", trusted))
	waitFor(t, 20*time.Second, "r2 to be enforced", func() bool { return gw.enforcing("r2", engine.ActionDeny) })
	gw.assertServing(t, "r2", engine.ActionDeny)

	t.Run("tampered", func(t *testing.T) {
		// r3 is signed, then its policy is edited from deny to allow.
		tampered := rewriteTar(t, signedBundle(t, "deny", "r3", trusted), func(name string, data []byte) []byte {
			if strings.HasSuffix(name, "decision.rego") {
				return []byte(strings.ReplaceAll(string(data), `"deny"`, `"allow"`))
			}
			return data
		}, nil)
		failures := gw.poller.Status().Failures
		push(tampered)
		if msg := gw.waitRejected(t, failures); !strings.Contains(msg, "digest mismatch") {
			t.Errorf("last error %q, want a digest mismatch", msg)
		}
		gw.assertServing(t, "r2", engine.ActionDeny)
	})
	t.Run("unknown key", func(t *testing.T) {
		failures := gw.poller.Status().Failures
		push(signedBundle(t, "allow", "r4", newKey(t, "ec", "attacker")))
		if msg := gw.waitRejected(t, failures); !strings.Contains(msg, "attacker not found") {
			t.Errorf("last error %q, want an unknown key", msg)
		}
		gw.assertServing(t, "r2", engine.ActionDeny)
	})
	t.Run("known key id, wrong key", func(t *testing.T) {
		failures := gw.poller.Status().Failures
		push(signedBundle(t, "allow", "r5", newKey(t, "rsa", "policy-2026")))
		if msg := gw.waitRejected(t, failures); !strings.Contains(msg, "failed to verify JWT signature") {
			t.Errorf("last error %q, want a bad signature", msg)
		}
		gw.assertServing(t, "r2", engine.ActionDeny)
	})
	t.Run("unsigned", func(t *testing.T) {
		b := mustRead(t, signedBundle(t, "allow", "r6", trusted))
		raw, err := Encode(b) // ReadUnverified dropped the signature
		if err != nil {
			t.Fatal(err)
		}
		failures := gw.poller.Status().Failures
		push(raw)
		if msg := gw.waitRejected(t, failures); !strings.Contains(msg, "missing .signatures.json") {
			t.Errorf("last error %q, want a missing signature", msg)
		}
		gw.assertServing(t, "r2", engine.ActionDeny)
	})

	t.Run("registry down at start", func(t *testing.T) {
		gw.stop()
		reg.stop()
		// A new replica on the same persistence directory starts while the
		// registry is down and enforces the last trusted revision.
		again := startReplica(t, reg.repo("snowgate/policy:prod"), v, dir, "", 100*time.Millisecond)
		waitFor(t, 20*time.Second, "the persisted r2", func() bool { return again.enforcing("r2", engine.ActionDeny) })
		waitFor(t, 20*time.Second, "a failed poll", func() bool { return again.poller.Status().LastError != "" })
		st := again.poller.Status()
		if !st.Restored || !strings.Contains(st.LastError, "download") {
			t.Errorf("status %+v, want restored with a download error", st)
		}
		// Without the persistence directory, nothing is trusted: all denied.
		cold := startReplica(t, reg.repo("snowgate/policy:prod"), v, t.TempDir(), "", 100*time.Millisecond)
		waitFor(t, 20*time.Second, "a failed poll", func() bool { return cold.poller.Status().LastError != "" })
		if d := decide(cold.eng); d.Action != engine.ActionDeny || !slices.Contains(d.Reasons, NoPolicyReason) {
			t.Errorf("cold replica decides %+v, want a no-policy deny", d)
		}
		// The registry comes back with a new revision.
		reg.restart(t)
		push(signedBundle(t, "allow", "r7", trusted))
		waitFor(t, 30*time.Second, "r7 after the registry is back", func() bool { return again.enforcing("r7", engine.ActionAllow) })
		waitFor(t, 30*time.Second, "r7 on the cold replica", func() bool { return cold.enforcing("r7", engine.ActionAllow) })
	})
}

func TestPoller_TamperedPersistedBundle(t *testing.T) {
	trusted := newKey(t, "rsa", "k")
	dir := t.TempDir()
	src := &staticSource{}
	src.set(signedBundle(t, "allow", "r1", trusted))
	gw := startReplica(t, src, verifier(t, trusted), dir, "", 20*time.Millisecond)
	waitFor(t, 10*time.Second, "r1", func() bool { return gw.enforcing("r1", engine.ActionAllow) })
	gw.stop()

	blobs, err := filepath.Glob(filepath.Join(dir, "blobs", "*.tar.gz"))
	if err != nil || len(blobs) != 1 {
		t.Fatalf("persisted blobs %v (%v), want one", blobs, err)
	}
	raw, err := os.ReadFile(blobs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Replace the persisted file with a re-signed bundle by another key
	// (digest fixed up in state.json too): it must still be refused.
	forged := signedBundle(t, "allow", "r1", newKey(t, "rsa", "k"))
	if err := os.WriteFile(blobs[0], forged, 0o600); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	state = []byte(strings.ReplaceAll(string(state), Digest(raw), Digest(forged)))
	if err := os.WriteFile(filepath.Join(dir, stateFile), state, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blobs[0], filepath.Join(dir, "blobs", strings.TrimPrefix(Digest(forged), "sha256:")+".tar.gz")); err != nil {
		t.Fatal(err)
	}
	// Restart while the source is down: the forged bundle is not restored.
	eng := newEngine(t)
	again, err := NewPoller(PollerOptions{Source: &staticSource{err: errors.New("source down")}, Verifier: verifier(t, trusted), Engine: eng, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Restore(context.Background()); !errors.Is(err, ErrUnverified) {
		t.Errorf("Restore: %v, want ErrUnverified", err)
	}
	if d := decide(eng); d.Action != engine.ActionDeny || d.Revision != NoPolicyRevision {
		t.Errorf("after a forged persisted bundle the engine decides %+v, want the no-policy deny", d)
	}
	if st := again.Status(); !strings.Contains(st.LastError, "restore") || st.Revision != "" {
		t.Errorf("status %+v, want the refused restore reported and no revision", st)
	}
}

func TestPoller_PinAndRollback(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	trusted := newKey(t, "ec", "k")
	v := verifier(t, trusted)
	repo := reg.repo("snowgate/policy:stable")
	p1, err := repo.Push(ctx, signedBundle(t, "allow", "r1", trusted))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gw := startReplica(t, reg.repo("snowgate/policy:stable"), v, dir, "", 50*time.Millisecond)
	waitFor(t, 20*time.Second, "r1", func() bool { return gw.enforcing("r1", engine.ActionAllow) })
	if _, err := repo.Push(ctx, signedBundle(t, "deny", "r2", trusted)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "r2", func() bool { return gw.enforcing("r2", engine.ActionDeny) })

	t.Run("rollback", func(t *testing.T) {
		if err := gw.poller.Rollback(ctx, ""); err != nil {
			t.Fatal(err)
		}
		gw.assertServing(t, "r1", engine.ActionAllow)
		if st := gw.poller.Status(); st.Pin != "r1" {
			t.Errorf("pin %q after rollback, want r1", st.Pin)
		}
		// A newer push is not activated while pinned.
		if _, err := repo.Push(ctx, signedBundle(t, "deny", "r3", trusted)); err != nil {
			t.Fatal(err)
		}
		checks := gw.poller.Status().LastCheck
		waitFor(t, 20*time.Second, "two more polls", func() bool { return gw.poller.Status().LastCheck.Sub(checks) > 100*time.Millisecond })
		gw.assertServing(t, "r1", engine.ActionAllow)
	})
	t.Run("pin survives a restart", func(t *testing.T) {
		gw.stop()
		again := startReplica(t, reg.repo("snowgate/policy:stable"), v, dir, "", 50*time.Millisecond)
		waitFor(t, 20*time.Second, "r1 restored", func() bool { return again.enforcing("r1", engine.ActionAllow) })
		time.Sleep(300 * time.Millisecond)
		again.assertServing(t, "r1", engine.ActionAllow)
		if err := again.poller.Unpin(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "r3 after unpin", func() bool { return again.enforcing("r3", engine.ActionDeny) })
		// Pin to a kept revision by name: activated at once.
		if err := again.poller.Pin(ctx, "r2"); err != nil {
			t.Fatal(err)
		}
		again.assertServing(t, "r2", engine.ActionDeny)
		if err := again.poller.Rollback(ctx, "r-unknown"); err == nil {
			t.Error("rollback to an unknown revision succeeded")
		}
	})
	t.Run("configured pin", func(t *testing.T) {
		// Pinned to r1 by config on a fresh replica: the tag offers r3,
		// which is refused, so nothing runs.
		cold := startReplica(t, reg.repo("snowgate/policy:stable"), v, t.TempDir(), "r1", 50*time.Millisecond)
		waitFor(t, 20*time.Second, "a poll", func() bool { return !cold.poller.Status().LastCheck.IsZero() })
		if d := decide(cold.eng); d.Revision != NoPolicyRevision || d.Action != engine.ActionDeny {
			t.Errorf("pinned cold replica decides %+v, want the no-policy deny", d)
		}
		// Pinned by OCI digest: r1 although the tag has moved on.
		byDigest := startReplica(t, reg.repo("snowgate/policy@"+p1.Manifest), v, t.TempDir(), "", 50*time.Millisecond)
		waitFor(t, 20*time.Second, "r1 by digest", func() bool { return byDigest.enforcing("r1", engine.ActionAllow) })
	})
}
