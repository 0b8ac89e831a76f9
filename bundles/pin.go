package bundles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Pin holds the policy at a revision (or tarball digest): if a kept bundle
// matches, it is activated now; until Unpin, nothing else is activated.
// An empty pin is Unpin.
func (p *Poller) Pin(ctx context.Context, pin string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pinLocked(pin)
}

func (p *Poller) pinLocked(pin string) error {
	if err := p.store.setPin(pin); err != nil {
		return err
	}
	p.seen = "" // look at the source again under the new pin
	p.setStatus(func(s *Status) { s.Pin = pin })
	if pin == "" {
		p.log.Info("bundle pin removed")
		return nil
	}
	p.log.Info("bundle pinned", slog.String(logPin, pin))
	if cur := p.Status(); cur.Digest != "" && matchesPin(pin, cur.Revision, cur.Digest) {
		return nil
	}
	for _, e := range p.store.history() {
		if matchesPin(pin, e.Revision, e.Digest) {
			return p.activateStored(e, false)
		}
	}
	p.log.Warn("pinned revision is not kept locally; waiting for the source to offer it", slog.String(logPin, pin))
	return nil
}

// Unpin lets the poller follow the source again.
func (p *Poller) Unpin(ctx context.Context) error { return p.Pin(ctx, "") }

// Rollback re-activates a kept bundle and pins to it: the one matching to
// (a revision or digest), or, when to is empty, the one active before the
// current one. Unpin to follow the source again.
func (p *Poller) Rollback(ctx context.Context, to string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.Status()
	var target *entry
	for _, e := range p.store.history() {
		if e.Digest == cur.Digest {
			continue
		}
		if to == "" || matchesPin(to, e.Revision, e.Digest) {
			target = &e
			break
		}
	}
	if target == nil {
		if to == "" {
			return errors.New("rollback: no earlier bundle is kept")
		}
		return fmt.Errorf("rollback: no kept bundle matches %q", to)
	}
	pin := target.Revision
	if pin == "" {
		pin = target.Digest
	}
	return p.pinLocked(pin)
}

// matchesPin reports whether a bundle with revision and digest may be
// activated under pin.
func matchesPin(pin, revision, digest string) bool {
	return pin == "" || pin == revision || pin == digest
}
