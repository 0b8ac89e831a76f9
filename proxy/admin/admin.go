// Package admin is snowgate's HTTP API for people: approvers list, approve
// and reject held statements (with their own OIDC identity), and a web page
// does the same in a browser. Built on echo.
package admin

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/classify"
)

// Verifier checks an approver's bearer token.
type Verifier interface {
	Verify(ctx context.Context, raw string) (engine.Identity, time.Time, error)
}

// Config configures the API.
type Config struct {
	Approvals *approval.Service
	// Classifications, when set, serves the classifications copies
	// inherited: anyone signed in may read them; ForgetGroups may forget.
	Classifications *classify.Service
	// ForgetGroups may forget an inherited classification. Default
	// DefaultForgetGroups.
	ForgetGroups []string
	Verifier     Verifier
	Revision     func() string // the active policy revision; "" when none is active
	// PolicyActivated is when the active policy was activated, for
	// snowgate_policy_age_seconds; nil or a zero time: not reported.
	PolicyActivated func() time.Time
	// Remembered is how many decisions the engine answered from its memo
	// of decisions (engine.Engine.Remembered), for
	// snowgate_decisions_remembered_total; nil: not reported.
	Remembered func() uint64
	Stats      func() proxy.Stats
	// Audit is the audit trail: /readyz checks that it can be written and
	// /metrics reports its writer's queue and commits. Nil: neither.
	Audit AuditTrail
	// Upstream runs the statements: /readyz pings it when it is a Pinger.
	Upstream proxy.Upstream
	// Draining reports that the gateway is stopping (proxy.Server.Draining):
	// from then on /readyz fails, so that the load balancer sends new
	// sessions elsewhere while the work in flight finishes.
	Draining func() bool
	// Vault is set when upstream credentials come from Vault: /readyz
	// checks Vault's health, and /metrics reports its leases when it keeps
	// some (Leases).
	Vault Pinger
	// Quotas, when set, are the gateway's quota counters: /metrics reports
	// how long ago they synced with their store and how many syncs failed
	// (counters that cannot sync are refused to the policy, which denies
	// what a limit applies to).
	Quotas QuotaCounters
	// ReadyTimeout bounds each readiness check; default
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// ReadyCache is how long a readiness answer is reused; default
	// DefaultReadyCache.
	ReadyCache time.Duration
	Logger     *slog.Logger
	// DevLogin, in `snowgate dev` only, lets the page sign in as a demo
	// identity by asking the dev issuer for a token.
	DevLogin bool
}

//go:embed page.html
var page []byte

// New returns the API's handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if s, ok := he.Message.(string); ok {
				msg = s
			}
		}
		if code >= 500 {
			cfg.Logger.Error("admin API error", "path", c.Path(), "err", err)
		}
		_ = c.JSON(code, map[string]string{"error": msg})
	}
	a := &api{cfg: cfg}
	e.GET("/", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, page) })
	// /healthz: the process serves. /readyz: it can take statements
	// (ready.go).
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", newReadiness(cfg).serve)
	e.GET("/api/v1/policy", func(c echo.Context) error {
		rev := ""
		if cfg.Revision != nil {
			rev = cfg.Revision()
		}
		return c.JSON(http.StatusOK, map[string]any{"revision": rev})
	})
	e.GET("/metrics", a.metrics)
	e.GET("/api/v1/whoami", a.whoami, a.auth)
	e.GET("/api/v1/approvals", a.list, a.auth)
	e.GET("/api/v1/approvals/:id", a.get, a.auth)
	e.POST("/api/v1/approvals/:id/approve", a.vote(true), a.auth)
	e.POST("/api/v1/approvals/:id/reject", a.vote(false), a.auth)
	e.GET("/api/v1/classifications", a.classifications, a.auth)
	e.GET("/api/v1/classifications/:target", a.classification, a.auth)
	e.POST("/api/v1/classifications/:target/forget", a.forget, a.auth)
	return e
}

type api struct{ cfg Config }

// auth verifies the bearer token and puts the identity in the context.
func (a *api) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "sign in: send your OIDC token as Authorization: Bearer TOKEN")
		}
		id, _, err := a.cfg.Verifier.Verify(c.Request().Context(), tok)
		if err != nil {
			a.cfg.Logger.Info("admin API: token refused", "reason", err)
			return echo.NewHTTPError(http.StatusUnauthorized, "token refused: "+err.Error())
		}
		c.Set("identity", id)
		return next(c)
	}
}

func identityOf(c echo.Context) engine.Identity { return c.Get("identity").(engine.Identity) }

func person(id engine.Identity) approval.Person {
	p := approval.Person{Subject: id.Subject, Email: id.Email, Name: id.Name}
	if id.Agent != nil {
		p.Agent = id.Agent.ID
	}
	return p
}

func (a *api) whoami(c echo.Context) error {
	id := identityOf(c)
	return c.JSON(http.StatusOK, map[string]any{"subject": id.Subject, "email": id.Email, "name": id.Name, "groups": id.Groups})
}

// visible: approvers see the requests they may act on; requesters their own.
func visible(r *approval.Request, id engine.Identity) bool {
	return r.Requester.Subject == id.Subject || slices.ContainsFunc(id.Groups, func(g string) bool { return slices.Contains(r.Groups, g) })
}

func (a *api) list(c echo.Context) error {
	var states []approval.State
	if s := c.QueryParam("state"); s != "" {
		for _, x := range strings.Split(s, ",") {
			states = append(states, approval.State(x))
		}
	}
	all, err := a.cfg.Approvals.List(c.Request().Context(), states...)
	if err != nil {
		return err
	}
	id := identityOf(c)
	out := []*approval.Request{}
	for _, r := range all {
		if visible(r, id) {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"approvals": out})
}

func (a *api) get(c echo.Context) error {
	r, err := a.cfg.Approvals.Get(c.Request().Context(), c.Param("id"))
	if errors.Is(err, approval.ErrNotFound) || (err == nil && !visible(r, identityOf(c))) {
		return echo.NewHTTPError(http.StatusNotFound, approval.ErrNotFound.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *api) vote(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var body struct {
			Reason string `json:"reason"`
		}
		if c.Request().ContentLength != 0 {
			if err := c.Bind(&body); err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "body must be JSON like {\"reason\": \"...\"}")
			}
		}
		id := identityOf(c)
		r, err := a.cfg.Approvals.Vote(c.Request().Context(), c.Param("id"), person(id), id.Groups, approve, body.Reason)
		switch {
		case errors.Is(err, approval.ErrNotFound):
			return echo.NewHTTPError(http.StatusNotFound, err.Error())
		case errors.Is(err, approval.ErrSelfApproval), errors.Is(err, approval.ErrNotApprover):
			return echo.NewHTTPError(http.StatusForbidden, err.Error())
		case errors.Is(err, approval.ErrNotPending), errors.Is(err, approval.ErrAlreadyVoted), errors.Is(err, approval.ErrConflict):
			return echo.NewHTTPError(http.StatusConflict, err.Error())
		case err != nil:
			return err
		}
		return c.JSON(http.StatusOK, r)
	}
}

// DefaultForgetGroups may forget inherited classifications.
var DefaultForgetGroups = []string{"data-stewards", "platform-admins"}

func (a *api) classifier() (*classify.Service, error) {
	if a.cfg.Classifications == nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, "this gateway does not follow classifications into copies")
	}
	return a.cfg.Classifications, nil
}

func target(c echo.Context) (classify.Target, error) {
	raw := c.Param("target")
	if s, err := url.PathUnescape(raw); err == nil {
		raw = s
	}
	t, err := classify.ParseTarget(raw)
	if err != nil {
		return t, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	return t, nil
}

// classifications lists the active inherited classifications (all=true:
// forgotten ones too).
func (a *api) classifications(c echo.Context) error {
	svc, err := a.classifier()
	if err != nil {
		return err
	}
	recs, err := svc.List(c.Request().Context(), c.QueryParam("all") == "true")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"classifications": recs})
}

// classification shows what one table or column inherited, with every
// record behind it.
func (a *api) classification(c echo.Context) error {
	svc, err := a.classifier()
	if err != nil {
		return err
	}
	t, err := target(c)
	if err != nil {
		return err
	}
	show, err := svc.Show(c.Request().Context(), t)
	if errors.Is(err, classify.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("%s: %s", t, err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, show)
}

// forget forgets what a table or column inherited; it is audited.
func (a *api) forget(c echo.Context) error {
	svc, err := a.classifier()
	if err != nil {
		return err
	}
	t, err := target(c)
	if err != nil {
		return err
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength != 0 {
		if err := c.Bind(&body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "body must be JSON like {\"reason\": \"...\"}")
		}
	}
	id := identityOf(c)
	groups := a.cfg.ForgetGroups
	if groups == nil {
		groups = DefaultForgetGroups
	}
	if id.Agent != nil {
		return echo.NewHTTPError(http.StatusForbidden, "inherited classifications are forgotten by people, not agents ("+id.Agent.ID+")")
	}
	if !slices.ContainsFunc(id.Groups, func(g string) bool { return slices.Contains(groups, g) }) {
		return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf("forgetting an inherited classification needs one of the groups %v", groups))
	}
	p := person(id)
	recs, err := svc.Forget(c.Request().Context(), t, classify.Person{Subject: p.Subject, Email: p.Email}, body.Reason)
	if errors.Is(err, classify.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("%s: %s", t, err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"target": t.String(), "forgotten": recs})
}
