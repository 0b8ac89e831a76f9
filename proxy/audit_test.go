package proxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
)

// TestAudit_session: a session's login, decisions, outcomes, approval and
// end land in the trail, which verifies, and which holds no token.
func TestAudit_session(t *testing.T) {
	st := startStack(t, "", proxy.Config{PingPong: 300 * time.Millisecond})
	tok, _ := st.Issuer.Token("agent")
	db := openDB(t, st, "agent")
	var city string
	if err := db.QueryRow(`SELECT city FROM customers WHERE id = 4`).Scan(&city); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`GRANT ROLE SYSADMIN TO USER mallory`); err == nil {
		t.Fatal("grant was not denied")
	}
	// An agent is answered at once with a ticket, and runs the statement
	// again once it is approved.
	if _, err := db.Exec(`DELETE FROM events`); snowflakeCode(err) != 3002 {
		t.Fatalf("agent's DELETE: %v, want a ticket", err)
	}
	r := pending(t, st)
	if code, _ := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	if _, err := db.Exec(`DELETE FROM events`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	time.Sleep(3 * audit.DeferredFlush) // the last outcome rides a later commit

	ctx := context.Background()
	var types []string
	var all strings.Builder
	err := st.Audit.Store().Chain(ctx, st.Audit.Replica(), func(rec audit.Record) error {
		env, err := rec.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		all.Write(rec.Body)
		switch e.Type {
		case audit.TypeStatement:
			types = append(types, e.Type+":"+e.Decision.Action)
		case audit.TypeApproval:
			types = append(types, e.Type+":"+e.Approval.State)
		default:
			types = append(types, e.Type)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Outcomes are recorded after the client's answer, so their place in
	// the chain may vary; everything else is in order.
	var ordered []string
	outcomes := 0
	for _, ty := range types {
		if ty == audit.TypeOutcome {
			outcomes++
			continue
		}
		ordered = append(ordered, ty)
	}
	want := "session_start statement:allow statement:deny statement:require_approval approval:pending approval:approved statement:require_approval approval:used session_end"
	if got := strings.Join(ordered, " "); got != want || outcomes != 2 {
		t.Errorf("trail:\n got %s (%d outcomes)\nwant %s (2 outcomes)", strings.Join(types, " "), outcomes, want)
	}
	if strings.Contains(all.String(), tok) || strings.Contains(all.String(), "snowgate-dev") {
		t.Error("the trail holds a credential")
	}
	for _, s := range []string{`"agent":"sql-agent"`, `"subject":"u-1001"`, "GRANT ROLE SYSADMIN"} {
		if !strings.Contains(all.String(), s) {
			t.Errorf("the trail does not mention %s", s)
		}
	}
	rep, err := audit.Verify(ctx, st.Audit.Store(), audit.VerifyOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep.Problems)
	}
}

// TestAudit_failClosed: when the trail cannot be written, statements are
// refused, not run unrecorded.
func TestAudit_failClosed(t *testing.T) {
	st := startStack(t, allowAll, proxy.Config{})
	db := openDB(t, st, "analyst")
	if _, err := db.Exec(`CREATE TABLE kept (x INT)`); err != nil {
		t.Fatal(err)
	}
	st.Audit.Close() // the store goes away
	_, err := db.Exec(`INSERT INTO kept VALUES (1)`)
	if snowflakeCode(err) != 3006 {
		t.Fatalf("statement with the trail down: %v, want 003006", err)
	}
	n, err := st.Standin.RowCount(context.Background(), "DEMO.PUBLIC.KEPT")
	if err != nil || n != 0 {
		t.Fatalf("rows in kept: %d, %v; an unrecorded statement ran", n, err)
	}
}
