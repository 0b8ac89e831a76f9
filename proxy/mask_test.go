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
