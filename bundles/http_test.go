package bundles

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// bundleServer is an HTTP bundle server: it serves one tarball with an
// ETag, answers If-None-Match with 304, and wants a bearer token.
type bundleServer struct {
	mu           sync.Mutex
	raw          []byte
	full, notMod atomic.Int64
	unauthorized atomic.Int64
}

func (s *bundleServer) set(raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = raw
}

func (s *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer bundle-token" {
		s.unauthorized.Add(1)
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	raw := s.raw
	s.mu.Unlock()
	etag := `"` + Digest(raw) + `"`
	if r.Header.Get("If-None-Match") == etag {
		s.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.full.Add(1)
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/gzip")
	w.Write(raw)
}

func TestHTTP_Poller(t *testing.T) {
	trusted := newKey(t, "rsa", "k")
	srv := &bundleServer{}
	srv.set(signedBundle(t, "allow", "h1", trusted))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src := &HTTP{URL: ts.URL + "/bundles/snowgate.tar.gz", Header: http.Header{"Authorization": {"Bearer bundle-token"}}}

	gw := startReplica(t, src, verifier(t, trusted), t.TempDir(), "", 20*time.Millisecond)
	waitFor(t, 10*time.Second, "h1", func() bool { return gw.enforcing("h1", engine.ActionAllow) })
	waitFor(t, 10*time.Second, "conditional requests", func() bool { return srv.notMod.Load() >= 3 })
	if n := srv.full.Load(); n != 1 {
		t.Errorf("%d full downloads of an unchanged bundle, want 1 (then 304s)", n)
	}

	srv.set(signedBundle(t, "deny", "h2", trusted))
	waitFor(t, 10*time.Second, "h2", func() bool { return gw.enforcing("h2", engine.ActionDeny) })

	failures := gw.poller.Status().Failures
	srv.set(signedBundle(t, "allow", "h3", newKey(t, "rsa", "k")))
	gw.waitRejected(t, failures)
	gw.assertServing(t, "h2", engine.ActionDeny)

	t.Run("unauthorized", func(t *testing.T) {
		bad := &HTTP{URL: src.URL}
		_, err := bad.Fetch(context.Background(), "")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("Fetch without a token: %v, want a 401", err)
		}
	})
}

// longPollServer holds a conditional request until the bundle changes or
// the client's wait runs out, as OPA's long polling expects.
type longPollServer struct {
	mu      sync.Mutex
	raw     []byte
	changed chan struct{}
	waits   atomic.Int64
}

func (s *longPollServer) set(raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = raw
	if s.changed != nil {
		close(s.changed)
	}
	s.changed = make(chan struct{})
}

func (s *longPollServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	raw, changed := s.raw, s.changed
	s.mu.Unlock()
	etag := `"` + Digest(raw) + `"`
	if r.Header.Get("If-None-Match") == etag {
		if !strings.Contains(r.Header.Get("Prefer"), "wait=") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.waits.Add(1)
		select {
		case <-changed:
			s.mu.Lock()
			raw = s.raw
			s.mu.Unlock()
			etag = `"` + Digest(raw) + `"`
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusNotModified)
			return
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", MediaTypeLongPoll)
	w.Write(raw)
}

func TestHTTP_LongPolling(t *testing.T) {
	trusted := newKey(t, "rsa", "k")
	srv := &longPollServer{}
	srv.set(signedBundle(t, "allow", "l1", trusted))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src := &HTTP{URL: ts.URL, LongPollTimeout: 5 * time.Second}
	// An hour between polls: only long polling can deliver l2 in time.
	gw := startReplica(t, src, verifier(t, trusted), "", "", time.Hour)
	waitFor(t, 10*time.Second, "l1", func() bool { return gw.enforcing("l1", engine.ActionAllow) })
	waitFor(t, 10*time.Second, "a held request", func() bool { return srv.waits.Load() > 0 })
	start := time.Now()
	srv.set(signedBundle(t, "deny", "l2", trusted))
	waitFor(t, 10*time.Second, "l2", func() bool { return gw.enforcing("l2", engine.ActionDeny) })
	t.Logf("long polling: change to enforcement in %v", time.Since(start).Round(time.Millisecond))
	if !src.LongPolling() {
		t.Error("the source stopped long polling")
	}
}
