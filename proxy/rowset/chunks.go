package rowset

// A result's rows go to the client as the protocol sends them: the first
// inline in the response, the rest in chunks the driver downloads. The
// chunks are spooled to an unlinked temporary file as they are encoded, so
// that rows never sit in memory whatever their count, and served from it.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// Set is a result's rows as encoded: the inline part, and the chunks
// after it.
type Set struct {
	Arrow      bool   // Inline and the chunks are Arrow IPC streams, not JSON rowsets
	Inline     []byte // JSON: "[...],[...]" without the outer brackets
	InlineRows int64
	Total      int64
	Chunks     *Chunks // nil when every row is inline
}

// Close frees the chunks' file.
func (s *Set) Close() {
	if s.Chunks != nil {
		s.Chunks.Close()
	}
}

// Chunks are a result's rows beyond the inline part, in an unlinked
// temporary file: nothing is left on disk if the gateway dies. Chunks are
// written to the file by a goroutine of their own while the next ones are
// encoded; Finish waits for it.
type Chunks struct {
	key    string // unguessable: the chunk URLs' credential
	mu     sync.Mutex
	f      *os.File
	size   int64
	chunks []chunk
	served map[int]bool // chunks downloaded at least once (a drain waits for them)

	queue    chan []byte // chunks on their way to the file
	wrote    chan error  // the writer's first failure, when it has stopped
	failed   atomic.Pointer[error]
	finished sync.Once
	err      error
}

type chunk struct {
	off, len int64
	rows     int64
}

// NewChunks starts a spool file in dir (the system's temporary directory
// when empty).
func NewChunks(dir string) (*Chunks, error) {
	f, err := os.CreateTemp(dir, "snowgate-result-*")
	if err != nil {
		return nil, fmt.Errorf("spool result: %w", err)
	}
	_ = os.Remove(f.Name())
	var key [32]byte
	_, _ = rand.Read(key[:])
	c := &Chunks{key: base64.RawURLEncoding.EncodeToString(key[:]), f: f, queue: make(chan []byte, 2), wrote: make(chan error, 1)}
	go c.writeOut(f)
	return c, nil
}

// Write queues a copy of one encoded chunk of rows for the file; it fails
// once a chunk could not be written.
func (c *Chunks) Write(b []byte, rows int64) error {
	if err := c.failed.Load(); err != nil {
		return *err
	}
	c.queue <- append([]byte(nil), b...)
	c.chunks = append(c.chunks, chunk{off: c.size, len: int64(len(b)), rows: rows})
	c.size += int64(len(b))
	return nil
}

func (c *Chunks) writeOut(f *os.File) {
	var err error
	for b := range c.queue {
		if err == nil {
			if _, err = f.Write(b); err != nil {
				err = fmt.Errorf("spool result: %w", err)
				c.failed.Store(&err)
			}
		}
	}
	c.wrote <- err
}

// Finish waits until every chunk written is in the file, and reports
// whether one could not be. No chunk is written after it.
func (c *Chunks) Finish() error {
	c.finished.Do(func() {
		close(c.queue)
		c.err = <-c.wrote
	})
	return c.err
}

// Close frees the file; the chunks are gone.
func (c *Chunks) Close() {
	_ = c.Finish()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		_ = c.f.Close()
		c.f = nil
	}
}

// Size is the bytes of all chunks.
func (c *Chunks) Size() int64 { return c.size }

// Len is the number of chunks.
func (c *Chunks) Len() int { return len(c.chunks) }

// Section returns a reader over chunk n and its size, or nil when the
// result is gone. The chunk counts as served.
func (c *Chunks) Section(n int) (io.ReadSeeker, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil || n < 0 || n >= len(c.chunks) {
		return nil, 0
	}
	ch := c.chunks[n]
	if c.served == nil {
		c.served = map[int]bool{}
	}
	c.served[n] = true
	return io.NewSectionReader(c.f, ch.off, ch.len), ch.len
}

// Fetched reports whether every chunk was downloaded at least once.
func (c *Chunks) Fetched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f == nil || len(c.served) == len(c.chunks)
}

// Ref is one chunk as the response lists it.
type Ref struct {
	URL              string `json:"url"`
	RowCount         int64  `json:"rowCount"`
	UncompressedSize int64  `json:"uncompressedSize"`
	CompressedSize   int64  `json:"compressedSize"`
}

// Refs lists the chunks for the response: each one's URL is
// prefix/<n>?k=<key>.
func (c *Chunks) Refs(prefix string) []Ref {
	refs := make([]Ref, len(c.chunks))
	for i, ch := range c.chunks {
		refs[i] = Ref{URL: prefix + "/" + strconv.Itoa(i) + "?k=" + c.key, RowCount: ch.rows, UncompressedSize: ch.len, CompressedSize: ch.len}
	}
	return refs
}

// Serve's failures before a byte is sent: it answered 404 for both.
var (
	ErrNoChunk  = errors.New("no such result chunk")
	ErrChunkKey = fmt.Errorf("%w: wrong key", ErrNoChunk)
)

// Serve writes chunk n to w if key is the chunks' own, compared in
// constant time: drivers download chunks without a session token, so the
// URL's key is the credential. It returns ErrChunkKey or ErrNoChunk,
// having answered 404, for a wrong key or a chunk that is gone, and
// otherwise the copy's error.
func (c *Chunks) Serve(w http.ResponseWriter, n int, key string, arrow bool) error {
	if subtle.ConstantTimeCompare([]byte(key), []byte(c.key)) != 1 {
		http.Error(w, ErrNoChunk.Error(), http.StatusNotFound)
		return ErrChunkKey
	}
	sec, size := c.Section(n)
	if sec == nil {
		http.Error(w, ErrNoChunk.Error(), http.StatusNotFound)
		return ErrNoChunk
	}
	if arrow {
		w.Header().Set("Content-Type", "application/octet-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	_, err := io.Copy(w, sec)
	return err
}
