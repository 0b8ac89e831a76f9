package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/approval"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// adminCall calls the approvals API as a demo user.
func adminCall(t *testing.T, st *devstack.Stack, as, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return adminCallAt(t, st, st.AdminAddr, as, method, path, body)
}

// adminCallAt calls the admin API at addr (another replica's) as a demo
// identity of the stack's issuer.
func adminCallAt(t *testing.T, st *devstack.Stack, addr, as, method, path string, body any) (int, map[string]any) {
	t.Helper()
	tok, err := st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// pendingID waits for one pending approval request and returns it.
func pending(t *testing.T, st *devstack.Stack) *approval.Request {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rs, err := st.Approvals.List(context.Background(), approval.Pending)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) == 1 {
			return rs[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no pending approval request appeared")
	return nil
}

func snowflakeCode(err error) int {
	var se *sf.SnowflakeError
	if errors.As(err, &se) {
		return se.Number
	}
	return -1
}

func TestApproval_holdApprove(t *testing.T) {
	st := startStack(t, "", proxy.Config{PingPong: 300 * time.Millisecond}) // the default library
	// A person's statement is held (agents get tickets: TestApproval_ticket).
	analyst := openDB(t, st, "analyst")

	type outcome struct {
		n   int64
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := analyst.Exec(`DELETE FROM orders`)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		n, _ := res.RowsAffected()
		done <- outcome{n: n}
	}()
	r := pending(t, st)
	if r.Requester.Agent != "" || r.Requester.Subject != "u-1001" || !strings.Contains(r.SQL, "DELETE FROM orders") {
		t.Errorf("request: %+v", r.Requester)
	}
	select {
	case o := <-done:
		t.Fatalf("the held statement finished before approval: %+v", o)
	case <-time.After(time.Second): // held across several ping-pongs
	}

	// The requester cannot approve, nor can someone outside the approver groups.
	if code, body := adminCall(t, st, "analyst", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 403 {
		t.Errorf("self-approval: HTTP %d %v, want 403", code, body)
	}
	if code, body := adminCall(t, st, "engineer", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 403 {
		t.Errorf("approval by the wrong group: HTTP %d %v, want 403", code, body)
	}
	if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", map[string]string{"reason": "quarterly cleanup"}); code != 200 || body["state"] != "approved" {
		t.Fatalf("approve: HTTP %d %v", code, body)
	}
	select {
	case o := <-done:
		if o.err != nil || o.n != 1000 {
			t.Fatalf("approved delete: %d rows, %v; want 1000", o.n, o.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the approved statement did not run")
	}
	var left int
	if err := openDB(t, st, "admin").QueryRow(`SELECT count(*) FROM orders`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("orders left: %d, %v", left, err)
	}
	// The approval was used once: the same statement is held again.
	if r2, _ := st.Approvals.Get(context.Background(), r.ID); r2.State != approval.Used {
		t.Errorf("approval state after the run: %s, want used", r2.State)
	}
}

func TestApproval_holdReject(t *testing.T) {
	st := startStack(t, "", proxy.Config{PingPong: 300 * time.Millisecond})
	done := make(chan error, 1)
	go func() { _, err := openDB(t, st, "analyst").Exec(`UPDATE customers SET segment = 'x'`); done <- err }()
	r := pending(t, st)
	if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/reject", map[string]string{"reason": "no bulk updates on Fridays"}); code != 200 {
		t.Fatalf("reject: HTTP %d %v", code, body)
	}
	err := <-done
	if snowflakeCode(err) != 3004 || !strings.Contains(err.Error(), "no bulk updates on Fridays") {
		t.Fatalf("rejected statement: %v", err)
	}
	var n int
	_ = openDB(t, st, "admin").QueryRow(`SELECT count(*) FROM customers WHERE segment = 'x'`).Scan(&n)
	if n != 0 {
		t.Fatalf("a rejected update changed %d rows", n)
	}
}

func TestApproval_holdExpires(t *testing.T) {
	st := startStack(t, "testdata/approve-fast", proxy.Config{PingPong: 300 * time.Millisecond})
	start := time.Now()
	_, err := openDB(t, st, "agent").Exec(`DELETE FROM orders WHERE id = 1`)
	if snowflakeCode(err) != 3005 {
		t.Fatalf("expired approval: %v, want 003005", err)
	}
	if el := time.Since(start); el < 2*time.Second || el > 15*time.Second {
		t.Errorf("expiry took %v, want about 2s", el)
	}
}

func TestApproval_ticket(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	agent := openDB(t, st, "agent")
	const q = `DELETE FROM events`
	_, err = agent.Exec(q)
	if snowflakeCode(err) != 3002 || !strings.Contains(err.Error(), "apr-") {
		t.Fatalf("ticket: %v, want 003002 naming the request", err)
	}
	r := pending(t, st)
	if !strings.Contains(err.Error(), r.ID) {
		t.Errorf("ticket message %q does not name %s", err, r.ID)
	}
	// Retrying before approval gives the same ticket, not a new one.
	_, err = agent.Exec(q)
	if !strings.Contains(fmt.Sprint(err), r.ID) {
		t.Errorf("retry before approval: %v", err)
	}
	if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 200 {
		t.Fatalf("approve: %d %v", code, body)
	}
	res, err := agent.Exec(q)
	if err != nil {
		t.Fatalf("retry after approval: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 2000 {
		t.Errorf("delete after approval affected %d, want 2000", n)
	}
	// One approval runs the statement once.
	_, err = agent.Exec(q)
	if snowflakeCode(err) != 3002 || strings.Contains(err.Error(), r.ID) {
		t.Errorf("second run after one approval: %v, want a new ticket", err)
	}
}

// TestApproval_browser: an approver approves a held statement on the web
// page, in real headless Chromium driven by Playwright.
func TestApproval_browser(t *testing.T) {
	mods, chromium := os.Getenv("SNOWGATE_NODE_PATH"), os.Getenv("SNOWGATE_CHROMIUM")
	if mods == "" || chromium == "" {
		t.Fatal("SNOWGATE_NODE_PATH and SNOWGATE_CHROMIUM must be set: run the tests with `make test`")
	}
	st := startStack(t, "", proxy.Config{PingPong: 500 * time.Millisecond})
	done := make(chan error, 1)
	go func() { _, err := openDB(t, st, "analyst").Exec(`DELETE FROM orders`); done <- err }()
	pending(t, st)

	cmd := exec.Command("node", "testdata/clients/approve_in_browser.js")
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods, "SNOWGATE_ADMIN_URL=http://"+st.AdminAddr+"/", "SNOWGATE_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", out)
	if err != nil {
		t.Fatalf("browser approval failed: %v", err)
	}
	var seen struct{ ID, Requester, Why, SQL string }
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "SEEN "); ok {
			_ = json.Unmarshal([]byte(rest), &seen)
		}
	}
	if !strings.Contains(seen.Requester, "ana.lyst@example.com") ||
		seen.Why == "" || !strings.Contains(seen.SQL, "DELETE FROM orders") {
		t.Errorf("the page showed %+v; want the requester, why and the SQL", seen)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("held client after browser approval: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the held client did not complete after approval in the browser")
	}
}

// TestApproval_webhookAndRestart: a new request is announced to a
// Slack-compatible webhook; the request survives a gateway restart, and
// after approval the retried statement runs.
func TestApproval_webhookAndRestart(t *testing.T) {
	hook := make(chan map[string]any, 4)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		_ = json.NewDecoder(r.Body).Decode(&msg)
		hook <- msg
	}))
	defer sink.Close()
	data := t.TempDir()
	opts := devstack.Options{DataDir: data, ApprovalMode: "ticket", WebhookURL: sink.URL}
	st, err := devstack.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = openDB(t, st, "agent").Exec(`DELETE FROM orders`)
	if snowflakeCode(err) != 3002 {
		t.Fatalf("ticket: %v", err)
	}
	r := pending(t, st)
	select {
	case msg := <-hook:
		text, _ := msg["text"].(string)
		if !strings.Contains(text, r.ID) || !strings.Contains(text, "sql-agent") || !strings.Contains(text, "DELETE FROM orders") {
			t.Errorf("webhook text: %q", text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the webhook was not called")
	}
	st.Close()

	st2, err := devstack.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if code, body := adminCall(t, st2, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 200 {
		t.Fatalf("approve after restart: %d %v", code, body)
	}
	res, err := openDB(t, st2, "agent").Exec(`DELETE FROM orders`)
	if err != nil {
		t.Fatalf("retry after approval: %v", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Error("the approved delete removed nothing")
	}
}

// TestApproval_keepsMasks: a statement that needs approval and masks runs,
// once approved, with its masks.
func TestApproval_keepsMasks(t *testing.T) {
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: "testdata/approve-masked", ApprovalMode: "ticket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	db := openDB(t, st, "analyst")
	const q = `SELECT email, city FROM customers WHERE id = 3`
	var email, city string
	if err := db.QueryRow(q).Scan(&email, &city); snowflakeCode(err) != 3002 {
		t.Fatalf("first run: %v, want a ticket", err)
	}
	r := pending(t, st)
	if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+r.ID+"/approve", nil); code != 200 {
		t.Fatalf("approve: %d %v", code, body)
	}
	if err := db.QueryRow(q).Scan(&email, &city); err != nil {
		t.Fatalf("after approval: %v", err)
	}
	if email != "********" || city == "" {
		t.Errorf("after approval the statement ran with email %q, city %q; want email redacted", email, city)
	}
}
