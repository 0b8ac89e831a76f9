package rowset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestChunks: spooled chunks are listed with their key and served only
// with it; a drain sees them served; closed, they are gone.
func TestChunks(t *testing.T) {
	c, err := NewChunks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{`["1"],["2"]`, `["3"]`} {
		if err := c.Write([]byte(ch), int64(strings.Count(ch, "["))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	refs := c.Refs("https://gw/chunks/q1")
	if len(refs) != 2 || refs[0].RowCount != 2 || refs[1].RowCount != 1 || refs[1].UncompressedSize != 5 || c.Size() != 16 {
		t.Fatalf("refs %+v, size %d", refs, c.Size())
	}
	u, err := url.Parse(refs[1].URL)
	if err != nil || u.Path != "/chunks/q1/1" || len(u.Query().Get("k")) < 40 {
		t.Fatalf("chunk URL %q: %v", refs[1].URL, err)
	}
	key := u.Query().Get("k")
	other, err := NewChunks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if other.key == key {
		t.Fatal("two results share a chunk key")
	}
	serve := func(n int, key string) (*httptest.ResponseRecorder, error) {
		w := httptest.NewRecorder()
		return w, c.Serve(w, n, key, false)
	}
	for _, bad := range []string{"", key[:len(key)-1], key + "x", strings.ToUpper(key)} {
		if w, err := serve(1, bad); !errors.Is(err, ErrChunkKey) || w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "3") {
			t.Errorf("key %q: %v, %d %q", bad, err, w.Code, w.Body)
		}
	}
	if c.Fetched() {
		t.Error("fetched before any chunk was served")
	}
	if w, err := serve(2, key); !errors.Is(err, ErrNoChunk) || errors.Is(err, ErrChunkKey) || w.Code != http.StatusNotFound {
		t.Errorf("chunk 2 of 2: %v, %d", err, w.Code)
	}
	for n, want := range []string{`["1"],["2"]`, `["3"]`} {
		w, err := serve(n, key)
		if err != nil || w.Code != http.StatusOK || w.Body.String() != want || w.Header().Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Errorf("chunk %d: %v, %d %q", n, err, w.Code, w.Body)
		}
	}
	if !c.Fetched() {
		t.Error("not fetched after every chunk was served")
	}
	c.Close()
	if w, err := serve(0, key); !errors.Is(err, ErrNoChunk) || w.Code != http.StatusNotFound {
		t.Errorf("after close: %v, %d", err, w.Code)
	}
}

// TestChunks_concurrentDownloads: chunks of a spool served over a real
// connection, many at once and each several times (drivers download 4 or
// more at a time, and retry), come whole and each from its own offset of
// the one file.
func TestChunks_concurrentDownloads(t *testing.T) {
	c, err := NewChunks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want [][]byte
	for n := range 6 {
		b := bytes.Repeat([]byte{byte('a' + n)}, 300_000+n*7_919)
		want = append(want, b)
		if err := c.Write(b, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		_ = c.Serve(w, n, c.key, true)
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(want))
	for range 4 {
		for n := range want {
			wg.Go(func() {
				resp, err := http.Get(srv.URL + "/?n=" + strconv.Itoa(n))
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				got, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(got, want[n]) {
					errs <- fmt.Errorf("chunk %d: %d bytes (want %d), %v", n, len(got), len(want[n]), err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !c.Fetched() {
		t.Error("not fetched after every chunk was served")
	}
}
