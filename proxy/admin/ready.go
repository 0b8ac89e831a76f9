package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Readiness defaults.
const (
	// DefaultReadyTimeout bounds each readiness check.
	DefaultReadyTimeout = 2 * time.Second
	// DefaultReadyCache is how long a readiness answer is reused, so that
	// probes and scrapes in a burst cost the parts one check each.
	DefaultReadyCache = time.Second
)

// Pinger is a part that can tell cheaply whether it can serve now: the
// upstream (the stand-in, or a Snowflake account through gosnowflake) or
// Vault.
type Pinger interface {
	Ping(ctx context.Context) error
}

// check is one part /readyz asks about.
type check struct {
	name string
	run  func(ctx context.Context) error
	busy atomic.Bool // a run has not returned yet
}

// readiness answers /readyz: every check run concurrently, each within
// the timeout, and the answer reused for ttl.
type readiness struct {
	checks       []*check
	timeout, ttl time.Duration
	log          *slog.Logger

	mu     sync.Mutex // one evaluation at a time; the others reuse it
	at     time.Time
	report readyReport
}

// readyReport is /readyz's JSON body. Checks names every part checked
// with "ok" or why it is not ready; Failed lists the parts not ready.
type readyReport struct {
	Ready  bool              `json:"ready"`
	Failed []string          `json:"failed,omitempty"`
	Checks map[string]string `json:"checks"`
}

func newReadiness(cfg Config) *readiness {
	r := &readiness{timeout: cfg.ReadyTimeout, ttl: cfg.ReadyCache, log: cfg.Logger}
	if r.timeout <= 0 {
		r.timeout = DefaultReadyTimeout
	}
	if r.ttl <= 0 {
		r.ttl = DefaultReadyCache
	}
	if cfg.Revision != nil {
		r.checks = append(r.checks, &check{name: "policy", run: func(context.Context) error {
			if cfg.Revision() == "" {
				return errors.New("no policy is active: no trusted bundle has been restored or pulled yet")
			}
			return nil
		}})
	}
	if cfg.Audit != nil {
		r.checks = append(r.checks, &check{name: "audit", run: cfg.Audit.Check})
	}
	if p, ok := cfg.Upstream.(Pinger); ok {
		r.checks = append(r.checks, &check{name: "upstream", run: p.Ping})
	}
	if cfg.Vault != nil {
		r.checks = append(r.checks, &check{name: "vault", run: cfg.Vault.Ping})
	}
	if cfg.Draining != nil {
		r.checks = append(r.checks, &check{name: "gateway", run: func(context.Context) error {
			if cfg.Draining() {
				return errors.New("draining: the gateway is stopping and takes no new work")
			}
			return nil
		}})
	}
	return r
}

func (r *readiness) serve(c echo.Context) error {
	rep := r.evaluate()
	c.Response().Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if !rep.Ready {
		code = http.StatusServiceUnavailable
	}
	return c.JSON(code, rep)
}

// evaluate returns the last answer while it is fresh, or runs the checks.
func (r *readiness) evaluate() readyReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < r.ttl {
		return r.report
	}
	why := make([]string, len(r.checks))
	var wg sync.WaitGroup
	for i, c := range r.checks {
		wg.Go(func() { why[i] = r.run(c) })
	}
	wg.Wait()
	rep := readyReport{Ready: true, Checks: map[string]string{}}
	for i, c := range r.checks {
		rep.Checks[c.name] = "ok"
		if why[i] != "" {
			rep.Ready, rep.Checks[c.name] = false, why[i]
			rep.Failed = append(rep.Failed, c.name)
		}
		if was, ok := r.report.Checks[c.name]; (!ok || was == "ok") && why[i] != "" {
			r.log.Warn("not ready", "part", c.name, "why", why[i])
		} else if ok && was != "ok" && why[i] == "" {
			r.log.Info("ready again", "part", c.name)
		}
	}
	r.report, r.at = rep, time.Now()
	return rep
}

// run runs one check within the timeout and says why it failed ("" when
// it passed). A check whose previous run has not returned (a driver that
// ignores its context) is not started again.
func (r *readiness) run(c *check) string {
	if !c.busy.CompareAndSwap(false, true) {
		return "its previous check has not returned yet"
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer c.busy.Store(false)
		done <- c.run(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		default:
			err = fmt.Errorf("no answer within %s", r.timeout)
		}
	}
	if err == nil {
		return ""
	}
	return scrub(err.Error())
}

// secretish finds what an error text should not show: a URL's user
// information and key=value pairs whose key names a secret.
var secretish = regexp.MustCompile(`(?i)(://)[^/@\s]+@|\b(password|passwd|pwd|token|secret|secret_id|private_key)(=|:\s*)\S+`)

// scrub keeps a failure's text short and free of credentials: /readyz is
// not authenticated.
func scrub(s string) string {
	s = secretish.ReplaceAllStringFunc(s, func(m string) string {
		if sub := secretish.FindStringSubmatch(m); sub[1] == "" {
			return sub[2] + sub[3] + "REDACTED"
		}
		return "://REDACTED@"
	})
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
