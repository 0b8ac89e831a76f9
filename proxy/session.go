package proxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"github.com/snowgate/snowgate/proxy/statement"
	"sync"
	"sync/atomic"
	"time"
)

// session is one client session: its tokens, who it is, and its upstream
// session.
type session struct {
	id           int64
	principal    *Principal
	conn         Conn
	catalog      statement.Catalog // nil when the upstream cannot list columns
	release      func()            // returns the upstream credentials; may be nil
	unwatch      func() bool       // stops watching for the credentials' withdrawal; may be nil
	quotaKeys    []string          // the counters its activity goes to (QuotaKeys)
	upstreamUser string            // the upstream login, for the audit trail
	started      time.Time
	client       clientInfo
	arrow        atomic.Bool // results go to the client as Arrow (readsArrow)

	mu            sync.Mutex
	token         string
	master        string
	tokenExpires  time.Time
	masterExpires time.Time
	lastUsed      time.Time
	state         SessionState
	queryTag      string
	params        map[string]string // the result-format parameters set, upper-case (readsArrow)
	requests      map[string]*query // by the client's requestId
	results       []resultEntry     // the latest statements that ran upstream, by position modulo resultHistory (results.go); nil until one has
	ran           int64             // how many statements have run upstream
	closed        bool
}

type clientInfo struct {
	App, Version, Address string
}

func (s *session) snapshot() SessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// sessions indexes live sessions by their tokens.
type sessions struct {
	mu       sync.Mutex
	byToken  map[string]*session
	byMaster map[string]*session
	byID     map[int64]*session
}

func newSessions() *sessions {
	return &sessions{byToken: map[string]*session{}, byMaster: map[string]*session{}, byID: map[int64]*session{}}
}

func (ss *sessions) add(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.byToken[s.token] = s
	ss.byMaster[s.master] = s
	ss.byID[s.id] = s
}

// rotate gives s a fresh session token, retiring the old one.
func (ss *sessions) rotate(s *session, ttl time.Duration) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(ss.byToken, s.token)
	s.token = newToken()
	s.tokenExpires = time.Now().Add(ttl)
	ss.byToken[s.token] = s
}

func (ss *sessions) remove(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byToken, s.token)
	delete(ss.byMaster, s.master)
	delete(ss.byID, s.id)
}

func (ss *sessions) token(t string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byToken[t]
}

func (ss *sessions) master(t string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.byMaster[t]
}

func (ss *sessions) all() []*session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]*session, 0, len(ss.byID))
	for _, s := range ss.byID {
		out = append(out, s)
	}
	return out
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSessionID returns a random positive int64: drivers decode it as a number.
func newSessionID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 12) // well inside JavaScript's safe integers
}
