package statement

import (
	"context"
	"errors"
	"testing"
	"time"
)

type countingCatalog struct {
	calls int
	err   error
}

func (c *countingCatalog) Columns(context.Context, string, string, string) ([]string, error) {
	c.calls++
	return []string{"A"}, c.err
}

func TestCachedCatalog_Columns(t *testing.T) {
	inner := &countingCatalog{}
	clock := time.Unix(0, 0)
	c := &CachedCatalog{Inner: inner, TTL: time.Minute, Max: 2, now: func() time.Time { return clock }}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if cols, err := c.Columns(ctx, "D", "S", "T"); err != nil || len(cols) != 1 {
			t.Fatalf("Columns: %v %v", cols, err)
		}
	}
	if inner.calls != 1 {
		t.Errorf("inner called %d times, want 1 (cached)", inner.calls)
	}
	clock = clock.Add(2 * time.Minute)
	_, _ = c.Columns(ctx, "D", "S", "T")
	if inner.calls != 2 {
		t.Errorf("inner called %d times after the TTL, want 2", inner.calls)
	}
	_, _ = c.Columns(ctx, "D", "S", "U")
	_, _ = c.Columns(ctx, "D", "S", "V") // over Max: the cache starts over
	if len(c.entries) > 2 {
		t.Errorf("cache holds %d entries, want at most 2", len(c.entries))
	}
	inner.err = errors.New("down")
	if _, err := c.Columns(ctx, "D", "S", "W"); err == nil {
		t.Error("error not passed through")
	}
	if _, ok := c.entries["D\x00S\x00W"]; ok {
		t.Error("error was cached")
	}
}
