package conformance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// recorder is the gateway's decider in this test: the engine, keeping the
// decisions it took so they can be compared with the engine's own.
type recorder struct {
	*engine.Engine
	mu   sync.Mutex
	seen []engine.Decision
}

func (r *recorder) Decide(ctx context.Context, in engine.Input) engine.Decision {
	d := r.Engine.Decide(ctx, in)
	r.mu.Lock()
	r.seen = append(r.seen, d)
	r.mu.Unlock()
	return d
}

func (r *recorder) take() []engine.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// TestDecisions_throughGateway sends every decision case through the
// running gateway with the real gosnowflake driver, as the case's identity,
// and checks that the gateway took the same decision as the engine does
// directly, and that the client saw it: deny as 003001, require_approval as
// a 003002 ticket, allow and mask without a policy error.
func TestDecisions_throughGateway(t *testing.T) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	cases, err := LoadDecisionCases("decisions")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	direct, err := engine.New(ctx, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	st, err := devstack.Start(ctx, devstack.Options{
		ApprovalMode: "ticket",
		WrapDecider:  func(e *engine.Engine) proxy.Decider { rec.Engine = e; return rec },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	conns := map[string]*sql.Conn{}
	conn := func(as, database, schema string) *sql.Conn {
		key := as + "/" + database + "/" + schema
		if c, ok := conns[key]; ok {
			return c
		}
		tok, err := st.Issuer.Token(as)
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(st.GatewayAddr)
		path := ""
		if database != "" {
			path = "/" + database
			if schema != "" {
				path += "/" + schema
			}
		}
		cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s%s?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, path, tok))
		if err != nil {
			t.Fatal(err)
		}
		c, err := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg)).Conn(ctx)
		if err != nil {
			t.Fatalf("connect as %s: %v", as, err)
		}
		conns[key] = c
		return c
	}

	same, compared := 0, 0
	for _, r := range RunDecisions(ctx, cases, direct) {
		c := r.Case
		if r.Skipped != "" || !r.Passed() || c.NoCatalog {
			continue // TestDecisions reports these; the gateway always has a catalog
		}
		as := c.As
		if as == "" {
			as = "analyst"
		}
		rec.take()
		qctx, _ := sf.WithMultiStatement(ctx, 0)
		_, err := conn(as, c.Database, c.Schema).ExecContext(qctx, c.SQL)
		got := rec.take()
		idx := 0
		if c.Statement != nil {
			idx = *c.Statement
		}
		if idx >= len(got) {
			t.Errorf("%s/%s: the gateway took %d decisions, the case needs statement %d (client error: %v)", c.File, c.Name, len(got), idx, err)
			continue
		}
		compared++
		d := got[idx]
		if fails := c.Expect.compare(d); len(fails) > 0 {
			t.Errorf("%s/%s: through the gateway: %v\n  sql: %s", c.File, c.Name, fails, c.SQL)
			continue
		}
		if d.Action != r.Got.Action || strings.Join(d.Reasons, "|") != strings.Join(r.Got.Reasons, "|") {
			t.Errorf("%s/%s: gateway decided %s %q, engine %s %q", c.File, c.Name, d.Action, d.Reasons, r.Got.Action, r.Got.Reasons)
			continue
		}
		if idx == len(got)-1 {
			var se *sf.SnowflakeError
			code := 0
			if errors.As(err, &se) {
				code = se.Number
			}
			want := map[engine.Action]int{engine.ActionDeny: 3001, engine.ActionRequireApproval: 3002}[d.Action]
			if (want != 0 && code != want) || (want == 0 && code >= 3001 && code <= 3005) {
				t.Errorf("%s/%s: decision %s, client saw %v", c.File, c.Name, d.Action, err)
				continue
			}
		}
		same++
	}
	t.Logf("%d cases compared through the gateway, %d the same both ways", compared, same)
	if compared < MinDecisionCases {
		t.Errorf("only %d cases compared through the gateway, want at least %d", compared, MinDecisionCases)
	}
}
