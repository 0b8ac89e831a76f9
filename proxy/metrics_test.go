package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy"
)

// TestMetrics: /metrics on the admin address reports the active policy
// revision, sessions, logins and decisions by action.
func TestMetrics(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	db := openDB(t, st, "agent")
	var city string
	if err := db.QueryRow(`SELECT city FROM customers WHERE id = 1`).Scan(&city); err != nil {
		t.Fatal(err)
	}
	_, _ = db.Exec(`GRANT ROLE SYSADMIN TO USER mallory`)
	resp, err := http.Get("http://" + st.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`snowgate_policy_info{revision="` + st.Engine.Revision() + `"} 1`,
		"snowgate_sessions 1",
		`snowgate_logins_total{result="ok"} 1`,
		`snowgate_decisions_total{action="allow"} 1`,
		`snowgate_decisions_total{action="deny"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}
