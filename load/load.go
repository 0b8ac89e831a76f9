// Package load drives a gateway with many sessions over the real
// gosnowflake driver, as `snowgate load` does: each session logs in with a
// token, runs a weighted mix of allowed, masked, denied and approval-bound
// statements (small results and a large one), logs in again now and then,
// and the run reports throughput, latency percentiles per statement class,
// outcomes and errors by Snowflake code, and the gateway's goroutines,
// heap and open files read from its admin /metrics while the load runs.
// A soak (Config.Soak) also judges whether those stay flat under constant
// load and come back once the sessions have left.
package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sf "github.com/snowflakedb/gosnowflake"
)

// Outcomes of a statement, as the client sees them.
const (
	Allowed  = "allowed"  // ran; its values came back as they are
	Masked   = "masked"   // ran; its values came back masked
	Denied   = "denied"   // refused with 003001
	Ticketed = "ticketed" // refused with 003002: an approval request was opened
	Error    = "error"    // anything else
)

// Snowflake codes the gateway answers a policy's refusals with.
const (
	CodeDenied   = "003001"
	CodeTicketed = "003002"
)

// Codes of errors that are not the gateway's answer: the driver or the
// network failed, or a masked statement's values were not masked.
const (
	CodeClient    = "client"
	CodeMaskCheck = "mask-check"
)

// TokenSource returns an OAuth access token for one login.
type TokenSource func(ctx context.Context) (string, error)

// Statement is one entry of the mix.
type Statement struct {
	Class  string // its name in the report, e.g. "allowed"
	Expect string // the outcome it should have: Allowed, Masked, Denied or Ticketed
	Weight int    // its share of the mix, relative to the others'
	SQL    string
	// Args, when set, gives the bind values of one execution.
	Args func(r *rand.Rand) []any
	// Check, when set, is called on each row of a result that came back
	// and fails the statement (CodeMaskCheck) when it returns an error.
	Check func(row []any) error
}

// Default statement mix against `snowgate dev`'s sample data, for the agent
// identity (the default library masks its e-mail addresses and answers its
// DELETE with a ticket).
func DefaultMix() []Statement {
	return []Statement{
		{Class: "allowed", Expect: Allowed, Weight: 60, SQL: `SELECT id, amount FROM orders WHERE id = ?`,
			Args: func(r *rand.Rand) []any { return []any{1 + r.IntN(1000)} }},
		{Class: "large", Expect: Allowed, Weight: 5, SQL: `SELECT * FROM events ORDER BY id`},
		{Class: "masked", Expect: Masked, Weight: 20, SQL: `SELECT email FROM customers LIMIT 5`, Check: maskedEmails},
		{Class: "denied", Expect: Denied, Weight: 10, SQL: `GRANT ROLE SYSADMIN TO USER mallory`},
		{Class: "approval", Expect: Ticketed, Weight: 5, SQL: `DELETE FROM orders`},
	}
}

// maskedEmails accepts a row whose strings are masked addresses (email_domain:
// "****@domain") or redacted.
func maskedEmails(row []any) error {
	for _, v := range row {
		if s, ok := v.(string); ok && !strings.HasPrefix(s, "****") {
			return fmt.Errorf("value %q is not masked", s)
		}
	}
	return nil
}

// Defaults of Config.
const (
	DefaultSessions        = 20
	DefaultRelogin         = 30 * time.Second
	DefaultMetricsInterval = 2 * time.Second
	DefaultLoginTimeout    = 60 * time.Second
)

// Config is one run.
type Config struct {
	Addr     string // the gateway's host:port; required
	Protocol string // http (default) or https
	Account  string // default "snowgate"
	Database string // default "DEMO"
	Schema   string // default "PUBLIC"
	Token    TokenSource

	Sessions int // default DefaultSessions
	// Duration and Statements bound the run; at least one is required.
	// When Duration is over or Statements have been sent, no session starts
	// another statement and the run ends when those running have answered.
	Duration   time.Duration
	Statements int64
	// Ramp spreads the sessions' first logins over this long (default: none).
	Ramp time.Duration
	// Relogin is how long a session lasts before it logs out and in again
	// with a fresh token (default DefaultRelogin, jittered ±25%; <0: never).
	Relogin      time.Duration
	LoginTimeout time.Duration // default DefaultLoginTimeout

	Mix []Statement // default DefaultMix()

	// MetricsURL, when set, is the gateway's admin /metrics, read every
	// MetricsInterval (default DefaultMetricsInterval) and at the end.
	MetricsURL      string
	MetricsInterval time.Duration

	Seed uint64 // of the sessions' random choices

	// Soak, when set, makes the run a soak (soak.go); it needs MetricsURL
	// and a Duration.
	Soak   *SoakConfig
	Logger *slog.Logger // default: none
}

func (c *Config) setDefaults() error {
	if c.Addr == "" {
		return errors.New("load: Addr (the gateway's address) is required")
	}
	if c.Token == nil {
		return errors.New("load: Token (a token source) is required")
	}
	if c.Duration <= 0 && c.Statements <= 0 {
		return errors.New("load: a Duration or a number of Statements is required")
	}
	if c.Protocol == "" {
		c.Protocol = "http"
	}
	if c.Account == "" {
		c.Account = "snowgate"
	}
	if c.Database == "" {
		c.Database = "DEMO"
	}
	if c.Schema == "" {
		c.Schema = "PUBLIC"
	}
	if c.Sessions <= 0 {
		c.Sessions = DefaultSessions
	}
	if c.Relogin == 0 {
		c.Relogin = DefaultRelogin
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = DefaultLoginTimeout
	}
	if c.MetricsInterval <= 0 {
		c.MetricsInterval = DefaultMetricsInterval
	}
	if len(c.Mix) == 0 {
		c.Mix = DefaultMix()
	}
	total := 0
	for _, s := range c.Mix {
		if s.Weight < 0 {
			return fmt.Errorf("load: statement class %q: weight %d is negative", s.Class, s.Weight)
		}
		switch s.Expect {
		case Allowed, Masked, Denied, Ticketed:
		default:
			return fmt.Errorf("load: statement class %q: expected outcome %q is not one of allowed, masked, denied, ticketed", s.Class, s.Expect)
		}
		total += s.Weight
	}
	if total == 0 {
		return errors.New("load: every statement class has weight 0")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Soak != nil {
		soak := *c.Soak
		c.Soak = &soak
		return c.Soak.setDefaults(c)
	}
	return nil
}

// runner is one run's shared state.
type runner struct {
	cfg    Config
	host   string
	port   int
	start  time.Time
	until  time.Time // zero: no time bound
	issued atomic.Int64
	// answered counts the statements that had their answer, for the
	// throughput between two /metrics samples.
	answered atomic.Int64
	total    int // of the weights

	classes map[string]*classStats
	logins  *classStats
}

// Run drives the gateway as cfg says and reports what it saw. It returns an
// error only when cfg is not usable; failures under load are in the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("load: gateway address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("load: gateway address %q: port: %w", cfg.Addr, err)
	}
	r := &runner{cfg: cfg, host: host, port: port, classes: map[string]*classStats{}, logins: newClassStats("login", "")}
	for _, s := range cfg.Mix {
		r.total += s.Weight
		if r.classes[s.Class] == nil {
			r.classes[s.Class] = newClassStats(s.Class, s.Expect)
		}
	}

	var base Sample
	if cfg.Soak != nil {
		if base, err = baseline(ctx, cfg.MetricsURL); err != nil {
			return nil, err
		}
		cfg.Logger.Info("soak: gateway before the run", "goroutines", base.Goroutines, "heap_inuse_mib", base.HeapInuse/(1<<20), "open_fds", base.OpenFDs)
	}

	r.start = time.Now()
	if cfg.Duration > 0 {
		r.until = r.start.Add(cfg.Duration)
	}
	var scr *scraper
	scrapeDone := make(chan struct{})
	stopScrape := make(chan struct{})
	if cfg.MetricsURL != "" {
		scr = &scraper{url: cfg.MetricsURL, start: r.start, answered: &r.answered}
		go func() {
			defer close(scrapeDone)
			scr.loop(ctx, cfg.MetricsInterval, stopScrape)
		}()
	} else {
		close(scrapeDone)
	}

	var wg sync.WaitGroup
	for i := range cfg.Sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.session(ctx, i)
		}()
	}
	wg.Wait()
	elapsed := time.Since(r.start)
	close(stopScrape)
	<-scrapeDone
	rep := r.report(elapsed, scr)
	if cfg.Soak != nil {
		rep.Soak = r.soak(ctx, base, scr)
	}
	return rep, nil
}

// soak waits for the gateway to settle once the sessions have left, and
// judges the run.
func (r *runner) soak(ctx context.Context, base Sample, scr *scraper) *Soak {
	c, log := r.cfg.Soak, r.cfg.Logger
	log.Info("soak: sessions left; waiting for the gateway to come back to its baseline", "at_most", c.Settle)
	after, waited := scr.settle(ctx, r.cfg.MetricsInterval, c.Settle, func(s Sample) bool { return c.back(base, s) })
	v := c.judge(r.cfg.Duration, base, scr.samples, after, waited)
	if v.OK {
		log.Info("soak: flat", "settled_after", waited.Round(time.Second))
	} else {
		log.Warn("soak: not flat", "problems", len(v.Problems))
	}
	return v
}

// more says whether a session may start another statement, and takes its
// place in the Statements budget.
func (r *runner) more(ctx context.Context) bool {
	if ctx.Err() != nil || (!r.until.IsZero() && time.Now().After(r.until)) {
		return false
	}
	return r.cfg.Statements <= 0 || r.issued.Add(1) <= r.cfg.Statements
}

// session is one client: it logs in, runs statements from the mix and logs
// in again when its time is up or its connection failed.
func (r *runner) session(ctx context.Context, i int) {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(i)))
	if r.cfg.Ramp > 0 && r.cfg.Sessions > 1 {
		if !sleep(ctx, r.cfg.Ramp*time.Duration(i)/time.Duration(r.cfg.Sessions)) {
			return
		}
	}
	var c *conn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	for {
		if c != nil && c.renewAt.Before(time.Now()) {
			c.close()
			c = nil
		}
		if c == nil {
			if ctx.Err() != nil || (!r.until.IsZero() && time.Now().After(r.until)) {
				return
			}
			var err error
			if c, err = r.login(ctx, rng); err != nil {
				if !sleep(ctx, time.Second) {
					return
				}
				continue
			}
		}
		if !r.more(ctx) {
			return
		}
		if broken := r.exec(ctx, c, r.pick(rng), rng); broken {
			c.close()
			c = nil
		}
	}
}

func (r *runner) pick(rng *rand.Rand) *Statement {
	n := rng.IntN(r.total)
	for i := range r.cfg.Mix {
		if n < r.cfg.Mix[i].Weight {
			return &r.cfg.Mix[i]
		}
		n -= r.cfg.Mix[i].Weight
	}
	return &r.cfg.Mix[len(r.cfg.Mix)-1]
}

// conn is one logged-in session.
type conn struct {
	db      *sql.DB
	c       *sql.Conn
	renewAt time.Time
}

// close logs the session out.
func (c *conn) close() {
	c.c.Close()
	c.db.Close()
}

func (r *runner) login(ctx context.Context, rng *rand.Rand) (*conn, error) {
	start := time.Now()
	fail := func(code string, err error) (*conn, error) {
		r.logins.record(time.Since(start), Error, code, err)
		return nil, err
	}
	tok, err := r.cfg.Token(ctx)
	if err != nil {
		return fail("token", err)
	}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: r.cfg.Account, Host: r.host, Port: r.port, Protocol: r.cfg.Protocol,
		Authenticator: sf.AuthTypeOAuth, Token: tok, Database: r.cfg.Database, Schema: r.cfg.Schema,
		LoginTimeout: r.cfg.LoginTimeout,
	}))
	db.SetMaxOpenConns(1)
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return fail(errorCode(err), err)
	}
	r.logins.record(time.Since(start), Allowed, "", nil)
	renew := time.Duration(1 << 62)
	if r.cfg.Relogin > 0 {
		renew = r.cfg.Relogin*3/4 + time.Duration(rng.Int64N(int64(r.cfg.Relogin/2)+1))
	}
	return &conn{db: db, c: c, renewAt: time.Now().Add(renew)}, nil
}

// exec runs one statement and records it; broken says the session should
// log in again (the driver failed rather than the gateway answering).
func (r *runner) exec(ctx context.Context, c *conn, st *Statement, rng *rand.Rand) (broken bool) {
	var args []any
	if st.Args != nil {
		args = st.Args(rng)
	}
	start := time.Now()
	outcome, code, err := run(ctx, c.c, st, args)
	r.classes[st.Class].record(time.Since(start), outcome, code, err)
	r.answered.Add(1)
	return code == CodeClient
}

// run executes the statement and reads its whole result.
func run(ctx context.Context, c *sql.Conn, st *Statement, args []any) (outcome, code string, err error) {
	rows, err := c.QueryContext(ctx, st.SQL, args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return classify(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var checkErr error
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return classify(err)
		}
		if st.Check != nil && checkErr == nil {
			checkErr = st.Check(vals)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if checkErr != nil {
		return Error, CodeMaskCheck, checkErr
	}
	if st.Expect == Masked {
		return Masked, "", nil
	}
	return Allowed, "", nil
}

// classify names a failed statement's outcome and code.
func classify(err error) (outcome, code string, _ error) {
	code = errorCode(err)
	switch code {
	case CodeDenied:
		return Denied, code, err
	case CodeTicketed:
		return Ticketed, code, err
	}
	return Error, code, err
}

// errorCode is a Snowflake error's six-digit code, or CodeClient.
func errorCode(err error) string {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return fmt.Sprintf("%06d", se.Number)
	}
	return CodeClient
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
