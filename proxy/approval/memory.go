package approval

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"
)

// Memory is a Store in memory, for tests and single runs.
type Memory struct {
	mu sync.Mutex
	m  map[string][]byte // requests as JSON, so callers never share state
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{m: map[string][]byte{}} }

func (m *Memory) Create(ctx context.Context, r *Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[r.ID] = b
	return nil
}

func (m *Memory) Get(ctx context.Context, id string) (*Request, error) {
	m.mu.Lock()
	b, ok := m.m[id]
	m.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	var r Request
	return &r, json.Unmarshal(b, &r)
}

func (m *Memory) List(ctx context.Context, states ...State) ([]*Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Request
	for _, b := range m.m {
		var r Request
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		if len(states) == 0 || slices.Contains(states, r.State) {
			out = append(out, &r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func (m *Memory) Update(ctx context.Context, r *Request, from State) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[r.ID]
	if !ok {
		return ErrNotFound
	}
	var cur Request
	if err := json.Unmarshal(b, &cur); err != nil {
		return err
	}
	if cur.State != from || cur.Version != r.Version {
		return ErrConflict
	}
	r.Version++
	nb, err := json.Marshal(r)
	if err != nil {
		return err
	}
	m.m[r.ID] = nb
	return nil
}

func (m *Memory) Close() error { return nil }
