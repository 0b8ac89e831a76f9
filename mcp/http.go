package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/identity"
)

// Paths of the HTTP front door.
const (
	EndpointPath = "/mcp"
	MetadataPath = "/.well-known/oauth-protected-resource"
)

// Verifier checks an OIDC token as the gateway's login does;
// *identity.Verifier is one.
type Verifier interface {
	Verify(ctx context.Context, raw string) (engine.Identity, time.Time, error)
}

var _ Verifier = (*identity.Verifier)(nil)

// HTTPConfig configures the streamable HTTP front door, an OAuth protected
// resource (RFC 9728) whose tokens are the gateway's OIDC tokens.
type HTTPConfig struct {
	// Verifier checks each request's bearer token; required.
	Verifier Verifier
	// Issuers are the authorization servers named in the resource
	// metadata: the issuers the gateway trusts.
	Issuers []string
	// PublicURL is where hosts reach this server, e.g.
	// http://127.0.0.1:8768; the resource is PublicURL + "/mcp".
	PublicURL string
}

// tokenKey holds the caller's raw token in auth.TokenInfo.Extra: the front
// door logs in to the gateway with it.
const tokenKey = "snowgate.token"

// Handler serves MCP over streamable HTTP at /mcp, each request
// authenticated by its bearer token, and the protected resource metadata at
// /.well-known/oauth-protected-resource (also under /mcp, as RFC 9728 puts
// it for a resource with a path). A request without a valid token gets 401
// with WWW-Authenticate: Bearer resource_metadata="...".
func (s *Server) Handler(h HTTPConfig) (http.Handler, error) {
	if h.Verifier == nil {
		return nil, errors.New("mcp: HTTP needs a token verifier")
	}
	if h.PublicURL == "" {
		return nil, errors.New("mcp: HTTP needs its public URL")
	}
	base := strings.TrimSuffix(h.PublicURL, "/")
	meta := auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource:               base + EndpointPath,
		AuthorizationServers:   h.Issuers,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "snowgate",
	})
	verify := func(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		id, exp, err := h.Verifier.Verify(ctx, token)
		if errors.Is(err, identity.ErrIssuerDown) {
			return nil, fmt.Errorf("token issuer unreachable; try again later")
		}
		if err != nil {
			s.cfg.Logger.Info("token refused", "reason", err)
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		agent := ""
		if id.Agent != nil {
			agent = id.Agent.ID
		}
		// UserID ties an MCP session to the identity that opened it.
		return &auth.TokenInfo{Expiration: exp, UserID: id.Issuer + "|" + id.Subject + "|" + agent, Extra: map[string]any{tokenKey: token}}, nil
	}
	endpoint := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.mcp }, &sdk.StreamableHTTPOptions{
		SessionTimeout: s.cfg.IdleTimeout, Logger: s.cfg.Logger,
	})
	mux := http.NewServeMux()
	mux.Handle(MetadataPath, meta)
	mux.Handle(MetadataPath+EndpointPath, meta)
	mux.Handle(EndpointPath, auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: base + MetadataPath})(endpoint))
	return mux, nil
}
