package proxy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// query is one query-request (or one statement of a multi-statement
// request): running, or finished with a result or an error.
type query struct {
	id        string
	requestID string
	session   *session
	sql       string
	async     bool
	arrow     bool // its result goes as Arrow (the session's driver reads it)
	started   time.Time
	cancelCtx context.CancelFunc
	abandon   func()      // cancels the query's context with errAbandoned
	interrupt func()      // cancels the query's context with errDraining
	results   *resultView // the session's results its analysis saw; nil when none
	queryTag  string      // the request's QUERY_TAG parameter; empty: the session's

	delivered atomic.Bool  // its answer was sent to a client request
	held      atomic.Bool  // waiting for an approval (hold mode)
	waiting   atomic.Int32 // client requests awaiting the query now
	left      atomic.Int64 // when the last one stopped waiting, unix nanoseconds

	once  sync.Once
	done  chan struct{}
	res   *result // set before done closes, on success
	err   *Error  // set before done closes, on failure
	ended time.Time
}

func newQuery(ctx context.Context, sess *session, requestID, sql string) (*query, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	q := &query{
		id: uuid.NewString(), requestID: requestID, session: sess, sql: sql, arrow: sess.arrow.Load(),
		started: time.Now(), cancelCtx: func() { cancel(nil) }, abandon: func() { cancel(errAbandoned) }, interrupt: func() { cancel(errDraining) }, done: make(chan struct{}),
	}
	q.left.Store(q.started.UnixNano())
	return q, ctx
}

// errAbandoned is the cause of a query's cancellation when its client left.
var errAbandoned = errors.New("the client left: no request of its client awaited the statement")

// errClientLeft is what a request answers when its client is gone before
// the answer: there is no one to answer.
var errClientLeft = errors.New("client left")

// watch marks a client request awaiting the query; the function it returns
// marks the end of the wait.
func (q *query) watch() func() {
	q.waiting.Add(1)
	return func() {
		q.left.Store(time.Now().UnixNano())
		q.waiting.Add(-1)
	}
}

// abandoned reports whether the query's client has left: no request awaits
// it, and none has for longer than d. An asynchronous query's client comes
// back when it pleases, so it never leaves.
func (q *query) abandoned(now time.Time, d time.Duration) bool {
	return !q.async && q.waiting.Load() == 0 && now.Sub(time.Unix(0, q.left.Load())) > d
}

// abandonWhenLeft cancels the query, with errAbandoned as the cause, once
// its client has left; it checks every second from d on, until the query
// is done. The function it returns stops the checks: a pending timer keeps
// the query, its session and its result reachable, so one left to run out
// after the query finished held every statement's result in memory for d.
func (q *query) abandonWhenLeft(d time.Duration) (stop func()) {
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		switch {
		case q.finished():
		case q.abandoned(time.Now(), d):
			q.abandon()
		default:
			t.Reset(time.Second) // a stop racing this costs at most one more second
		}
	})
	return func() { t.Stop() }
}

// canceled is the error of a statement whose context ended: abandoned when
// its client left, else cancelled by the client.
func canceled(ctx context.Context, while string) *Error {
	msg := "SQL execution canceled"
	if while != "" {
		msg += " " + while
	}
	if errors.Is(context.Cause(ctx), errDraining) {
		return &Error{Code: CodeCanceled, SQLState: "57014", Message: msg + ": snowgate is restarting; run the statement again" +
			" (an approval request stays in the store, and the statement runs once it is approved)", Err: errDraining}
	}
	if errors.Is(context.Cause(ctx), errAbandoned) {
		return &Error{Code: CodeCanceled, SQLState: "57014", Message: msg + ": abandoned, its client left", Err: errAbandoned}
	}
	return &Error{Code: CodeCanceled, SQLState: "57014", Message: msg}
}

// finish records the query's outcome once; later calls are ignored.
func (q *query) finish(res *result, err *Error) {
	q.once.Do(func() {
		q.res, q.err, q.ended = res, err, time.Now()
		if err != nil && res != nil {
			res.close()
			q.res = nil
		}
		close(q.done)
		q.cancelCtx()
	})
	if res != nil && q.res != res {
		res.close() // the query had already ended (cancelled): drop the late result
	}
}

// cancel stops a running query; its client sees "SQL execution canceled".
func (q *query) cancel() bool {
	select {
	case <-q.done:
		return false
	default:
	}
	q.finish(nil, &Error{Code: CodeCanceled, SQLState: "57014", Message: "SQL execution canceled", Err: queryIDError(q.id)})
	return true
}

func (q *query) finished() bool {
	select {
	case <-q.done:
		return true
	default:
		return false
	}
}

// queryIDError carries a query id to the error envelope.
type queryIDError string

func (e queryIDError) Error() string   { return "query " + string(e) }
func (e queryIDError) QueryID() string { return string(e) }

// queries indexes queries by id.
type queries struct {
	mu        sync.Mutex
	byID      map[string]*query
	bySession map[int64][]*query // in the order they came
}

func newQueries() *queries {
	return &queries{byID: map[string]*query{}, bySession: map[int64][]*query{}}
}

// keptPerSession is how many of a session's latest queries are kept, with
// their results, for the client to fetch again by query id or request id
// (until ResultTTL). Older ones whose answer was delivered in full are
// dropped as new ones come: a session that runs statements for hours holds
// no more than these.
const keptPerSession = 16

func (qs *queries) add(q *query) { release(qs.insert(q)) }

// insert lists q and returns the session's older queries it pushed out,
// for release once the caller holds no session's lock: forgetting one
// takes its session's.
func (qs *queries) insert(q *query) (dropped []*query) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	qs.byID[q.id] = q
	list := append(qs.bySession[q.session.id], q)
	if excess := len(list) - keptPerSession; excess > 0 {
		kept := list[:0] // filtered in place: the list is this session's alone
		for _, x := range list {
			if excess > 0 && x.spent() {
				dropped = append(dropped, x)
				delete(qs.byID, x.id)
				excess--
				continue
			}
			kept = append(kept, x)
		}
		list = kept
	}
	qs.bySession[q.session.id] = list
	return dropped
}

// release forgets queries dropped from the table and frees their results.
func release(dropped []*query) {
	for _, d := range dropped {
		d.session.forget(d)
		if d.res != nil {
			d.res.close()
		}
	}
}

// maxPendingAsync is how many asynchronous statements a session may have
// running or holding a result it has not fetched. Each such result keeps
// its inline rows (up to InlineBytes) in memory and its chunks on disk
// until ResultTTL: without a bound, a client that starts statements and
// never fetches them fills the gateway's memory.
const maxPendingAsync = 64

// pendingAsync counts the session's asynchronous queries that are running,
// or finished with a result no request of its client has fetched. One that
// failed or was cancelled holds no result and does not count.
func (qs *queries) pendingAsync(session int64) int {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	n := 0
	for _, q := range qs.bySession[session] {
		if q.async && !q.delivered.Load() && (!q.finished() || q.res != nil) {
			n++
		}
	}
	return n
}

// spent says whether a query is done with: finished, its answer delivered,
// and every chunk of its result downloaded.
func (q *query) spent() bool {
	return q.finished() && q.delivered.Load() && (q.res == nil || q.res.Chunks == nil || q.res.Chunks.Fetched())
}

// unlist removes q from its session's list; qs.mu is held.
func (qs *queries) unlist(q *query) {
	list := qs.bySession[q.session.id]
	for i, x := range list {
		if x == q {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(qs.bySession, q.session.id)
		return
	}
	qs.bySession[q.session.id] = list
}

func (qs *queries) get(id string) *query {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return qs.byID[id]
}

// expire drops finished queries older than ttl, with their results.
func (qs *queries) expire(now time.Time, ttl time.Duration) {
	qs.mu.Lock()
	var old []*query
	for id, q := range qs.byID {
		if q.finished() && now.Sub(q.ended) > ttl {
			old = append(old, q)
			delete(qs.byID, id)
			qs.unlist(q)
		}
	}
	qs.mu.Unlock()
	for _, q := range old {
		q.session.forget(q)
		if q.res != nil {
			q.res.close()
		}
	}
}

// dropSession cancels and drops every query of a session.
func (qs *queries) dropSession(id int64) {
	qs.mu.Lock()
	var gone []*query
	for qid, q := range qs.byID {
		if q.session.id == id {
			gone = append(gone, q)
			delete(qs.byID, qid)
		}
	}
	delete(qs.bySession, id)
	qs.mu.Unlock()
	for _, q := range gone {
		q.cancel()
		if q.res != nil {
			q.res.close()
		}
	}
}

func (qs *queries) closeAll() {
	qs.mu.Lock()
	all := qs.byID
	qs.byID, qs.bySession = map[string]*query{}, map[int64][]*query{}
	qs.mu.Unlock()
	for _, q := range all {
		q.cancel()
		if q.res != nil {
			q.res.close()
		}
	}
}

// forget removes a query from its session's requestId index.
func (s *session) forget(q *query) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requests[q.requestID] == q {
		delete(s.requests, q.requestID)
	}
}
