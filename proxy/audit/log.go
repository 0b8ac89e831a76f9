package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config.
const (
	DefaultReplica            = "main"
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 10 * time.Second
	DefaultMaxBatch           = 256
	DefaultWriteTimeout       = 10 * time.Second
)

// Config says where the trail goes and how it is sealed. Fields may not be
// changed after Open.
type Config struct {
	// DSN names the store: "sqlite:///path/audit.db" (a bare path means
	// SQLite too) or "postgres://...". Ignored when Store is set.
	DSN string
	// Store, when set, is used instead of opening DSN; Close closes it.
	Store Store
	// Replica names this gateway's chain; each replica sharing a store
	// needs its own. Default DefaultReplica.
	Replica string
	// SigningKey signs checkpoints. Without it checkpoints are written
	// unsigned: they still show a truncated tail to Verify, but someone
	// able to rewrite the database can rewrite them too.
	SigningKey ed25519.PrivateKey
	// CheckpointEvery is how many records may follow the last checkpoint
	// before the next; default DefaultCheckpointEvery.
	CheckpointEvery int
	// CheckpointInterval is how long a record may wait for a checkpoint;
	// default DefaultCheckpointInterval.
	CheckpointInterval time.Duration
	// RedactLiterals replaces the literals of every statement's SQL by ?
	// before it is stored.
	RedactLiterals bool
	// MaxBatch caps how many concurrent Record calls share one commit;
	// default DefaultMaxBatch.
	MaxBatch int
	// WriteTimeout bounds one commit; default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Logger receives write failures and checkpoints; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Log appends events to one replica's chain. Concurrent Record calls are
// committed together (group commit): one transaction and one fsync per
// batch. It is safe for concurrent use.
type Log struct {
	cfg   Config
	store Store
	log   *slog.Logger

	reqs chan *request
	quit chan struct{}

	deferMu  sync.Mutex
	deferred []*request // Defer'd events, written with the next commit
	meter    meter      // for Stats (health.go)
	done     chan struct{}
	closed   sync.Once
	cerr     error

	// owned by the writer goroutine
	tail  Position
	stale bool // tail must be re-read before the next append
	// unsure is the end of the last failed commit, which may have
	// happened even so, and the deferred events it held, kept for the
	// next commit: written again unless the re-read tail shows they were.
	// Its statements were refused: if it happened, each gets a not-run
	// outcome.
	unsure        Position
	unsureReqs    []*request
	unsureRefused []*request
	sinceCP       int64
	lastCP        time.Time
	lastCPSeq     int64
}

type request struct {
	event    []byte // canonical encoding of the normalized event
	e        *Event
	replyTo  chan reply
	deferred bool         // from Defer: no one waits for the reply
	state    atomic.Int32 // pending, answered, or abandoned by its caller
}

// request states
const (
	pending int32 = iota
	answered
	abandoned // Record's caller stopped waiting and failed
)

// answer sends rep to r's caller, unless the caller stopped waiting: then
// it reports false.
func (r *request) answer(rep reply) bool {
	if !r.state.CompareAndSwap(pending, answered) {
		return false
	}
	r.replyTo <- rep
	return true
}

type reply struct {
	id  string
	err error
}

// Open opens the store and resumes the replica's chain where it ends.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Replica == "" {
		cfg.Replica = DefaultReplica
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !validReplica(cfg.Replica) {
		return nil, fmt.Errorf("audit: Replica %q: use letters, digits, '.', '_' and '-' (at most 64)", cfg.Replica)
	}
	if cfg.SigningKey != nil && len(cfg.SigningKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("audit: SigningKey: want %d bytes, got %d", ed25519.PrivateKeySize, len(cfg.SigningKey))
	}
	store := cfg.Store
	if store == nil {
		var err error
		if store, err = OpenStore(ctx, cfg.DSN, StoreOptions{}); err != nil {
			return nil, err
		}
	}
	tail, err := store.Tail(ctx, cfg.Replica)
	if err != nil {
		store.Close()
		return nil, err
	}
	cps, err := store.Checkpoints(ctx, cfg.Replica)
	if err != nil {
		store.Close()
		return nil, err
	}
	l := &Log{
		cfg: cfg, store: store, log: cfg.Logger.With("replica", cfg.Replica),
		reqs: make(chan *request), quit: make(chan struct{}), done: make(chan struct{}),
		tail: tail, lastCP: cfg.Now(),
	}
	if n := len(cps); n > 0 {
		l.lastCPSeq = cps[n-1].Seq
	}
	if tail.Seq < l.lastCPSeq {
		// Appending would bury the evidence under new records: refuse, so
		// the gateway refuses statements until someone looks.
		store.Close()
		return nil, fmt.Errorf("%w: replica %s ends at seq %d but a checkpoint names seq %d; run snowgate audit verify", ErrTruncated, cfg.Replica, tail.Seq, l.lastCPSeq)
	}
	l.sinceCP = tail.Seq - l.lastCPSeq
	go l.writer()
	return l, nil
}

// validReplica keeps replica names short and plain: they go into record
// ids, and from there into Snowflake's QUERY_TAG.
func validReplica(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Replica is the name of the chain this log appends to.
func (l *Log) Replica() string { return l.cfg.Replica }

// Store is the store the log writes to.
func (l *Log) Store() Store { return l.store }

// Record appends e to the trail and returns its id ("REPLICA:SEQ") once
// the record is durable: committed and fsync'd. On an error the gateway
// must not act on the event (fail closed); the record may or may not have
// been written (a commit whose answer was lost, or ctx ending while the
// commit was under way), which errs on the side of recording.
func (l *Log) Record(ctx context.Context, e Event) (string, error) {
	if err := e.validate(); err != nil {
		return "", err
	}
	e = normalize(e, l.cfg.Now(), l.cfg.RedactLiterals)
	event, err := Canonical(&e)
	if err != nil {
		return "", fmt.Errorf("audit: %w", err)
	}
	r := &request{event: event, e: &e, replyTo: make(chan reply, 1)}
	l.meter.waiting.Add(1)
	defer l.meter.waiting.Add(-1)
	select {
	case l.reqs <- r:
	case <-l.quit:
		return "", ErrClosed
	case <-ctx.Done():
		return "", fmt.Errorf("audit: record %s: %w", e.Type, ctx.Err())
	}
	select {
	case rep := <-r.replyTo:
		return rep.id, rep.err
	case <-ctx.Done():
		if !r.state.CompareAndSwap(pending, abandoned) {
			rep := <-r.replyTo // answered meanwhile
			return rep.id, rep.err
		}
		return "", fmt.Errorf("audit: record %s: %w", e.Type, ctx.Err())
	}
}

// DeferredFlush bounds how long a Defer'd event waits for a commit to ride.
const DeferredFlush = 200 * time.Millisecond

// Defer appends e without waiting for it to be durable: it is written with
// the next Record's commit, or within DeferredFlush. For events the gateway
// does not act on (a statement's outcome), so that they cost no commit of
// their own; a crash may lose them, never a Record'd event.
func (l *Log) Defer(e Event) error {
	r, err := l.deferredRequest(e)
	if err != nil {
		return err
	}
	select {
	case <-l.quit:
		return ErrClosed
	default:
	}
	l.deferMu.Lock()
	l.deferred = append(l.deferred, r)
	l.deferMu.Unlock()
	return nil
}

func (l *Log) deferredRequest(e Event) (*request, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	e = normalize(e, l.cfg.Now(), l.cfg.RedactLiterals)
	event, err := Canonical(&e)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &request{event: event, e: &e, replyTo: make(chan reply, 1), deferred: true}, nil
}

// notRun returns the outcomes of the statements among refused, whose
// records are in the trail although the gateway refused them.
func (l *Log) notRun(refused []*request) []*request {
	var out []*request
	for _, r := range refused {
		if r.e.Type != TypeStatement || r.e.QueryID == "" {
			continue
		}
		o, err := l.deferredRequest(Event{Type: TypeOutcome, SessionID: r.e.SessionID, RequestID: r.e.RequestID, QueryID: r.e.QueryID,
			Outcome: &Outcome{NotRun: true, ErrorMessage: "not run: the gateway was not told that the statement's record was written, so it refused the statement"}})
		if err != nil {
			l.log.Error("audit: a not-run outcome could not be made", "query", r.e.QueryID, "err", err)
			continue
		}
		out = append(out, o)
	}
	return out
}

// takeDeferred returns and clears the deferred events.
func (l *Log) takeDeferred() []*request {
	l.deferMu.Lock()
	defer l.deferMu.Unlock()
	d := l.deferred
	l.deferred = nil
	return d
}

// Close waits for the records under way, writes a last checkpoint and
// closes the store.
func (l *Log) Close() error {
	l.closed.Do(func() {
		close(l.quit)
		<-l.done
		l.cerr = l.store.Close()
	})
	return l.cerr
}

// writer is the one goroutine that appends: it takes every request
// waiting, seals them into a chain, commits them in one transaction and
// answers them.
func (l *Log) writer() {
	defer close(l.done)
	tick := time.NewTicker(l.cfg.CheckpointInterval / 2)
	defer tick.Stop()
	flush := time.NewTicker(DeferredFlush)
	defer flush.Stop()
	batch := make([]*request, 0, l.cfg.MaxBatch)
	for {
		select {
		case r := <-l.reqs:
			// Deferred events happened before this request: they go first.
			batch = append(append(batch[:0], l.takeDeferred()...), r)
		drain:
			for len(batch) < l.cfg.MaxBatch {
				select {
				case r := <-l.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			l.commit(batch)
			clear(batch)
		case <-flush.C:
			if d := l.takeDeferred(); len(d) > 0 {
				l.commit(d)
			}
		case <-tick.C:
			if l.sinceCP > 0 && l.cfg.Now().Sub(l.lastCP) >= l.cfg.CheckpointInterval {
				l.commit(nil)
			}
		case <-l.quit:
			// Senders that won the race with quit are waiting in l.reqs.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*request{r})
					continue
				default:
				}
				break
			}
			if d := l.takeDeferred(); len(d) > 0 {
				l.commit(d)
			}
			if l.sinceCP > 0 {
				l.commit(nil)
			}
			return
		}
	}
}

// commit appends batch (and a checkpoint when one is due; a nil batch
// writes only the checkpoint), retrying once on a conflict, and answers
// every request.
func (l *Log) commit(batch []*request) {
	var recs []Record
	var cp *Checkpoint
	var err error
	var end Position // where the chain ends if this commit happens
	start := time.Now()
	force := len(batch) == 0
	for attempt := 0; attempt < 2; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.WriteTimeout)
		if l.stale {
			var tail Position
			if tail, err = l.store.Tail(ctx, l.cfg.Replica); err != nil {
				cancel()
				end = Position{}
				break
			}
			l.tail, l.stale = tail, false
			if l.unsure.Seq > 0 && tail == l.unsure {
				// The failed commit happened: its deferred events are
				// written, and its statements are there though they were
				// refused.
				batch = slices.DeleteFunc(batch, func(r *request) bool { return slices.Contains(l.unsureReqs, r) })
				batch = append(l.notRun(l.unsureRefused), batch...)
			}
			l.unsure, l.unsureReqs, l.unsureRefused = Position{}, nil, nil
		}
		recs = l.seal(batch)
		if n := len(recs); n > 0 {
			end = Position{Seq: recs[n-1].Seq, Hash: recs[n-1].Hash}
		}
		cp = l.checkpointFor(recs, force)
		if len(recs) == 0 && cp == nil {
			cancel()
			return
		}
		err = l.store.Append(ctx, recs, cp)
		cancel()
		if errors.Is(err, ErrConflict) {
			l.log.Warn("audit chain moved under this replica; re-reading its tail", "err", err)
			l.stale = true
			continue
		}
		break
	}
	l.meter.committed(time.Since(start), len(recs), err)
	if err != nil {
		// The commit may have happened even so: re-read the tail first.
		l.stale = true
		l.log.Error("audit write failed", "records", len(batch), "err", err)
		var again, refused []*request
		for _, r := range batch {
			if r.deferred {
				// No one is told of the failure: keep it for the next
				// commit rather than lose it.
				again = append(again, r)
				continue
			}
			refused = append(refused, r)
			r.answer(reply{err: fmt.Errorf("audit: record %s: %w", r.e.Type, err)})
		}
		if end.Seq > 0 {
			l.unsure, l.unsureReqs, l.unsureRefused = end, again, refused
		}
		if len(again) > 0 {
			l.deferMu.Lock()
			l.deferred = append(again, l.deferred...)
			l.deferMu.Unlock()
		}
		return
	}
	if n := len(recs); n > 0 {
		l.tail = Position{Seq: recs[n-1].Seq, Hash: recs[n-1].Hash}
		l.sinceCP += int64(n)
	}
	if cp != nil {
		l.sinceCP, l.lastCP, l.lastCPSeq = l.tail.Seq-cp.Seq, l.cfg.Now(), cp.Seq
		// A complete copy of the checkpoint, outside the store: these lines
		// can be fed back to Verify as anchors.
		l.log.Info("audit checkpoint", "seq", cp.Seq, "hash", cp.Hash, "time", cp.Time.Format(time.RFC3339Nano),
			"public_key", cp.PublicKey, "signature", cp.Signature)
	}
	var gone []*request
	for i, r := range batch {
		if !r.answer(reply{id: recs[i].ID()}) {
			gone = append(gone, r) // its caller failed: the gateway refused it
		}
	}
	if d := l.notRun(gone); len(d) > 0 {
		l.deferMu.Lock()
		l.deferred = append(l.deferred, d...)
		l.deferMu.Unlock()
	}
}

// seal chains the batch after the current tail.
func (l *Log) seal(batch []*request) []Record {
	if len(batch) == 0 {
		return nil
	}
	recs := make([]Record, len(batch))
	prev, seq := l.tail.Hash, l.tail.Seq
	for i, r := range batch {
		seq++
		body, hash := seal(r.event, l.cfg.Replica, seq, prev)
		recs[i] = Record{
			Replica: l.cfg.Replica, Seq: seq, Prev: prev, Hash: hash, Body: body,
			Time: r.e.Time, Type: r.e.Type, SessionID: r.e.SessionID, Subject: r.e.subject(),
		}
		prev = hash
	}
	return recs
}

// checkpointFor returns the checkpoint to write with recs, if one is due:
// after CheckpointEvery records, after CheckpointInterval, or (force) when
// asked for one over the current tail.
func (l *Log) checkpointFor(recs []Record, force bool) *Checkpoint {
	pending := l.sinceCP + int64(len(recs))
	due := force || pending >= int64(l.cfg.CheckpointEvery) || l.cfg.Now().Sub(l.lastCP) >= l.cfg.CheckpointInterval
	if !due || pending == 0 {
		return nil
	}
	seq, hash := l.tail.Seq, l.tail.Hash
	if n := len(recs); n > 0 {
		seq, hash = recs[n-1].Seq, recs[n-1].Hash
	}
	if seq <= l.lastCPSeq {
		return nil
	}
	cp := newCheckpoint(l.cfg.Replica, seq, hash, l.cfg.Now(), l.cfg.SigningKey)
	return &cp
}
