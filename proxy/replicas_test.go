package proxy_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/identity"
	"github.com/snowgate/snowgate/proxy/internal/pgtest"
)

// TestAudit_twoReplicasOnPostgres: two gateway replicas share one
// PostgreSQL audit store while clients send statements to both at once;
// each replica's chain verifies and holds every statement it ran.
func TestAudit_twoReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t, "replicas")
	st := startStack(t, allowAll, proxy.Config{})
	ctx := context.Background()
	verifier, err := identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Options{Dir: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{}
	for _, name := range []string{"gw-a", "gw-b"} {
		trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Replica: name, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { trail.Close() })
		gw, err := proxy.New(proxy.Config{Name: name, Auth: verifier, Upstream: st.Standin, Decider: eng, Audit: trail})
		if err != nil {
			t.Fatal(err)
		}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		srv := &http.Server{Handler: gw}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close(); gw.Close() })
		addrs[name] = ln.Addr().String()
	}
	const perClient = 25
	var wg sync.WaitGroup
	for name, addr := range addrs {
		for c := 0; c < 3; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := openAt(t, st, addr, "analyst", "DEMO/PUBLIC")
				for i := 0; i < perClient; i++ {
					var s string
					if err := db.QueryRow(fmt.Sprintf(`SELECT '%s-%d-%d'`, name, c, i)).Scan(&s); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()

	store, err := audit.OpenStore(ctx, dsn, audit.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rep, err := audit.Verify(ctx, store, audit.VerifyOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep.Problems)
	}
	for name := range addrs {
		statements := 0
		err := store.Chain(ctx, name, func(r audit.Record) error {
			env, err := r.Decode()
			if err == nil && env.Event.Type == audit.TypeStatement {
				statements++
			}
			return err
		})
		if err != nil || statements != 3*perClient {
			t.Errorf("replica %s: %d statements in its chain (%v), want %d", name, statements, err, 3*perClient)
		}
	}
}
