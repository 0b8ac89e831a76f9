package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Memory is a Store in memory, for tests and single runs.
type Memory struct {
	mu      sync.Mutex
	recs    [][]byte // records as JSON, so callers never share state
	version int
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{} }

func (m *Memory) Add(ctx context.Context, recs []*Record) error {
	bs := make([][]byte, len(recs))
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		bs[i] = b
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, bs...)
	m.version++
	return nil
}

func (m *Memory) List(ctx context.Context) ([]*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Record, 0, len(m.recs))
	for _, b := range m.recs {
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, nil
}

func (m *Memory) Forget(ctx context.Context, ids []string, f Forgotten) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i, b := range m.recs {
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return 0, err
		}
		if !slices.Contains(ids, r.ID) || !r.Active() {
			continue
		}
		r.Forgotten = &f
		nb, err := json.Marshal(&r)
		if err != nil {
			return 0, err
		}
		m.recs[i] = nb
		n++
	}
	if n > 0 {
		m.version++
	}
	return n, nil
}

func (m *Memory) Version(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprint(m.version), nil
}

func (m *Memory) Close() error { return nil }
