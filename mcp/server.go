// Package mcp is snowgate's MCP front door: an MCP server (stdio, or
// streamable HTTP as an OAuth protected resource) whose tools run SQL for
// the caller through the gateway. It decides nothing itself: it is a
// Snowflake client of the gateway, logged in with the caller's own OIDC
// token as client application "snowgate-mcp", one gateway session per
// caller, so every tool call goes through the gateway's analysis, policy
// decision, masking, approvals and audit trail as a driver's statements do.
//
// Statements that need approval never hold a tool call: before running,
// the front door asks the gateway for its decision (the explain endpoint,
// which also opens the approval request) and answers with the request and
// its page at once; wait_for_approval polls the approvals API and runs the
// statement once it is approved.
package mcp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// ClientApp is the client application the gateway records for sessions of
// the front door; each statement carries QUERY_TAG "snowgate-mcp:<tool>".
const ClientApp = "snowgate-mcp"

// Defaults for Config's zero values.
const (
	DefaultAccount     = "snowgate"
	DefaultIdleTimeout = 10 * time.Minute
	DefaultMaxRows     = 500
	DefaultWait        = 60 * time.Second
	MaxWait            = 15 * time.Minute
	pollInterval       = time.Second
)

// Config configures a Server.
type Config struct {
	// Gateway is the gateway's URL, e.g. http://127.0.0.1:8765; required.
	Gateway string
	// Admin is the URL of the gateway's admin API (approvals), e.g.
	// http://127.0.0.1:8766; wait_for_approval needs it.
	Admin string
	// Account is the account name sent at login; default "snowgate".
	Account string
	// Database and Schema are sent at login; default the gateway's own.
	Database, Schema string
	// Version is reported as the client's version; default "dev".
	Version string
	// IdleTimeout closes a caller's gateway session unused this long;
	// default 10m.
	IdleTimeout time.Duration
	// MaxRows bounds the rows a statement returns to the host; default
	// 500. A tool call may ask for fewer.
	MaxRows int
	// Transport carries requests to the gateway and the admin API;
	// default http.DefaultTransport.
	Transport http.RoundTripper
	Logger    *slog.Logger
}

func (c *Config) transport() http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// Server is the front door. Serve it over stdio with RunStdio, or over
// streamable HTTP with Handler.
type Server struct {
	cfg   Config
	pool  *pool
	mcp   *sdk.Server
	ctx   context.Context
	stop  context.CancelFunc
	stdio string // the caller's token over stdio
}

// New returns a Server; Close releases its gateway sessions.
func New(cfg Config) (*Server, error) {
	if cfg.Gateway == "" {
		return nil, errors.New("mcp: the gateway URL is required")
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, ctx: ctx, stop: stop}
	s.pool = newPool(&s.cfg)
	s.mcp = sdk.NewServer(&sdk.Implementation{Name: ClientApp, Title: "snowgate", Version: cfg.Version}, &sdk.ServerOptions{
		Instructions: instructions,
		Logger:       cfg.Logger,
		Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{}},
	})
	s.addTools()
	go s.pool.reap(ctx)
	return s, nil
}

const instructions = `Run SQL on Snowflake through snowgate, a policy gateway. Every statement is checked by policy for the signed-in caller: ` +
	`it may run, run with some columns masked, be denied (error 003001 with the reasons), or need a person's approval. ` +
	`For approval, run_query answers at once with the request id and the page where an approver acts; ` +
	`call wait_for_approval with the id to wait and then run the statement once. explain_decision tells what the policy would decide without running.`

// RunStdio serves one caller over stdin and stdout until the host closes
// the connection or ctx ends. token is the caller's OIDC token.
func (s *Server) RunStdio(ctx context.Context, token string) error {
	if token == "" {
		return errors.New("mcp: no token for the stdio caller")
	}
	s.stdio = token
	return s.mcp.Run(ctx, &sdk.StdioTransport{})
}

// Close ends the callers' gateway sessions.
func (s *Server) Close() error {
	s.stop()
	s.pool.close()
	return nil
}
