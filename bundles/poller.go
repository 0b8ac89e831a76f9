package bundles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/engine"
)

// Defaults of PollerOptions.
const (
	// DefaultInterval is how often a Poller asks its source for a new bundle.
	DefaultInterval = 10 * time.Second
	// DefaultFetchTimeout bounds one download.
	DefaultFetchTimeout = 2 * time.Minute
)

// Activator is the policy engine a Poller keeps up to date. Activate must
// swap the policy atomically and keep the old one when it fails.
type Activator interface {
	Activate(b *bundle.Bundle) error
}

var _ Activator = (*engine.Engine)(nil)

// PollerOptions configure a Poller. Fields may not change after NewPoller.
type PollerOptions struct {
	// Source is where bundles come from. Required.
	Source Source
	// Verifier checks every bundle before it is activated, downloaded or
	// restored from disk. Required unless AllowUnsigned.
	Verifier *Verifier
	// AllowUnsigned, with no Verifier, activates bundles without checking
	// any signature. Only for development; default false.
	AllowUnsigned bool
	// Engine is activated with each new trusted bundle. Required.
	Engine Activator
	// Dir persists the last trusted bundles so that a restart works while
	// the source is down. Default "": kept in memory only.
	Dir string
	// History is how many trusted bundles are kept. Default DefaultHistory.
	History int
	// Interval between polls. Default DefaultInterval.
	Interval time.Duration
	// FetchTimeout bounds one download (plus the wait of an HTTP long
	// poll). Default DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Pin, when set, is the only revision (or tarball digest) activated
	// until Unpin. A pin set at run time with Pin or Rollback is persisted
	// in Dir and wins over this one after a restart.
	Pin string
	// Logger receives activations and failures. Default: discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// OnActivate, when set, is called after each activation with the new
	// status, e.g. to write an audit event or update a metric. It runs
	// while the poller is busy: it may call Status and Revision, not Poll,
	// Pin or Rollback.
	OnActivate func(Status)
}

// Status is what a Poller reports about the policy it keeps active.
type Status struct {
	Source   string `json:"source"`
	Revision string `json:"revision"` // of the active bundle; "" when none
	Digest   string `json:"digest,omitempty"`
	Version  string `json:"version,omitempty"` // the source's version of it
	Pin      string `json:"pin,omitempty"`
	// Restored is true when the active bundle came from Dir at start and
	// nothing newer has been activated since.
	Restored    bool      `json:"restored"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	LastCheck   time.Time `json:"last_check,omitzero"`
	// LastError is the last failed download, verification or activation;
	// cleared by the next successful check.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Activations int64     `json:"activations"`
	Failures    int64     `json:"failures"`
}

// minLongPollGap bounds the request rate against a long-polling server
// that answers at once.
const minLongPollGap = time.Second

// longPoller is a Source whose requests wait on the server for a change.
type longPoller interface {
	LongPolling() bool
}

// Poller keeps an engine on the newest trusted bundle of a source.
type Poller struct {
	opts   PollerOptions
	log    *slog.Logger
	kick   chan struct{}
	verify func([]byte) (*bundle.Bundle, error)

	mu       sync.Mutex // serialises Restore, Poll, Pin and Rollback
	store    *store
	seen     string // the source version last handled, passed to Fetch
	restored bool

	smu    sync.RWMutex
	status Status
}

// NewPoller checks opts and opens the persistence directory. It neither
// downloads nor activates anything: Run (or Restore and Poll) does.
func NewPoller(opts PollerOptions) (*Poller, error) {
	switch {
	case opts.Source == nil:
		return nil, errors.New("bundle poller: no source")
	case opts.Engine == nil:
		return nil, errors.New("bundle poller: no engine")
	case opts.Verifier == nil && !opts.AllowUnsigned:
		return nil, fmt.Errorf("bundle poller: %w (set allow_unsigned only for development)", ErrNoKeys)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st, err := openStore(opts.Dir, opts.History)
	if err != nil {
		return nil, err
	}
	if st.pin() == "" && opts.Pin != "" {
		if err := st.setPin(opts.Pin); err != nil {
			return nil, err
		}
	}
	p := &Poller{opts: opts, log: opts.Logger.With(slog.String(logSource, opts.Source.String())), kick: make(chan struct{}, 1), store: st}
	p.verify = ReadUnverified
	if opts.Verifier != nil {
		p.verify = opts.Verifier.Verify
	} else {
		p.log.Warn("bundle signatures are NOT verified (allow_unsigned)")
	}
	p.status = Status{Source: opts.Source.String(), Pin: st.pin()}
	return p, nil
}

// Status reports the active revision and the last check.
func (p *Poller) Status() Status {
	p.smu.RLock()
	defer p.smu.RUnlock()
	return p.status
}

// Revision is the active bundle's revision, "" when none is active.
func (p *Poller) Revision() string { return p.Status().Revision }

// Trigger asks a running Run loop to poll now instead of at the next tick,
// e.g. from a registry webhook. It never blocks.
func (p *Poller) Trigger() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run restores the persisted bundle, then polls every Interval (or when
// triggered) until ctx ends. Failures are logged and reported in Status;
// the last good revision stays active. It returns ctx's error.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.Restore(ctx); err != nil {
		p.log.Warn("no persisted bundle restored", slog.Any(logError, err))
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-p.kick:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
		began := time.Now()
		err := p.Poll(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Warn("bundle poll failed; keeping the active revision", slog.String(logRevision, p.Revision()), slog.Any(logError, err))
		}
		if lp, ok := p.opts.Source.(longPoller); ok && err == nil && lp.LongPolling() {
			// The server holds requests until the bundle changes: ask again
			// at once, but never more than once a second.
			t.Reset(max(0, minLongPollGap-time.Since(began)))
			continue
		}
		t.Reset(p.opts.Interval)
	}
}

// Restore activates the most recent persisted bundle that still verifies
// (and matches the pin). It does nothing the second time.
func (p *Poller) Restore(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.restored {
		return nil
	}
	p.restored = true
	var errs []error
	for _, e := range p.store.history() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !matchesPin(p.store.pin(), e.Revision, e.Digest) {
			continue
		}
		if err := p.activateStored(e, true); err != nil {
			errs = append(errs, err)
			continue
		}
		p.seen = e.Version
		return nil
	}
	if len(errs) == 0 {
		return errors.New("no persisted bundle")
	}
	return p.fail(p.opts.Now(), fmt.Errorf("restore: %w", errors.Join(errs...)))
}

// Poll asks the source once and activates what it offers if that is new,
// verifies, and matches the pin. On any failure the active revision stays.
func (p *Poller) Poll(ctx context.Context) error {
	// Download without the lock, so that Pin and Rollback need not wait
	// for a slow registry or a long poll; decide under it.
	p.mu.Lock()
	seen := p.seen
	p.mu.Unlock()
	start := p.opts.Now()
	fctx, cancel := context.WithTimeout(ctx, p.fetchTimeout())
	dl, err := p.opts.Source.Fetch(fctx, seen)
	cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	if errors.Is(err, ErrNotModified) {
		p.setStatus(func(s *Status) { s.LastCheck = start })
		return nil
	}
	if err != nil {
		return p.fail(start, fmt.Errorf("download: %w", err))
	}
	digest := Digest(dl.Raw)
	if cur := p.Status(); cur.Digest == digest {
		p.seen = dl.Version
		p.setStatus(func(s *Status) { s.LastCheck, s.Version, s.LastError = start, dl.Version, "" })
		return nil
	}
	b, err := p.verify(dl.Raw)
	if err != nil {
		p.seen = dl.Version // do not download the same bad bundle again
		return p.fail(start, fmt.Errorf("bundle %s: %w", digest, err))
	}
	if pin := p.store.pin(); !matchesPin(pin, b.Manifest.Revision, digest) {
		p.seen = dl.Version
		p.log.Info("bundle not activated: pinned", slog.String(logRevision, b.Manifest.Revision), slog.String(logPin, pin))
		p.setStatus(func(s *Status) { s.LastCheck, s.LastError = start, "" })
		return nil
	}
	e := entry{Digest: digest, Revision: b.Manifest.Revision, Version: dl.Version, Source: p.opts.Source.String(), ActivatedAt: p.opts.Now()}
	if err := p.activate(b, e, false); err != nil {
		p.seen = dl.Version
		return p.fail(start, err)
	}
	p.seen = dl.Version
	if err := p.store.add(dl.Raw, e); err != nil {
		// The bundle is active; only a restart without the source would miss it.
		p.log.Error("persisting the active bundle failed", slog.Any(logError, err))
	}
	p.setStatus(func(s *Status) { s.LastCheck = start })
	p.log.Info("bundle activated", slog.String(logRevision, e.Revision), slog.String(logDigest, digest),
		slog.String(logVersion, dl.Version), slog.Duration(logElapsed, p.opts.Now().Sub(start)))
	return nil
}

// activateStored loads, re-verifies and activates a kept bundle.
func (p *Poller) activateStored(e entry, restored bool) error {
	raw, err := p.store.load(e.Digest)
	if err != nil {
		return err
	}
	if d := Digest(raw); d != e.Digest {
		return fmt.Errorf("kept bundle %s: content digest is %s", e.Digest, d)
	}
	b, err := p.verify(raw)
	if err != nil {
		return fmt.Errorf("kept bundle %s: %w", e.Digest, err)
	}
	e.ActivatedAt = p.opts.Now()
	if err := p.activate(b, e, restored); err != nil {
		return err
	}
	if err := p.store.promote(e); err != nil {
		p.log.Error("persisting the active bundle failed", slog.Any(logError, err))
	}
	p.log.Info("kept bundle activated", slog.String(logRevision, e.Revision), slog.String(logDigest, e.Digest), slog.Bool("restored", restored))
	return nil
}

// activate hands b to the engine and records it as active.
func (p *Poller) activate(b *bundle.Bundle, e entry, restored bool) error {
	prev := p.Status().Revision
	if err := p.opts.Engine.Activate(b); err != nil {
		return fmt.Errorf("activate revision %q: %w", e.Revision, err)
	}
	p.setStatus(func(s *Status) {
		s.Revision, s.Digest, s.Version, s.ActivatedAt, s.Restored = e.Revision, e.Digest, e.Version, e.ActivatedAt, restored
		s.LastError, s.LastErrorAt = "", time.Time{}
		s.Activations++
	})
	if prev != "" && prev != e.Revision {
		p.log.Debug("revision changed", slog.String(logPrevious, prev), slog.String(logRevision, e.Revision))
	}
	if p.opts.OnActivate != nil {
		p.opts.OnActivate(p.Status())
	}
	return nil
}

// fail records err in the status and returns it.
func (p *Poller) fail(at time.Time, err error) error {
	p.setStatus(func(s *Status) {
		s.LastCheck, s.LastError, s.LastErrorAt = at, err.Error(), at
		s.Failures++
	})
	return err
}

func (p *Poller) setStatus(f func(*Status)) {
	p.smu.Lock()
	defer p.smu.Unlock()
	f(&p.status)
}

// fetchTimeout bounds one download, plus the wait of a long poll.
func (p *Poller) fetchTimeout() time.Duration {
	d := p.opts.FetchTimeout
	if h, ok := p.opts.Source.(*HTTP); ok && h.LongPolling() {
		d += h.LongPollTimeout
	}
	return d
}
