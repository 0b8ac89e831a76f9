package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"
)

// devDB connects gosnowflake to a snowgate dev gateway as a demo identity,
// with a token from `snowgate token`.
func devDB(t *testing.T, gw, admin, as string) *sql.DB {
	t.Helper()
	tok, err := snowgate(t, "token", "--as", as, "--addr", admin)
	if err != nil {
		t.Fatalf("snowgate token: %v\n%s", err, tok)
	}
	host, port, _ := net.SplitHostPort(gw)
	cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, strings.TrimSpace(tok)))
	if err != nil {
		t.Fatal(err)
	}
	return sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
}

func firstEmail(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var v string
	if err := db.QueryRow("SELECT email FROM " + table + " ORDER BY id LIMIT 1").Scan(&v); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return v
}

// TestCLI_classify: a copy made by the cleared admin under `snowgate dev`
// is listed, shown and (by a data steward) forgotten with `snowgate
// classify`, and stays masked for the analyst across a restart on the
// same data directory until it is forgotten.
func TestCLI_classify(t *testing.T) {
	out, err := snowgate(t, "classify", "--help")
	if err != nil || !strings.Contains(out, "list|show|forget") {
		t.Fatalf("classify --help: %v\n%s", err, out)
	}
	if out, err := snowgate(t, "classify", "forget", "--help"); err != nil || !strings.Contains(out, "--reason") {
		t.Fatalf("classify forget --help: %v\n%s", err, out)
	}
	dir := t.TempDir()
	gw, admin := startDevIn(t, dir)
	adminDB := devDB(t, gw, admin, "admin")
	raw := firstEmail(t, adminDB, "customers")
	if _, err := adminDB.Exec("CREATE TABLE demo.public.emails_copy AS SELECT id, email FROM customers"); err != nil {
		t.Fatal(err)
	}
	adminDB.Close()
	analyst := devDB(t, gw, admin, "analyst")
	masked := firstEmail(t, analyst, "customers")
	if got := firstEmail(t, analyst, "emails_copy"); got != masked || got == raw {
		t.Fatalf("the analyst reads the copy as %q, want %q (masked like the original)", got, masked)
	}
	analyst.Close()

	out, err = snowgate(t, "classify", "list", "--as", "analyst", "--addr", admin)
	if err != nil || !strings.Contains(out, "DEMO.PUBLIC.EMAILS_COPY.EMAIL") || !strings.Contains(out, "email_domain") ||
		!strings.Contains(out, "DEMO.PUBLIC.CUSTOMERS.EMAIL") || !strings.Contains(out, "ada.admin@example.com") {
		t.Fatalf("classify list: %v\n%s", err, out)
	}
	out, err = snowgate(t, "classify", "show", "demo.public.emails_copy", "--as", "analyst", "--addr", admin, "--output", "json")
	var show struct {
		Effective map[string]struct{ Strategy string }
		Records   []struct{ ID string }
	}
	if err != nil || json.Unmarshal([]byte(out), &show) != nil || show.Effective["EMAIL"].Strategy != "email_domain" || len(show.Records) != 1 {
		t.Fatalf("classify show --output json: %v\n%s", err, out)
	}
	if out, err := snowgate(t, "classify", "show", "demo.public.nothing", "--as", "analyst", "--addr", admin); err == nil || !strings.Contains(out, "404") {
		t.Errorf("show of an unknown table: %v\n%s", err, out)
	}

	// A restart of snowgate dev on the same data directory keeps it.
	stopDev(t, admin)
	gw, admin = startDevIn(t, dir)
	analyst = devDB(t, gw, admin, "analyst")
	defer analyst.Close()
	if got := firstEmail(t, analyst, "emails_copy"); got != masked {
		t.Fatalf("after a restart the analyst reads the copy as %q, want %q", got, masked)
	}

	if out, err := snowgate(t, "classify", "forget", "DEMO.PUBLIC.EMAILS_COPY", "--as", "approver", "--addr", admin); err == nil || !strings.Contains(out, "--reason") {
		t.Errorf("forget without a reason: %v\n%s", err, out)
	}
	if out, err := snowgate(t, "classify", "forget", "DEMO.PUBLIC.EMAILS_COPY", "--reason", "mine", "--as", "analyst", "--addr", admin); err == nil || !strings.Contains(out, "403") {
		t.Errorf("the analyst forgot: %v\n%s", err, out)
	}
	out, err = snowgate(t, "classify", "forget", "DEMO.PUBLIC.EMAILS_COPY", "--reason", "synthetic test data", "--as", "approver", "--addr", admin)
	if err != nil || !strings.Contains(out, "forgot 1") {
		t.Fatalf("classify forget: %v\n%s", err, out)
	}
	if got := firstEmail(t, analyst, "emails_copy"); got != raw {
		t.Errorf("after forget the analyst reads %q, want the raw %q", got, raw)
	}
	out, err = snowgate(t, "classify", "list", "--all", "--as", "analyst", "--addr", admin)
	if err != nil || !strings.Contains(out, "synthetic test data") || !strings.Contains(out, "sam.approver@example.com") {
		t.Errorf("classify list --all: %v\n%s", err, out)
	}
}
