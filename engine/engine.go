package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	library "github.com/snowgate/snowgate/rego"
)

// DefaultTimeout bounds one policy evaluation. Decisions take well under a
// millisecond; the bound is there for a runaway policy, and generous enough
// that a loaded machine's scheduling hiccups do not turn into denials.
const DefaultTimeout = time.Second

// Options configure an Engine. The zero value evaluates the embedded default
// library with DefaultTimeout and discards logs.
type Options struct {
	// Dir is a directory of policy (*.rego) and data (data.json) files, laid
	// out as for `opa test` or `opa build`. *_test.rego files are skipped.
	Dir string
	// FS is used when Dir is empty. Defaults to the embedded rego/ library.
	FS fs.FS
	// Bundle, when set, is activated instead of Dir or FS.
	Bundle *bundle.Bundle
	// Timeout bounds each evaluation. Defaults to DefaultTimeout.
	Timeout time.Duration
	// Logger receives evaluation failures and activations. Defaults to a
	// logger that discards.
	Logger *slog.Logger
	// Now is the evaluation clock (time.now_ns in Rego). Defaults to time.Now.
	Now func() time.Time
	// NewID makes decision IDs. Defaults to a random 128-bit ID.
	NewID func() string
	// MemoSize is how many decisions are remembered by what the policy
	// reads of their input (memo.go): 0 is DefaultMemoSize, a negative
	// size remembers none, so that every decision is evaluated.
	MemoSize int
}

// Engine makes policy decisions. It is safe for concurrent use; Activate
// swaps the policy between two evaluations without blocking them.
type Engine struct {
	opts   Options
	log    *slog.Logger
	active atomic.Pointer[policy]

	remembered atomic.Uint64 // decisions answered from a memo, across policies

	dataMu sync.Mutex     // serialises activations with SetData
	data   map[string]any // SetData's documents by storage path (data.go)
}

// New loads the policy named by opts and prepares its queries.
func New(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = newID
	}
	if opts.MemoSize == 0 {
		opts.MemoSize = DefaultMemoSize
	}
	e := &Engine{opts: opts, log: opts.Logger}
	b := opts.Bundle
	if b == nil {
		src := opts.FS
		if opts.Dir != "" {
			if _, err := os.Stat(opts.Dir); err != nil {
				return nil, fmt.Errorf("policy directory: %w", err)
			}
			src = os.DirFS(opts.Dir)
		}
		if src == nil {
			src = library.FS
		}
		var err error
		if b, err = LoadFS(src); err != nil {
			return nil, err
		}
	}
	if err := e.activate(ctx, b); err != nil {
		return nil, err
	}
	return e, nil
}

// Activate prepares b and makes it the active policy. On error the previous
// policy stays active.
func (e *Engine) Activate(b *bundle.Bundle) error {
	return e.activate(context.Background(), b)
}

func (e *Engine) activate(ctx context.Context, b *bundle.Bundle) error {
	if b == nil {
		return errors.New("activate: no bundle")
	}
	p, err := prepare(ctx, b, e.opts.MemoSize)
	if err == nil {
		e.dataMu.Lock()
		defer e.dataMu.Unlock()
		if err = e.applyData(ctx, p); err == nil {
			err = p.settle(ctx, e.opts.Timeout)
		}
	}
	if err != nil {
		e.log.Error("policy activation failed", slog.String("revision", b.Manifest.Revision), slog.Any("error", err))
		return fmt.Errorf("activate policy: %w", err)
	}
	old := e.active.Swap(p)
	attrs := []any{slog.String("revision", p.revision)}
	if old != nil {
		attrs = append(attrs, slog.String("previous", old.revision))
	}
	e.log.Info("policy activated", attrs...)
	return nil
}

// Remembered is how many decisions were answered from the memo of
// decisions (memo.go) rather than evaluated, over the engine's life.
func (e *Engine) Remembered() uint64 { return e.remembered.Load() }

// Revision is the revision of the active policy.
func (e *Engine) Revision() string {
	if p := e.active.Load(); p != nil {
		return p.revision
	}
	return ""
}
