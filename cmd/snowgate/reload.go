package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/bundles"
	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/identity"
	library "github.com/snowgate/snowgate/rego"
)

// policySource keeps the engine on the configured policy: a directory,
// the embedded library, or signed bundles polled from a registry. A reload
// moves it to another.
type policySource struct {
	eng *engine.Engine
	log *slog.Logger
	ctx context.Context // the server's: pollers run until it ends

	mu        sync.Mutex
	cfg       policyConfig
	poller    *bundles.Poller // nil unless cfg.Bundle
	stop      func()          // stops poller and waits for it
	activated time.Time       // when the directory's policy was last activated
}

// startPolicy loads the policy c names. With a bundle source, statements
// are denied until a trusted bundle is restored or pulled.
func startPolicy(ctx context.Context, c policyConfig, log *slog.Logger) (*policySource, error) {
	p := &policySource{ctx: ctx, log: log, cfg: c, activated: time.Now()}
	opts := engine.Options{Dir: c.Dir, Logger: log}
	if c.Bundle != nil {
		opts = engine.Options{Bundle: bundles.NoPolicy(), Logger: log}
	}
	var err error
	if p.eng, err = engine.New(ctx, opts); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if c.Bundle != nil {
		poller, err := bundles.New(*c.Bundle, p.eng, log)
		if err != nil {
			return nil, err
		}
		if err := poller.Restore(ctx); err != nil {
			log.Warn("no persisted policy bundle to restore; statements are denied until one is pulled", "err", err)
		}
		p.run(poller)
	}
	return p, nil
}

// run polls with poller until Close or the next source.
func (p *policySource) run(poller *bundles.Poller) {
	ctx, cancel := context.WithCancel(p.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = poller.Run(ctx)
	}()
	p.poller, p.stop = poller, func() { cancel(); <-done }
}

// Revision is the active policy's revision; with a bundle source, the
// active bundle's ("" until there is one).
func (p *policySource) Revision() string {
	p.mu.Lock()
	poller := p.poller
	p.mu.Unlock()
	if poller != nil {
		return poller.Revision()
	}
	return p.eng.Revision()
}

// Activated is when the active policy was activated; with a bundle
// source, the active bundle (zero until there is one).
func (p *policySource) Activated() time.Time {
	p.mu.Lock()
	poller, at := p.poller, p.activated
	p.mu.Unlock()
	if poller != nil {
		return poller.Status().ActivatedAt
	}
	return at
}

// Close stops polling.
func (p *policySource) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		p.stop()
		p.poller, p.stop = nil, nil
	}
}

// apply moves to the policy c names and says what changed. A directory
// (or the library) is read again and activated when its revision differs;
// an unchanged bundle source is polled at once; a new one replaces the
// poller, and the active policy stays until its first trusted bundle. On
// error the active policy and source stay.
func (p *policySource) apply(c policyConfig) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	before := p.eng.Revision()
	if c.Bundle != nil {
		if p.poller != nil && reflect.DeepEqual(*p.cfg.Bundle, *c.Bundle) {
			p.poller.Trigger()
			return "bundle source unchanged; polled now", nil
		}
		poller, err := bundles.New(*c.Bundle, p.eng, p.log)
		if err != nil {
			return "", err
		}
		if p.stop != nil {
			p.stop()
		}
		p.run(poller)
		p.cfg = c
		return fmt.Sprintf("bundles now from %s; revision %s stays active until its first trusted bundle", orDefault(c.Bundle.OCI, c.Bundle.URL), before), nil
	}
	b, err := readPolicy(c.Dir)
	if err != nil {
		return "", err
	}
	if p.poller == nil && b.Manifest.Revision == before {
		p.cfg = c
		return "unchanged, revision " + before, nil
	}
	old := p.poller
	if old != nil {
		p.stop() // so that it cannot activate a bundle over the directory
		p.poller, p.stop = nil, nil
	}
	if err := p.eng.Activate(b); err != nil {
		if old != nil {
			p.run(old)
		}
		return "", err
	}
	p.cfg, p.activated = c, time.Now()
	return fmt.Sprintf("revision %s replaces %s", b.Manifest.Revision, before), nil
}

// readPolicy reads the policy directory, or the embedded library for "".
func readPolicy(dir string) (*bundle.Bundle, error) {
	if dir == "" {
		return engine.LoadFS(library.FS)
	}
	return engine.LoadFS(os.DirFS(dir))
}

// reloader applies a changed config file to a running gateway: the policy
// source, the issuers and the clock skew. Other keys need a restart.
type reloader struct {
	path     string
	log      *slog.Logger
	policy   *policySource
	verifier *identity.Verifier

	mu      sync.Mutex
	running config // what runs: reloadable keys as last reloaded, the rest as at start
}

// watchReload reloads the config file on SIGHUP until ctx ends or stop is
// called.
func watchReload(ctx context.Context, path string, c *config, pol *policySource, verifier *identity.Verifier, log *slog.Logger) (stop func()) {
	r := &reloader{path: path, log: log, policy: pol, verifier: verifier, running: *c}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				_ = r.reload()
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		cancel()
		<-done
	}
}

// reload reads, checks and applies the config file. An invalid file, or a
// policy that does not activate, changes nothing; every problem is logged.
func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Info("reloading config", "file", r.path)
	l, err := checkConfig(r.path, lookupEnv)
	if err != nil {
		var ce *configError
		if !errors.As(err, &ce) {
			r.log.Error("config reload rejected; nothing changed", "file", r.path, "err", err)
			return err
		}
		for _, line := range ce.Lines() {
			r.log.Error("config problem", "problem", line)
		}
		r.log.Error("config reload rejected; nothing changed", "file", r.path, "problems", len(ce.Problems))
		return err
	}
	next := l.config
	skew := time.Duration(next.ClockSkew)
	issuersChanged := !reflect.DeepEqual(r.running.Issuers, next.Issuers) || r.running.ClockSkew != next.ClockSkew
	if issuersChanged {
		if _, err := identity.New(next.Issuers, skew); err != nil {
			r.log.Error("config reload rejected; nothing changed", "file", r.path, "err", err)
			return err
		}
	}
	policy, err := r.policy.apply(next.Policy)
	if err != nil {
		r.log.Error("config reload rejected: the policy does not activate; nothing changed", "file", r.path, "err", err)
		return err
	}
	attrs := []any{"file", r.path, "policy", policy}
	if issuersChanged {
		if err := r.verifier.Replace(next.Issuers, skew); err != nil { // checked above
			r.log.Error("issuers not replaced", "err", err)
			return err
		}
		added, removed, changed := issuerDiff(r.running.Issuers, next.Issuers)
		for _, d := range []struct {
			key  string
			urls []string
		}{{"issuers_added", added}, {"issuers_removed", removed}, {"issuers_changed", changed}} {
			if len(d.urls) > 0 {
				attrs = append(attrs, d.key, d.urls)
			}
		}
		if r.running.ClockSkew != next.ClockSkew {
			attrs = append(attrs, "clock_skew", skew.String())
		}
	} else {
		attrs = append(attrs, "issuers", "unchanged")
	}
	restart := restartKeys(&r.running, next)
	r.running.Policy, r.running.Issuers, r.running.ClockSkew = next.Policy, next.Issuers, next.ClockSkew
	r.log.Info("config reloaded", attrs...)
	if len(restart) > 0 {
		r.log.Warn("config changes that need a restart were not applied", "keys", restart)
	}
	return nil
}

// issuerDiff names the issuers (by URL) that were added, removed, or kept
// with other settings.
func issuerDiff(old, next []identity.Issuer) (added, removed, changed []string) {
	byURL := map[string]identity.Issuer{}
	for _, is := range old {
		byURL[is.URL] = is
	}
	for _, is := range next {
		prev, ok := byURL[is.URL]
		switch {
		case !ok:
			added = append(added, is.URL)
		case !reflect.DeepEqual(prev, is):
			changed = append(changed, is.URL)
		}
		delete(byURL, is.URL)
	}
	for u := range byURL {
		removed = append(removed, u)
	}
	slices.Sort(removed)
	return added, removed, changed
}

// restartKeys names the keys that differ between a and b other than the
// reloadable ones (policy, issuers, clock_skew). Values are not named:
// some are secrets.
func restartKeys(a, b *config) []string {
	fa, fb := map[string]string{}, map[string]string{}
	flatten(reflect.ValueOf(a).Elem(), "", fa)
	flatten(reflect.ValueOf(b).Elem(), "", fb)
	var keys []string
	for k, v := range fb {
		if fa[k] != v {
			keys = append(keys, k)
		}
	}
	for k := range fa {
		if _, ok := fb[k]; !ok {
			keys = append(keys, k)
		}
	}
	keys = slices.DeleteFunc(keys, func(k string) bool {
		return k == "clock_skew" || strings.HasPrefix(k, "issuers") || strings.HasPrefix(k, "policy.")
	})
	slices.Sort(keys)
	return keys
}

// flatten records every set leaf key of v under its key path.
func flatten(v reflect.Value, path string, out map[string]string) {
	switch {
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			flatten(v.Elem(), path, out)
		}
	case isSection(v.Type()):
		for i := range v.NumField() {
			if k := yamlKey(v.Type().Field(i)); k != "" {
				flatten(v.Field(i), join(path, k), out)
			}
		}
	case v.Kind() == reflect.Slice && isSection(v.Type().Elem()):
		for i := range v.Len() {
			flatten(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		out[path] = fmt.Sprint(v.Interface())
	}
}
