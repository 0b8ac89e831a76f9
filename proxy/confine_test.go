package proxy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy/devstack"
)

// gatewayConfineCases are DuckDB-only features, in several spellings: no
// client of the gateway may reach them on the dev stack's stand-in. {F} is
// a directory of readable files, {W} one nothing may be written to.
var gatewayConfineCases = []string{
	// Files.
	`SELECT * FROM read_csv('/etc/passwd')`,
	`SELECT * FROM read_csv('{F}/data.csv')`,
	`select * from READ_CSV('{F}/data.csv')`,
	`SELECT * FROM "read_csv"('{F}/data.csv')`,
	`SELECT * FROM main.read_csv('{F}/data.csv')`,
	`SELECT * FROM system.main.read_csv('{F}/data.csv')`,
	`SELECT * FROM read_csv_auto('{F}/data.csv')`,
	`SELECT * FROM read_text('{F}/text.txt')`,
	`SELECT * FROM read_text('/etc/hostname')`,
	`SELECT content FROM "READ_TEXT"('{F}/text.txt')`,
	`SELECT * FROM read_blob('{F}/text.txt')`,
	`SELECT * FROM read_json('{F}/data.json')`,
	`SELECT * FROM read_ndjson('{F}/data.json')`,
	`SELECT * FROM read_parquet('{F}/data.parquet')`,
	`SELECT * FROM glob('/*')`,
	`SELECT * FROM GLOB('{F}/*')`,
	`SELECT * FROM '{F}/data.csv'`,
	`SELECT * FROM TABLE(read_csv('{F}/data.csv'))`,
	`CREATE TABLE loaded AS SELECT * FROM read_csv('{F}/data.csv')`,
	`INSERT INTO customers (id) SELECT id FROM read_csv('{F}/data.csv')`,
	`COPY (SELECT 1) TO '{W}/x.csv'`,
	`copy (select 1) to '{W}/y.csv' (format csv)`,
	`COPY customers TO '{W}/customers.csv'`,
	`COPY customers FROM '{F}/data.csv'`,
	`EXPORT DATABASE '{W}/export'`,
	`IMPORT DATABASE '{F}'`,
	`ATTACH '{W}/x.db'`,
	`ATTACH '{W}/y.db' AS y`,
	`attach database '{W}/z.db' as z`,
	`ATTACH ':memory:' AS scratch`,
	`DETACH DEMO`,
	// Extensions.
	`INSTALL httpfs`,
	`install 'httpfs'`,
	`FORCE INSTALL httpfs`,
	`LOAD httpfs`,
	`LOAD parquet`,
	`UPDATE EXTENSIONS`,
	// Settings: changing them, reading them.
	`SET enable_external_access = true`,
	`set enable_external_access=true`,
	`SET GLOBAL enable_external_access = true`,
	`SET lock_configuration = false`,
	`RESET lock_configuration`,
	`SET temp_directory = '{W}/tmp'`,
	`SET threads = 1`,
	`PRAGMA threads = 1`,
	`PRAGMA enable_profiling`,
	`PRAGMA database_list`,
	`CALL enable_logging(storage = 'file', storage_path = '{W}/log')`,
	`SELECT current_setting('temp_directory')`,
	`SELECT CURRENT_SETTING('TimeZone')`,
	`SELECT "current_setting"('threads')`,
	`SELECT * FROM duckdb_settings()`,
	`SELECT * FROM pg_settings`,
	`SELECT * FROM duckdb_databases()`,
	`SELECT getenv('HOME')`,
	`SELECT GETENV('HOME')`,
	// Statements held in strings.
	`SELECT * FROM query('SELECT 1')`,
	`SELECT * FROM QUERY('select ssn from customers')`,
	`SELECT * FROM "query"('SELECT 1')`,
	`SELECT * FROM system.main.query('SELECT 1')`,
	`SELECT * FROM query_table('customers')`,
	`SELECT * FROM QUERY_TABLE('CUSTOMERS')`,
	`SELECT * FROM "query_table"('customers')`,
	`SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))`,
	// COLUMNS().
	`SELECT COLUMNS('S.*') FROM customers`,
	`SELECT columns(*) FROM customers`,
	`SELECT min(COLUMNS(*)) FROM customers`,
	// Variables.
	`SET VARIABLE x = 1`,
	`set variable x = 42`,
	`SELECT getvariable('x')`,
	`SELECT GETVARIABLE('X')`,
	`SELECT "getvariable"('x')`,
	// Engine maintenance, procedures, macros, prepared statements.
	`CHECKPOINT`,
	`SELECT * FROM checkpoint()`,
	`VACUUM`,
	`CALL pragma_version()`,
	`CALL query('SELECT 1')`,
	`CREATE MACRO m(x) AS x + 1`,
	`CREATE TEMP MACRO t() AS TABLE SELECT ssn FROM customers`,
	`PREPARE p AS SELECT 1`,
	`EXPLAIN ANALYZE SELECT 1`,
	`EXPLAIN ANALYZE DELETE FROM orders WHERE id = 1`,
	// DuckDB's own query forms and column patterns.
	`FROM customers SELECT ssn`,
	`SUMMARIZE customers`,
	`SELECT * LIKE 'S%' FROM customers`,
	`SELECT #5 FROM customers`,
	// Read DuckDB's way, @ is abs().
	`SELECT @current_setting('threads')::INT`,
}

var ticketID = regexp.MustCompile(`apr-[a-z2-7]+`)

// TestGateway_confinesStandin: through the gateway, with the real
// gosnowflake driver as the admin demo identity, every DuckDB-only feature
// is denied by the policy or fails on the stand-in: nothing runs, nothing
// is written. A statement the policy holds for approval fails on the
// stand-in once an approver approves it. With the allow-all policy every
// statement reaches the stand-in.
func TestGateway_confinesStandin(t *testing.T) {
	for _, policy := range []struct{ name, dir string }{{"default policy", ""}, {"allow-all policy", allowAll}} {
		t.Run(policy.name, func(t *testing.T) {
			f, w := t.TempDir(), t.TempDir()
			for name, text := range map[string]string{
				"data.csv":     "id,ssn\n1,123-45-6789\n",
				"text.txt":     "a file the stand-in must not read\n",
				"data.json":    `{"id": 1, "ssn": "123-45-6789"}` + "\n",
				"data.parquet": "PAR1",
				"schema.sql":   "CREATE TABLE imported (id INT);\n",
				"load.sql":     "",
			} {
				if err := os.WriteFile(filepath.Join(f, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: policy.dir, ApprovalMode: "ticket"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(st.Close)
			db := openDB(t, st, "admin")
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil || n == 0 {
				t.Fatalf("admin reads %d customers: %v", n, err)
			}
			run := func(q string) error {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				rows, err := db.QueryContext(ctx, q)
				if err != nil {
					return err
				}
				k := 0
				for rows.Next() {
					k++
				}
				err = rows.Err()
				rows.Close()
				if err == nil {
					t.Errorf("ran %s (%d rows)", q, k)
				}
				return err
			}
			denied, approved, failed := 0, 0, 0
			for _, c := range gatewayConfineCases {
				q := strings.NewReplacer("{F}", f, "{W}", w).Replace(c)
				err := run(q)
				if snowflakeCode(err) == 3002 {
					id := ticketID.FindString(err.Error())
					if code, body := adminCall(t, st, "approver", "POST", "/api/v1/approvals/"+id+"/approve", nil); code != 200 {
						t.Fatalf("%s: approve %s: %d %v", q, id, code, body)
					}
					approved++
					err = run(q)
				}
				switch code := snowflakeCode(err); {
				case err == nil:
				case code == 3001:
					denied++
				case code == 3002:
					t.Errorf("%s: a second ticket after approval: %v", q, err)
				case errors.Is(err, context.DeadlineExceeded):
					t.Errorf("%s: no answer", q)
				default:
					failed++
				}
			}
			t.Logf("%d statements: %d denied by the policy, %d failed on the stand-in (%d of them approved first)",
				len(gatewayConfineCases), denied, failed, approved)
			if policy.dir == allowAll && denied+approved > 0 {
				t.Errorf("the allow-all policy denied %d statements and held %d", denied, approved)
			}
			entries, err := os.ReadDir(w)
			if err != nil || len(entries) > 0 {
				t.Errorf("written in %s: %v %v", w, entries, err)
			}
			// Read DuckDB's way, these would read a variable and a
			// setting: the stand-in reads them as the gateway does.
			for _, tc := range []struct{ sql, want string }{
				{`SELECT 'a\' , getvariable($$x$$) --'`, `a' , getvariable($$x$$) --`},
				{"SELECT '10' // , current_setting('temp_directory')\n", "10"},
			} {
				rows, err := db.Query(tc.sql)
				if snowflakeCode(err) == 3001 {
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", tc.sql, err)
					continue
				}
				cols, _ := rows.Columns()
				var got string
				for rows.Next() {
					if len(cols) == 1 {
						rows.Scan(&got)
					}
				}
				rows.Close()
				if len(cols) != 1 || got != tc.want {
					t.Errorf("%s: %d columns, %q; want %q", tc.sql, len(cols), got, tc.want)
				}
			}
			// The session and the stand-in still work.
			if err := db.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil || n == 0 {
				t.Errorf("after the statements, admin reads %d customers: %v", n, err)
			}
		})
	}
}
