package proxy_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
	adminapi "github.com/snowgate/snowgate/proxy/admin"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
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
		t.Cleanup(func() { gw.Close() })
		addrs[name] = serveOn(t, gw)
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

// TestReplicas_approvalAcrossReplicas: two replicas, each with its own
// gateway and admin API, share one PostgreSQL for approvals and the audit
// trail, as on Kubernetes. A person's statement held on replica A is
// approved through replica B's admin API and runs on A; an agent's ticket
// issued on A is approved on B and the statement, sent again to B in a new
// session, runs there once. Both replicas' chains verify.
func TestReplicas_approvalAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t, "replica_approvals")
	st := startStack(t, "", proxy.Config{})
	ctx := context.Background()
	rs := map[string]replica{}
	for _, name := range []string{"a", "b"} {
		rs[name] = startReplica(t, st, dsn, name, proxy.Config{ApprovalMode: "hold", PingPong: 300 * time.Millisecond})
	}

	// Held on A, approved on B, run on A.
	done := make(chan error, 1)
	go func() {
		_, err := openAt(t, st, rs["a"].gateway, "analyst", "DEMO/PUBLIC").Exec(`DELETE FROM orders`)
		done <- err
	}()
	var id string
	for deadline := time.Now().Add(20 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, body := adminCallAt(t, st, rs["b"].admin, "approver", "GET", "/api/v1/approvals?state=pending", nil)
		if code == http.StatusOK {
			if list, _ := body["approvals"].([]any); len(list) == 1 {
				id, _ = list[0].(map[string]any)["id"].(string)
			}
		}
	}
	if id == "" {
		t.Fatal("replica B's admin API never listed the statement held on A")
	}
	if code, body := adminCallAt(t, st, rs["b"].admin, "approver", "POST", "/api/v1/approvals/"+id+"/approve", map[string]string{"reason": "cleanup"}); code != http.StatusOK {
		t.Fatalf("approve on B: HTTP %d %v", code, body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the statement held on A, approved on B: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the statement held on A did not run after B's approval")
	}

	// A ticket issued on A, approved on B, run on B in a new session.
	_, err := openAt(t, st, rs["a"].gateway, "agent", "DEMO/PUBLIC").Exec(`DELETE FROM events`)
	if snowflakeCode(err) != 3002 {
		t.Fatalf("agent's DELETE on A: %v, want a ticket", err)
	}
	ticket := regexp.MustCompile(`apr-[a-z0-9]+`).FindString(err.Error())
	if code, body := adminCallAt(t, st, rs["b"].admin, "approver", "POST", "/api/v1/approvals/"+ticket+"/approve", nil); code != http.StatusOK {
		t.Fatalf("approve %s on B: HTTP %d %v", ticket, code, body)
	}
	onB := openAt(t, st, rs["b"].gateway, "agent", "DEMO/PUBLIC")
	if res, err := onB.Exec(`DELETE FROM events`); err != nil {
		t.Fatalf("the approved statement sent to B: %v", err)
	} else if n, _ := res.RowsAffected(); n != 2000 {
		t.Fatalf("the approved DELETE on B removed %d rows, want 2000", n)
	}
	if _, err := onB.Exec(`DELETE FROM events`); snowflakeCode(err) != 3002 {
		t.Fatalf("a second run after one approval: %v, want a new ticket", err)
	}

	store, err := audit.OpenStore(ctx, dsn, audit.StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rep, err := audit.Verify(ctx, store, audit.VerifyOptions{})
	if err != nil || !rep.OK() || len(rep.Replicas) != 2 {
		t.Fatalf("verify: %v %+v (%d replicas)", err, rep.Problems, len(rep.Replicas))
	}
}

// replica is a gateway and its admin API on loopback, as one replica of a
// deployment: the default library, the stack's issuer and stand-in, and
// the PostgreSQL at dsn for approvals and the audit trail.
type replica struct {
	gw             *proxy.Server
	gateway, admin string
}

func startReplica(t *testing.T, st *devstack.Stack, dsn, name string, cfg proxy.Config) replica {
	t.Helper()
	ctx := context.Background()
	verifier, err := identity.New([]identity.Issuer{{URL: st.Issuer.URL(), Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Replica: name, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trail.Close() })
	store, err := approval.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	approvals := approval.New(approval.Config{Store: store})
	cfg.Name, cfg.Auth, cfg.Upstream, cfg.Decider, cfg.Audit, cfg.Approvals = name, verifier, st.Standin, eng, trail, approvals
	r := replica{}
	if r.gw, err = proxy.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.gw.Close() })
	r.gateway = serveOn(t, r.gw)
	r.admin = serveOn(t, adminapi.New(adminapi.Config{Approvals: approvals, Verifier: verifier, Stats: r.gw.Stats, Draining: r.gw.Draining}))
	return r
}
