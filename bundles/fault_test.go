package bundles

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/engine"
)

// Faults of the policy bundle source (README "Faults under load"): the
// registry stopped and restarted, and a new version whose signature does
// not verify or whose Rego does not compile. Throughout, a watcher decides
// every millisecond: there is always an active policy, and only trusted
// revisions ever decide.

// activations records every bundle the poller hands to the engine.
type activations struct {
	eng *engine.Engine
	mu  sync.Mutex
	rev []string
}

func (a *activations) Activate(b *bundle.Bundle) error {
	a.mu.Lock()
	a.rev = append(a.rev, b.Manifest.Revision)
	a.mu.Unlock()
	return a.eng.Activate(b)
}

// uncompilableBundle is a bundle at rev, signed by key, whose decision
// calls a function that does not exist: it parses and verifies but does
// not compile. (Build compiles, so the module is swapped in afterwards.)
func uncompilableBundle(t testing.TB, rev string, key testKey) []byte {
	t.Helper()
	bad := "package snowgate\n\ndecision := {\"action\": snowgate_no_such_function(\"allow\"), \"reasons\": []}\n"
	raw := rewriteTar(t, signedBundle(t, "allow", rev, key), func(name string, data []byte) []byte {
		if strings.HasSuffix(name, "decision.rego") {
			return []byte(bad)
		}
		return data
	}, nil)
	b := mustRead(t, raw)
	if err := Sign(b, key.signing); err != nil {
		t.Fatal(err)
	}
	out, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFault_bundleSource(t *testing.T) {
	reg := startRegistry(t)
	ctx := context.Background()
	trusted := newKey(t, "rsa", "policy-2026")
	repo := reg.repo("snowgate/policy:prod")
	push := func(raw []byte) {
		t.Helper()
		if _, err := repo.Push(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	push(signedBundle(t, "deny", "r1", trusted))

	eng := newEngine(t)
	act := &activations{eng: eng}
	logs := &syncBuffer{}
	p, err := NewPoller(PollerOptions{
		Source: reg.repo("snowgate/policy:prod"), Verifier: verifier(t, trusted), Engine: act,
		Dir: t.TempDir(), Interval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(pctx); close(done) }()
	defer func() { cancel(); <-done }()
	gw := &replica{eng: eng, poller: p}
	waitFor(t, 20*time.Second, "r1 to be enforced", func() bool { return gw.enforcing("r1", engine.ActionDeny) })

	// The watcher: from now on every decision is r1's deny or r2's allow.
	want := map[string]engine.Action{"r1": engine.ActionDeny, "r2": engine.ActionAllow}
	var (
		wmu     sync.Mutex
		bad     []engine.Decision
		decided int
		stop    = make(chan struct{})
		watched = make(chan struct{})
	)
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			d := decide(eng)
			wmu.Lock()
			decided++
			if a, ok := want[d.Revision]; !ok || a != d.Action {
				bad = append(bad, d)
			}
			wmu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()

	t.Run("registry down", func(t *testing.T) {
		failures := p.Status().Failures
		reg.stop()
		waitFor(t, 20*time.Second, "failed polls", func() bool { return p.Status().Failures >= failures+3 })
		gw.assertServing(t, "r1", engine.ActionDeny)
		if st := p.Status(); !strings.Contains(st.LastError, "download") {
			t.Errorf("status %+v, want a download error", st)
		}
		if !strings.Contains(logs.String(), "bundle poll failed; keeping the active revision") {
			t.Errorf("no failed poll logged:\n%s", logs)
		}
		reg.restart(t)
		back := time.Now()
		push(signedBundle(t, "allow", "r2", trusted))
		waitFor(t, 30*time.Second, "r2 after the registry is back", func() bool { return gw.enforcing("r2", engine.ActionAllow) })
		t.Logf("recovery: r2 enforced %s after the registry was back (poll interval 50ms)", time.Since(back).Round(time.Millisecond))
		gw.assertServing(t, "r2", engine.ActionAllow)
		if st := p.Status(); st.LastError != "" {
			t.Errorf("status %+v after recovery, want the error cleared", st)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		failures := p.Status().Failures
		// Signed by a key with the trusted key's id that is not the trusted key.
		push(signedBundle(t, "deny", "r3-forged", newKey(t, "rsa", "policy-2026")))
		if msg := gw.waitRejected(t, failures); !strings.Contains(msg, "failed to verify JWT signature") {
			t.Errorf("last error %q, want a bad signature", msg)
		}
		gw.assertServing(t, "r2", engine.ActionAllow)
		if !strings.Contains(logs.String(), "failed to verify JWT signature") {
			t.Errorf("the refusal is not logged:\n%s", logs)
		}
	})
	t.Run("rego does not compile", func(t *testing.T) {
		failures := p.Status().Failures
		push(uncompilableBundle(t, "r4-broken", trusted))
		msg := gw.waitRejected(t, failures)
		if !strings.Contains(msg, "r4-broken") || !strings.Contains(msg, "snowgate_no_such_function") {
			t.Errorf("last error %q, want the revision and the compile error", msg)
		}
		gw.assertServing(t, "r2", engine.ActionAllow)
		if !strings.Contains(logs.String(), "snowgate_no_such_function") {
			t.Errorf("the refusal is not logged:\n%s", logs)
		}
		// Polls go on; the refused version is neither retried nor activated.
		st := p.Status()
		waitFor(t, 20*time.Second, "more polls", func() bool { return p.Status().LastCheck.Sub(st.LastCheck) > 150*time.Millisecond })
		gw.assertServing(t, "r2", engine.ActionAllow)
		if now := p.Status(); now.Failures != st.Failures || now.LastError != st.LastError {
			t.Errorf("status %+v after more polls, want the refusal counted once and still reported (%+v)", now, st)
		}
	})

	close(stop)
	<-watched
	wmu.Lock()
	defer wmu.Unlock()
	if len(bad) > 0 {
		t.Errorf("%d of %d decisions outside r1 deny / r2 allow, first %+v", len(bad), decided, bad[0])
	}
	t.Logf("%d decisions watched, all under r1 or r2", decided)
	// The forged bundle never reached the engine; the uncompilable one did
	// (verified) and was refused by it, which kept r2.
	act.mu.Lock()
	defer act.mu.Unlock()
	for _, r := range act.rev {
		if r == "r3-forged" {
			t.Errorf("an unverified bundle reached the engine: activations %v", act.rev)
		}
	}
}
