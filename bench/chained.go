package bench

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/vault"
)

// chainedGateway starts a gateway with the policy in dir whose upstream is
// st's stand-in reached with gosnowflake over the Snowflake protocol, as a
// Snowflake account is, and returns its address and how to stop it.
func chainedGateway(ctx context.Context, st *devstack.Stack, dir string, chunkBytes int) (string, func(), error) {
	verifier, err := identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		return "", nil, err
	}
	eng, err := engine.New(ctx, engine.Options{Dir: dir})
	if err != nil {
		return "", nil, err
	}
	host, port, err := hostPort(st.StandinAddr)
	if err != nil {
		return "", nil, err
	}
	gw, err := proxy.New(proxy.Config{
		Name: "chained", Auth: verifier, Decider: eng, Logger: slog.New(slog.DiscardHandler), ChunkBytes: chunkBytes,
		Upstream:    &snowflake.Upstream{Account: "upstream", Host: host, Port: port, Protocol: "http", LoginTimeout: 20 * time.Second},
		Credentials: vault.Static{User: "ADMIN", Password: "snowgate-dev"},
		Defaults:    proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"},
	})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gw.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: gw}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close(); gw.Close() }, nil
}
