package proxy_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/audit"
)

// A client that leaves while its statement is held: the real Python
// connector, killed while it waits, says nothing to the gateway. The held
// statement is abandoned — recorded so, counted, never run — and an
// approval given afterwards runs nothing.
func TestHeldStatement_clientLeaves(t *testing.T) {
	py := os.Getenv("SNOWGATE_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_PYTHON is not set: run the tests with `make test`, which installs snowflake-connector-python")
	}
	st := startStack(t, "", proxy.Config{PingPong: 300 * time.Millisecond, AbandonAfter: time.Second})
	tok, err := st.Issuer.Token("analyst") // a person: held (hold mode), not ticketed
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	script := `
import snowflake.connector, sys
c = snowflake.connector.connect(account="snowgate", host=sys.argv[1], port=int(sys.argv[2]), protocol="http",
    authenticator="oauth", token=sys.argv[3], database="DEMO", schema="PUBLIC")
c.cursor().execute("DELETE FROM orders")
`
	cmd := exec.Command(py, "-c", script, host, port, tok)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := pending(t, st)
	time.Sleep(500 * time.Millisecond) // the client is polling
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	// Abandoned within AbandonAfter and a second of checking.
	deadline := time.Now().Add(10 * time.Second)
	for st.Gateway.Stats().Abandoned == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the held statement was not abandoned; client output:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", map[string]string{"reason": "late"}); code != 200 {
		t.Fatalf("approve: HTTP %d %v", code, body)
	}
	time.Sleep(time.Second)
	var n int
	if err := openDB(t, st, "admin").QueryRow(`SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 1000 {
		t.Fatalf("orders after a late approval of an abandoned DELETE: %d, %v; want all 1000", n, err)
	}
	// The approval is still there for the person, should they run the
	// statement again; nothing used it.
	if r2, _ := st.Approvals.Get(context.Background(), r.ID); r2.State != approval.Approved {
		t.Errorf("approval state: %s, want approved (unused)", r2.State)
	}

	time.Sleep(3 * audit.DeferredFlush)
	abandoned := 0
	err = st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		if o := env.Event.Outcome; o != nil && o.Abandoned {
			abandoned++
			if o.ErrorCode != proxy.CodeCanceled || !strings.Contains(o.ErrorMessage, "abandoned") {
				t.Errorf("abandoned outcome: %+v", o)
			}
		}
		if o := env.Event.Outcome; o != nil && o.ErrorCode == proxy.CodeInternal {
			t.Errorf("an internal error was recorded: %+v", o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if abandoned != 1 {
		t.Fatalf("%d abandoned outcomes in the trail, want 1", abandoned)
	}
}
