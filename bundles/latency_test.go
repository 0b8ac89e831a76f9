package bundles

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// measureRollout pushes a new revision and returns, per replica, the time
// from the push's start until that replica's engine decides with it.
func measureRollout(t testing.TB, repo *OCI, replicas []*replica, raw []byte, rev string, trigger bool) (push time.Duration, enforce []time.Duration) {
	t.Helper()
	start := time.Now()
	if _, err := repo.Push(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	push = time.Since(start)
	if trigger { // what a registry webhook would do
		for _, r := range replicas {
			r.poller.Trigger()
		}
	}
	enforce = make([]time.Duration, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() {
			deadline := start.Add(60 * time.Second)
			for decide(r.eng).Revision != rev && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			enforce[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, r := range replicas {
		if !r.enforcing(rev, engine.ActionAllow) {
			t.Fatalf("replica %d does not enforce %s", i, rev)
		}
	}
	return push, enforce
}

// TestPushToEnforcement measures the time from `bundle push` to every one
// of three replicas enforcing the new revision, through a real registry,
// with periodic polling (interval 1s) and with a trigger (webhook).
func TestPushToEnforcement(t *testing.T) {
	reg := startRegistry(t)
	key := newKey(t, "rsa", "k")
	v := verifier(t, key)
	for _, mode := range []struct {
		name     string
		interval time.Duration
		trigger  bool
	}{{"poll every 1s", time.Second, false}, {"trigger", time.Hour, true}} {
		t.Run(mode.name, func(t *testing.T) {
			tag := fmt.Sprintf("snowgate/policy:%v", mode.trigger)
			repo := reg.repo(tag)
			if _, err := repo.Push(context.Background(), signedBundle(t, "allow", "v0", key)); err != nil {
				t.Fatal(err)
			}
			var replicas []*replica
			for range 3 {
				r := startReplica(t, reg.repo(tag), v, t.TempDir(), "", mode.interval)
				replicas = append(replicas, r)
			}
			for _, r := range replicas {
				waitFor(t, 20*time.Second, "v0", func() bool { return r.enforcing("v0", engine.ActionAllow) })
			}
			var all, pushes []time.Duration
			for i := 1; i <= 5; i++ {
				rev := fmt.Sprintf("v%d", i)
				push, enforce := measureRollout(t, repo, replicas, signedBundle(t, "allow", rev, key), rev, mode.trigger)
				pushes = append(pushes, push)
				all = append(all, slices.Max(enforce)) // every replica
				if !mode.trigger {
					time.Sleep(time.Duration(i) * 137 * time.Millisecond) // vary the phase against the poll timer
				}
			}
			slices.Sort(all)
			slices.Sort(pushes)
			t.Logf("push-to-enforcement on all 3 replicas (%s), 5 rollouts: min %v, median %v, max %v; push alone: median %v",
				mode.name, all[0].Round(time.Millisecond), all[2].Round(time.Millisecond), all[4].Round(time.Millisecond), pushes[2].Round(time.Millisecond))
		})
	}
}

// BenchmarkPushToEnforcement is one rollout per iteration: push a new
// signed revision to the registry, trigger three replicas, wait until all
// of them enforce it (download, verify, activate).
func BenchmarkPushToEnforcement(b *testing.B) {
	reg := startRegistry(b)
	key := newKey(b, "rsa", "k")
	v := verifier(b, key)
	repo := reg.repo("snowgate/policy:bench")
	if _, err := repo.Push(context.Background(), signedBundle(b, "allow", "b0", key)); err != nil {
		b.Fatal(err)
	}
	var replicas []*replica
	for range 3 {
		replicas = append(replicas, startReplica(b, reg.repo("snowgate/policy:bench"), v, b.TempDir(), "", time.Hour))
	}
	for _, r := range replicas {
		waitFor(b, 20*time.Second, "b0", func() bool { return r.enforcing("b0", engine.ActionAllow) })
	}
	bundles := make([][]byte, b.N)
	for i := range bundles {
		bundles[i] = signedBundle(b, "allow", fmt.Sprintf("b%d", i+1), key)
	}
	b.ResetTimer()
	for i := range b.N {
		measureRollout(b, repo, replicas, bundles[i], fmt.Sprintf("b%d", i+1), true)
	}
}
