package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// queryAll reads every row of q as text (NULL as !Valid).
func queryAll(t *testing.T, db *sql.DB, q string) [][]sql.NullString {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out, err := scanRows(rows)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// scanRows reads and closes rows, every value as text (NULL as !Valid).
func scanRows(rows *sql.Rows) ([][]sql.NullString, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]sql.NullString
	for rows.Next() {
		row := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// TestMaskLeak_nullOracle: expressions over a masked column that are NULL
// or not by the value they hide used to rebuild it a bit at a time, NULL
// passing through the mask. Masked, every cell of every row is one token.
func TestMaskLeak_nullOracle(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	// DECODE(SUBSTR(ssn, 1, 1), '1', 1) is the simple CASE below: the
	// stand-in does not know Snowflake's DECODE.
	q := `SELECT id, CASE WHEN SUBSTR(ssn,1,1)='1' THEN 1 END, IFF(ssn LIKE '1%', 1, NULL), NULLIF(ssn, ssn),
		COALESCE(NULLIF(SUBSTR(ssn,1,1),'1'),'x'), CASE SUBSTR(ssn,1,1) WHEN '1' THEN 1 END, ssn
		FROM customers WHERE id <= 40 ORDER BY id`

	clear := queryAll(t, openDB(t, st, "admin"), q)
	if len(clear) != 40 {
		t.Fatalf("admin read %d rows, want 40", len(clear))
	}
	// The probes do tell rows apart in clear: some rows are NULL, some not.
	for c := 1; c <= 5; c++ {
		if c == 3 {
			continue // NULLIF(ssn, ssn) is NULL everywhere
		}
		seen := map[sql.NullString]bool{}
		for _, row := range clear {
			seen[row[c]] = true
		}
		if len(seen) < 2 {
			t.Fatalf("column %d is %v in every row as admin: the probe tells nothing apart, so the test shows nothing", c, clear[0][c])
		}
	}

	rows, err := openDB(t, st, "agent").Query(q)
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	rows.Close()
	for _, ct := range types[1:] {
		if nullable, ok := ct.Nullable(); ct.DatabaseTypeName() != "TEXT" || !ok || nullable {
			t.Errorf("masked column %s: type %s nullable %v, want TEXT, not nullable", ct.Name(), ct.DatabaseTypeName(), nullable)
		}
	}
	masked := queryAll(t, openDB(t, st, "agent"), q)
	if len(masked) != len(clear) {
		t.Fatalf("agent read %d rows, admin %d", len(masked), len(clear))
	}
	for r, row := range masked {
		if row[0] != clear[r][0] {
			t.Errorf("row %d: id %v, admin reads %v", r, row[0], clear[r][0])
		}
		for c := 1; c < len(row); c++ {
			if want := (sql.NullString{String: "********", Valid: true}); row[c] != want {
				t.Errorf("row %d column %d: agent reads %v (admin %v), want the redaction token", r, c, row[c], clear[r][c])
			}
		}
	}
}

// TestMaskLeak_strategies: a NULL under hash, partial, email_domain and
// redact shows the redaction token; null stays NULL, in the column's own
// type; hash, partial and email_domain of anything derived are redacted.
func TestMaskLeak_strategies(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/mask-wide/connect.rego")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := os.ReadFile("testdata/mask-wide/policy.rego")
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Replace(string(pol), `"DEMO.PUBLIC.WIDE.ACCOUNT": "hash",`, `"DEMO.PUBLIC.WIDE.ACCOUNT": "hash", "DEMO.PUBLIC.WIDE.SCORE": "null",`, 1)
	if p == string(pol) {
		t.Fatal("the mask-wide policy changed; adapt this test")
	}
	if err := os.WriteFile(filepath.Join(dir, "connect.rego"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.rego"), []byte(p), 0o600); err != nil {
		t.Fatal(err)
	}
	st := startStack(t, dir, proxy.Config{})
	db := openDB(t, st, "analyst")
	if _, err := db.Exec(`CREATE TABLE wide AS SELECT * FROM (VALUES
		(1, 'ann@example.com', '+1-555-0101', '123-45-6789', 'ACCT-1', 7),
		(2, NULL, NULL, NULL, NULL, NULL)) v(id, email, phone, ssn, account, score)`); err != nil {
		t.Fatal(err)
	}
	got := queryAll(t, db, `SELECT email, phone, ssn, account, score FROM wide ORDER BY id`)
	if len(got) != 2 {
		t.Fatalf("%d rows", len(got))
	}
	if got[0][0].String != "****@example.com" || got[0][1].String != "*******0101" || got[0][2].String != "********" ||
		!regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(got[0][3].String) || got[0][4].Valid {
		t.Errorf("masked values: %v", got[0])
	}
	for c, v := range got[1][:4] {
		if v != (sql.NullString{String: "********", Valid: true}) {
			t.Errorf("NULL in column %d reads %v, want the redaction token", c, v)
		}
	}
	if got[1][4].Valid {
		t.Errorf("null strategy of NULL reads %v", got[1][4])
	}

	rows, err := db.Query(`SELECT score FROM wide`)
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	rows.Close()
	if nullable, _ := types[0].Nullable(); types[0].DatabaseTypeName() != "FIXED" || !nullable {
		t.Errorf("null-masked number: type %s nullable %v, want FIXED, nullable", types[0].DatabaseTypeName(), nullable)
	}

	// Derived: a CASE yielding the value or NULL would hash to one of two
	// tokens, an expression keeping a part of the value would show it.
	derived := queryAll(t, db, `SELECT CASE WHEN account = 'ACCT-1' THEN account END, lower(email), phone || '', upper(account) FROM wide ORDER BY id`)
	for r, row := range derived {
		for c, v := range row {
			if v != (sql.NullString{String: "********", Valid: true}) {
				t.Errorf("derived row %d column %d reads %v, want the redaction token", r, c, v)
			}
		}
	}
}

// trailText is every record of the audit trail, as stored.
func trailText(t *testing.T, st *devstack.Stack) string {
	t.Helper()
	time.Sleep(3 * audit.DeferredFlush) // outcomes ride a later commit
	var all strings.Builder
	err := st.Audit.Store().Chain(context.Background(), st.Audit.Replica(), func(rec audit.Record) error {
		all.Write(rec.Body)
		all.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all.String()
}

// TestErrorLeak_masked: an expression over a masked column that can fail
// (a cast, arithmetic, a parse) is denied before it runs: whether it failed
// would tell the value. A statement that reads masked columns and fails
// upstream for another reason keeps the upstream's code and SQLSTATE but
// quotes no value (DuckDB's "Could not convert string 'Ada Knuth' to
// INT32"), in the client's message and in the audit trail.
func TestErrorLeak_masked(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	admin, agent := openDB(t, st, "admin"), openDB(t, st, "agent")
	var ssns, names []string
	for _, row := range queryAll(t, admin, `SELECT ssn, name FROM customers`) {
		ssns = append(ssns, row[0].String)
		names = append(names, row[1].String)
	}
	for _, q := range []string{
		`SELECT CAST(ssn AS INT) FROM customers`,
		`SELECT ssn::DATE FROM customers`,
		`SELECT id, IFF(ssn LIKE '1%', 1/0, 0) FROM customers WHERE id = 3`,
		`SELECT PARSE_JSON(email) FROM customers`,
		`SELECT CAST(REPLACE(ssn, '-', '') AS INT) * 1000000000000 FROM customers`,
		`SELECT TO_NUMBER(phone) FROM customers`,
	} {
		_, err := agent.Exec(q)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) || se.Number != 3001 || !strings.Contains(se.Message, "can fail") {
			t.Errorf("%s as agent: %v, want it denied as an expression that can fail", q, err)
		}
	}

	// Values of every column, classified or not, in any form.
	leaks := func(msg string) string {
		msg = regexp.MustCompile(`\bU?INT\d+\b`).ReplaceAllString(msg, "")
		for _, v := range append(append([]string{}, ssns...), names...) {
			for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == ' ' }) {
				if len(part) > 2 && strings.Contains(msg, part) {
					return part
				}
			}
		}
		if d := regexp.MustCompile(`\d`).FindString(msg); d != "" {
			return d
		}
		return ""
	}
	statements := []string{
		`SELECT ssn, CAST(name AS INT) FROM customers`,
		`SELECT email, name::DATE FROM customers`,
		`SELECT ssn, CAST(name AS DECIMAL(4,2)) FROM customers`,
		`SELECT phone, PARSE_JSON(name) FROM customers`,
		`SELECT id, ssn, CAST(name AS TINYINT) FROM customers WHERE id = 3`,
	}
	var codes []string
	for _, q := range statements {
		_, err := agent.Exec(q)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) {
			t.Fatalf("%s as agent: %v, want an upstream error", q, err)
		}
		if se.Number == 3001 {
			t.Fatalf("%s as agent: denied (%s); the test needs it to run", q, se.Message)
		}
		if p := leaks(se.Message); p != "" {
			t.Errorf("%s as agent: the message %q holds %q", q, se.Message, p)
		}
		codes = append(codes, strconv.Itoa(se.Number)+"/"+se.SQLState)
	}
	trail := trailText(t, st)
	if n := strings.Count(trail, `"error_message":"SQL execution error`); n != len(statements) {
		t.Fatalf("the trail holds %d failed outcomes, want %d:\n%s", n, len(statements), trail)
	}
	for _, name := range names {
		if strings.Contains(trail, `'`+name) || strings.Contains(trail, `\"`+name) {
			t.Errorf("the audit trail quotes the name %s", name)
		}
	}

	// Cleared, the same statements fail with the same codes and the
	// upstream's own message, which does quote the values.
	for i, q := range statements {
		_, err := admin.Exec(q)
		var se *sf.SnowflakeError
		if !errors.As(err, &se) {
			t.Fatalf("%s as admin: %v", q, err)
		}
		if got := strconv.Itoa(se.Number) + "/" + se.SQLState; got != codes[i] {
			t.Errorf("%s: %s as agent, %s as admin: want the upstream's code either way", q, codes[i], got)
		}
		if leaks(se.Message) == "" {
			t.Errorf("%s as admin: %q quotes no value, so the test shows nothing", q, se.Message)
		}
	}
}

// TestMaskLeak_partialStrategies: what email_domain and partial leave
// visible, with the columns an uncleared reader sees in clear (id, name),
// does not rebuild the values of the sample: no simple rule from the name
// and the domain gives back more than a quarter of the addresses (one habit
// in six is first.last, the residual risk of email_domain the README
// states), and the hidden digits of phones and SSNs vary independently of
// what is shown.
func TestMaskLeak_partialStrategies(t *testing.T) {
	st := startStack(t, "", proxy.Config{})
	const q = `SELECT id, name, email, phone, ssn FROM customers ORDER BY id`
	clear := queryAll(t, openDB(t, st, "admin"), q)
	seen := queryAll(t, openDB(t, st, "analyst"), q)
	if len(clear) != 200 || len(seen) != len(clear) {
		t.Fatalf("%d rows clear, %d masked", len(clear), len(seen))
	}
	guesses := map[string]func(first, last, id string) string{
		"first.id":   func(f, l, id string) string { return f + "." + id },
		"first.last": func(f, l, id string) string { return f + "." + l },
		"flast":      func(f, l, id string) string { return f[:1] + l },
		"first_l":    func(f, l, id string) string { return f + "_" + l[:1] },
		"last.f":     func(f, l, id string) string { return l + "." + f[:1] },
	}
	for name, guess := range guesses {
		hits := 0
		for r := range clear {
			id, full := seen[r][0].String, strings.Fields(strings.ToLower(seen[r][1].String))
			masked := seen[r][2].String
			if !strings.HasPrefix(masked, "****@") {
				t.Fatalf("row %d: email reads %q, want it masked to its domain", r, masked)
			}
			if guess(full[0], full[1], id)+masked[4:] == clear[r][2].String {
				hits++
			}
		}
		if hits > len(clear)/4 {
			t.Errorf("guessing %s from the name and the domain gives back %d of %d addresses", name, hits, len(clear))
		}
	}
	hidden := map[string]map[string]bool{"phone": {}, "ssn": {}}
	for r := range clear {
		phone := clear[r][3].String
		if got := seen[r][3].String; got != strings.Repeat("*", len(phone)-4)+phone[len(phone)-4:] {
			t.Fatalf("row %d: phone reads %q", r, got)
		}
		if seen[r][4].String != "********" {
			t.Fatalf("row %d: ssn reads %q", r, seen[r][4].String)
		}
		hidden["phone"][phone[:len(phone)-4]] = true
		hidden["ssn"][clear[r][4].String[:6]] = true
	}
	for col, prefixes := range hidden {
		if len(prefixes) < len(clear)*9/10 {
			t.Errorf("only %d distinct hidden %s prefixes in %d rows: the hidden part follows a pattern", len(prefixes), col, len(clear))
		}
	}
}
