package bundles

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultHistory is how many trusted bundles a Poller keeps for restarts
// and rollbacks.
const DefaultHistory = 5

// entry is one trusted bundle that was active at some point.
type entry struct {
	Digest      string    `json:"digest"` // of the tarball
	Revision    string    `json:"revision"`
	Version     string    `json:"version,omitempty"` // the source's version (manifest digest, ETag)
	Source      string    `json:"source,omitempty"`
	ActivatedAt time.Time `json:"activated_at"`
}

// state is what the store remembers across restarts.
type state struct {
	// Pin is the revision or digest the poller is pinned to, if any.
	Pin string `json:"pin,omitempty"`
	// History lists trusted bundles, most recently active first; the
	// first is the one to restore at start.
	History []entry `json:"history"`
}

// store keeps the last trusted bundles: in dir (state.json and
// blobs/<hex>.tar.gz) when dir is set, in memory otherwise. Bundles are
// stored exactly as downloaded and verified again when loaded, so a
// tampered file on disk is refused like a tampered download.
type store struct {
	dir   string
	keep  int
	st    state
	blobs map[string][]byte // memory mode only
}

const stateFile = "state.json"

func openStore(dir string, keep int) (*store, error) {
	if keep <= 0 {
		keep = DefaultHistory
	}
	s := &store{dir: dir, keep: keep, blobs: map[string][]byte{}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
		return nil, fmt.Errorf("bundle store: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("bundle store: %w", err)
	}
	if err := json.Unmarshal(data, &s.st); err != nil {
		return nil, fmt.Errorf("bundle store %s: %w", filepath.Join(dir, stateFile), err)
	}
	return s, nil
}

// history returns the entries, most recently active first.
func (s *store) history() []entry { return append([]entry(nil), s.st.History...) }

func (s *store) pin() string { return s.st.Pin }

func (s *store) setPin(pin string) error {
	s.st.Pin = pin
	return s.save()
}

// add records raw as the active bundle.
func (s *store) add(raw []byte, e entry) error {
	if s.dir == "" {
		s.blobs[e.Digest] = raw
	} else if err := writeAtomic(s.blobPath(e.Digest), raw); err != nil {
		return fmt.Errorf("bundle store: %w", err)
	}
	return s.promote(e)
}

// promote makes e the first entry, dropping any older entry for the same
// digest and the entries beyond keep.
func (s *store) promote(e entry) error {
	h := []entry{e}
	for _, old := range s.st.History {
		if old.Digest != e.Digest {
			h = append(h, old)
		}
	}
	for _, old := range h[min(len(h), s.keep):] {
		delete(s.blobs, old.Digest)
		if s.dir != "" {
			_ = os.Remove(s.blobPath(old.Digest))
		}
	}
	s.st.History = h[:min(len(h), s.keep)]
	return s.save()
}

// load returns a stored tarball.
func (s *store) load(digest string) ([]byte, error) {
	if s.dir == "" {
		raw, ok := s.blobs[digest]
		if !ok {
			return nil, fmt.Errorf("bundle store: %s: %w", digest, fs.ErrNotExist)
		}
		return raw, nil
	}
	raw, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		return nil, fmt.Errorf("bundle store: %w", err)
	}
	return raw, nil
}

func (s *store) blobPath(digest string) string {
	return filepath.Join(s.dir, "blobs", strings.TrimPrefix(digest, "sha256:")+".tar.gz")
}

func (s *store) save() error {
	if s.dir == "" {
		return nil
	}
	data, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle store: %w", err)
	}
	if err := writeAtomic(filepath.Join(s.dir, stateFile), data); err != nil {
		return fmt.Errorf("bundle store: %w", err)
	}
	return nil
}

// writeAtomic writes data to path through a synced temporary file and a
// rename, so a crash leaves the old file or the new one, never half.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
