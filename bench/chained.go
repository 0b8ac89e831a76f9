package bench

import (
	"context"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/snowflake"
	"github.com/snowgate/snowgate/vault"
)

// chainedGateway starts a gateway with the policy in dir whose upstream is
// st's stand-in reached with gosnowflake over the Snowflake protocol, as a
// Snowflake account is, and returns its address and how to stop it.
func chainedGateway(ctx context.Context, st *devstack.Stack, dir string, chunkBytes int) (string, func(), error) {
	host, port, err := hostPort(st.StandinAddr)
	if err != nil {
		return "", nil, err
	}
	return st.StartGateway(ctx, dir, proxy.Config{
		Name: "chained", ChunkBytes: chunkBytes,
		Upstream:    &snowflake.Upstream{Account: "upstream", Host: host, Port: port, Protocol: "http", LoginTimeout: 20 * time.Second},
		Credentials: vault.Static{User: "ADMIN", Password: "snowgate-dev"},
		Defaults:    proxy.OpenParams{Database: "DEMO", Schema: "PUBLIC"},
	})
}
