package bundles

import (
	"context"
	"sync"
)

// staticSource serves one bundle from memory, or fails with err.
type staticSource struct {
	mu  sync.Mutex
	raw []byte
	err error
}

func (s *staticSource) set(raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = raw
}

func (s *staticSource) Fetch(ctx context.Context, version string) (*Download, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	v := Digest(s.raw)
	if v == version {
		return nil, ErrNotModified
	}
	return &Download{Raw: s.raw, Version: v}, nil
}

func (s *staticSource) String() string { return "memory" }
