package vault_test

import (
	"context"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/vault"
)

// BenchmarkLogin measures a whole client session through the gateway —
// gosnowflake login with an OIDC token, SELECT 1, logout — with static
// upstream credentials and with dynamic ones from a real Vault (a new
// stand-in user per session, revoked after it). The difference between
// the two is what Vault adds to a login. The -parallel variants run
// 4×GOMAXPROCS clients at once, for throughput. Run with:
//
//	SNOWGATE_VAULT=$(.ci/build-vault.sh) go test -run '^$' -bench Login -benchtime 100x ./vault/
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	c, err := vault.NewClient(vault.Config{Address: e.Vault.Addr, Auth: vault.Token{Token: e.Vault.gatewayToken(b)}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		src  proxy.CredentialSource
	}{
		{"static", vault.Static{User: standinAdmin, Password: standinPassword}},
		{"vault-password", &vault.Dynamic{Client: c, Role: "analyst"}},
		{"vault-keypair", &vault.Dynamic{Client: c, Role: "analyst-key"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			addr := startGateway(b, e, bc.src, nil, nil)
			tok, err := e.Stack.Issuer.Token("analyst")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				db := tokenDB(b, addr, tok)
				var one int
				if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
			b.StopTimer()
			waitRevoked(b, bc.src)
		})
		// Eight clients logging in at once: throughput rather than latency.
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			addr := startGateway(b, e, bc.src, nil, nil)
			tok, err := e.Stack.Issuer.Token("analyst")
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(4) // × GOMAXPROCS goroutines
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					db := tokenDB(b, addr, tok)
					var one int
					if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil {
						b.Error(err)
						return
					}
					db.Close()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
			b.StopTimer()
			waitRevoked(b, bc.src)
		})
	}
}

// waitRevoked waits until a dynamic source has revoked every lease, so
// that one run's revocations do not load the next.
func waitRevoked(b *testing.B, src proxy.CredentialSource) {
	if d, ok := src.(*vault.Dynamic); ok {
		eventually(b, 2*time.Minute, "revocations", func() bool { return d.Active() == 0 })
	}
}
