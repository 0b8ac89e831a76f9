package proxy_test

import (
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
)

// TestMasking_defaultPolicy runs the default library's masks through the
// gateway with the real driver: the analyst sees PII masked by strategy, a
// pii-reader sees it in clear.
func TestMasking_defaultPolicy(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	q := `SELECT c.name, c.email AS "contact", c.phone, c.ssn, c.city FROM customers c WHERE c.id = 7`

	var name, email, phone, ssn, city sql.NullString
	if err := openDB(t, st, "admin").QueryRow(q).Scan(&name, &email, &phone, &ssn, &city); err != nil {
		t.Fatalf("pii-reader: %v", err)
	}
	clear := []string{name.String, email.String, phone.String, ssn.String, city.String}
	if !strings.Contains(clear[1], "@") || !regexp.MustCompile(`^\d{3}-\d{2}-\d{4}$`).MatchString(clear[3]) {
		t.Fatalf("pii-reader sees %q, want clear values", clear)
	}

	if err := openDB(t, st, "analyst").QueryRow(q).Scan(&name, &email, &phone, &ssn, &city); err != nil {
		t.Fatalf("analyst: %v", err)
	}
	domain := clear[1][strings.LastIndex(clear[1], "@"):]
	want := []string{clear[0], "****" + domain, strings.Repeat("*", len(clear[2])-4) + clear[2][len(clear[2])-4:], "********", clear[4]}
	got := []string{name.String, email.String, phone.String, ssn.String, city.String}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %d: analyst sees %q, want %q", i, got[i], want[i])
		}
	}

	// A masked column used to filter rows could be rebuilt by probing: denied.
	_, err := openDB(t, st, "analyst").Exec(`SELECT id FROM customers WHERE email LIKE 'ada%'`)
	var se *sf.SnowflakeError
	if !errors.As(err, &se) || se.Number != 3001 {
		t.Errorf("filtering on a masked column: %v, want a 003001 denial", err)
	}
}

// TestMasking_wideStrategies checks every strategy on one result, as the
// masking benchmark runs it.
func TestMasking_wideStrategies(t *testing.T) {
	st := startStack(t, "testdata/mask-wide", proxy.Config{})
	db := openDB(t, st, "analyst")
	if _, err := db.Exec(`CREATE TABLE wide AS SELECT 1 AS id, 'ann@example.com' AS email, '+1-555-0101' AS phone, '123-45-6789' AS ssn, 'ACCT-1' AS account`); err != nil {
		t.Fatal(err)
	}
	var email, phone, ssn, account string
	if err := db.QueryRow(`SELECT email, phone, ssn, account FROM wide`).Scan(&email, &phone, &ssn, &account); err != nil {
		t.Fatal(err)
	}
	if email != "****@example.com" || phone != "*******0101" || ssn != "********" || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(account) {
		t.Errorf("masked: %q %q %q %q", email, phone, ssn, account)
	}
	var again string
	if err := db.QueryRow(`SELECT account AS a FROM wide`).Scan(&again); err != nil || again != account {
		t.Errorf("hash is not stable within a deployment: %q then %q (%v)", account, again, err)
	}
}
