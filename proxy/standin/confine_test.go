package standin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// confineCase is a DuckDB-only feature the stand-in must not reach.
type confineCase struct {
	sql string // {F}: a directory of readable files; {W}: a directory nothing may be written to
	// duck: DuckDB itself refuses it, below the stand-in's own checks
	// (files, extensions, settings).
	duck bool
	// control: it succeeds on an unconfined DuckDB, which shows the case
	// probes something (false where that needs the network, or would
	// disturb the control).
	control bool
}

// confineCases are the DuckDB-only features, in several spellings each:
// case, quoted names, schema-qualified names, aliases.
func confineCases() []confineCase {
	var cs []confineCase
	add := func(duck, control bool, qs ...string) {
		for _, q := range qs {
			cs = append(cs, confineCase{sql: q, duck: duck, control: control})
		}
	}
	// Reading files.
	add(true, true,
		`SELECT * FROM read_csv('{F}/data.csv')`,
		`select * from READ_CSV('{F}/data.csv')`,
		`SELECT * FROM "read_csv"('{F}/data.csv')`,
		`SELECT * FROM "READ_CSV"('{F}/data.csv')`,
		`SELECT * FROM main.read_csv('{F}/data.csv')`,
		`SELECT * FROM system.main.read_csv('{F}/data.csv')`,
		`SELECT * FROM "system"."main"."read_csv"('{F}/data.csv')`,
		`SELECT * FROM read_csv_auto('{F}/data.csv')`,
		`SELECT * FROM read_csv('/etc/passwd', delim = ':', header = false)`,
		`SELECT * FROM sniff_csv('{F}/data.csv')`,
		`SELECT * FROM read_text('{F}/text.txt')`,
		`SELECT content FROM READ_TEXT('{F}/text.txt')`,
		`SELECT * FROM read_blob('{F}/text.txt')`,
		`SELECT * FROM read_parquet('{F}/data.parquet')`,
		`SELECT * FROM parquet_scan('{F}/data.parquet')`,
		`SELECT count(*) FROM parquet_metadata('{F}/data.parquet')`,
		`SELECT * FROM parquet_schema('{F}/data.parquet')`,
		`SELECT * FROM read_json('{F}/data.json')`,
		`SELECT * FROM read_json_auto('{F}/data.json')`,
		`SELECT * FROM read_ndjson('{F}/data.json')`,
		`SELECT * FROM read_json_objects('{F}/data.json')`,
		`SELECT * FROM glob('/*')`,
		`SELECT * FROM GLOB('{F}/*')`,
		`SELECT count(*) FROM "glob"('/etc/*')`,
		`SELECT * FROM '{F}/data.csv'`,
		`FROM '{F}/data.parquet'`,
		`SELECT * FROM customers WHERE id IN (SELECT id FROM read_csv('{F}/data.csv'))`,
		`CREATE TABLE loaded AS SELECT * FROM read_csv('{F}/data.csv')`,
		`INSERT INTO customers (id) SELECT id FROM read_csv('{F}/data.csv')`,
		`COPY customers FROM '{F}/data.csv' (HEADER)`,
		`IMPORT DATABASE '{F}/export'`,
	)
	if _, err := os.Stat("/etc/hostname"); err == nil {
		add(true, true, `SELECT * FROM read_text('/etc/hostname')`)
	}
	// Writing files, attaching them.
	add(true, true,
		`COPY (SELECT 1) TO '{W}/x.csv'`,
		`copy (select 1) to '{W}/y.csv' (format csv)`,
		`COPY (SELECT 1) TO '{W}/z.csv' (USE_TMP_FILE false)`,
		`COPY customers TO '{W}/customers.parquet' (FORMAT parquet)`,
		`COPY (SELECT 1 AS a, 2 AS b) TO '{W}/p' (FORMAT csv, PARTITION_BY (a))`,
		`EXPORT DATABASE '{W}/export'`,
		`ATTACH '{W}/x.db'`,
		`ATTACH '{W}/y.db' AS y`,
		`attach database '{W}/z.db' as z`,
		`ATTACH IF NOT EXISTS '{W}/w.duckdb' AS w (READ_ONLY false)`,
	)
	add(true, false, // no control: a persistent secret lands in the home directory
		`CREATE PERSISTENT SECRET s1 (TYPE s3, KEY_ID 'a', SECRET 'b')`,
	)
	// Extensions.
	add(true, false, // no control: these need the network
		`INSTALL httpfs`,
		`install 'httpfs'`,
		`FORCE INSTALL httpfs`,
		`INSTALL httpfs FROM core`,
		`LOAD httpfs`,
		`load '{F}/x.duckdb_extension'`,
		`UPDATE EXTENSIONS`,
		`SELECT * FROM read_xlsx('{F}/data.xlsx')`,
		`SELECT * FROM sqlite_scan('{F}/x.sqlite', 't')`,
	)
	// Changing settings.
	add(true, false, // no control: DuckDB turns these on only at start
		`SET enable_external_access = true`,
		`set enable_external_access=true`,
		`SET GLOBAL enable_external_access = true`,
		`SET SESSION enable_external_access TO true`,
		`SET allow_community_extensions = true`,
	)
	add(true, true,
		`SET lock_configuration = false`,
		`RESET lock_configuration`,
		`SET disabled_filesystems = ''`,
		`SET allowed_directories = ['/']`,
		`SET temp_directory = '{W}/tmp'`,
		`SET threads = 1`,
		`SET TimeZone = 'Asia/Tokyo'`,
		`RESET TimeZone`,
		`PRAGMA threads = 1`,
		`PRAGMA temp_directory = '{W}/tmp'`,
		`SET profiling_output = '{W}/profile.txt'`,
		`SET autoinstall_known_extensions = true`,
	)
	// The rest DuckDB itself allows: the stand-in refuses them.
	add(false, true,
		// Reading settings and the engine.
		`SELECT current_setting('temp_directory')`,
		`SELECT CURRENT_SETTING('TimeZone')`,
		`SELECT "current_setting"('threads')`,
		`SELECT system.main.current_setting('threads')`,
		`SELECT * FROM duckdb_settings()`,
		`SELECT value FROM main.duckdb_settings() WHERE name = 'enable_external_access'`,
		`SELECT * FROM "DUCKDB_SETTINGS"()`,
		`SELECT * FROM pg_settings`,
		`SELECT * FROM pg_catalog.pg_settings`,
		`SELECT * FROM duckdb_databases()`,
		`SELECT * FROM duckdb_extensions()`,
		`SELECT * FROM duckdb_secrets()`,
		`SELECT * FROM duckdb_logs`,
		`SELECT * FROM duckdb_functions()`,
		`SELECT * FROM pragma_version()`,
		`SELECT * FROM pragma_database_size()`,
		`PRAGMA database_list`,
		`PRAGMA version`,
		`PRAGMA show_tables`,
		`SELECT * FROM which_secret('s3://bucket/x', 's3')`,
		// Statements held in strings.
		`SELECT * FROM query('SELECT 1')`,
		`SELECT * FROM QUERY('select ssn from customers')`,
		`SELECT * FROM "query"('SELECT 1')`,
		`SELECT * FROM "Query"('SELECT 1')`,
		`SELECT * FROM main.query('SELECT 1')`,
		`SELECT * FROM system.main.query('SELECT 1')`,
		`SELECT * FROM (SELECT * FROM query('SELECT 1'))`,
		`WITH x AS (SELECT * FROM query('SELECT 1')) SELECT * FROM x`,
		`SELECT * FROM query_table('customers')`,
		`SELECT * FROM QUERY_TABLE('CUSTOMERS')`,
		`SELECT * FROM query_table(['customers', 'customers'])`,
		`SELECT * FROM "query_table"('customers')`,
		`SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))`,
		`SELECT json_serialize_sql('SELECT 1')`,
		`CREATE TABLE q AS SELECT * FROM query('SELECT 1')`,
		`CREATE VIEW qv AS SELECT * FROM query_table('customers')`,
		`INSERT INTO customers (id) SELECT * FROM query('SELECT 1000')`,
		// Columns chosen by pattern.
		`SELECT COLUMNS('s.*') FROM customers`,
		`SELECT columns(*) FROM customers`,
		`SELECT min(COLUMNS(*)) FROM customers`,
		`SELECT COLUMNS(c -> c LIKE '%s%') FROM customers`,
		`SELECT coalesce(*COLUMNS(['ssn', 'ssn'])) FROM customers`,
		// Variables.
		`SET VARIABLE x = 1`,
		`set variable x = 42`,
		`RESET VARIABLE x`,
		`SELECT getvariable('x')`,
		`SELECT GETVARIABLE('X')`,
		`SELECT "getvariable"('x')`,
		`SELECT main.getvariable('x')`,
		`SELECT * FROM customers WHERE id = getvariable('x')`,
		// Engine maintenance, logging, profiling, procedures.
		`CHECKPOINT`,
		`FORCE CHECKPOINT`,
		`SELECT * FROM checkpoint()`,
		`SELECT * FROM force_checkpoint()`,
		`VACUUM`,
		`ANALYZE`,
		`CALL pragma_version()`,
		`CALL query('SELECT 1')`,
		`CALL enable_logging()`,
		`SELECT * FROM enable_logging()`,
		`SELECT * FROM disable_logging()`,
		`SELECT * FROM truncate_duckdb_logs()`,
		`PRAGMA enable_checkpoint_on_shutdown`,
		`PRAGMA disable_optimizer`,
		// Attaching and detaching databases.
		`ATTACH ':memory:' AS scratch`,
		`DETACH DEMO`,
		`DETACH DATABASE IF EXISTS DEMO`,
		// Macros and secrets.
		`CREATE MACRO m(x) AS x + 1`,
		`CREATE OR REPLACE TEMP MACRO t() AS TABLE SELECT * FROM customers`,
		`CREATE FUNCTION f(x) AS x + 1`,
		`DROP MACRO IF EXISTS sg_tz`,
		// Prepared statements.
		`PREPARE p AS SELECT 1`,
		`EXECUTE p`,
		`DEALLOCATE p`,
		// EXPLAIN ANALYZE runs its statement.
		`EXPLAIN ANALYZE SELECT 1`,
		`EXPLAIN ANALYZE DELETE FROM customers WHERE id = -1`,
		`explain analyse select 1`,
		// @ is DuckDB's abs(): the gateway reads a stage.
		`SELECT @current_setting('threads')::INT`,
		// DuckDB's own query forms and column patterns.
		`FROM customers SELECT ssn`,
		`from customers`,
		`TABLE customers`,
		`SUMMARIZE customers`,
		`SUMMARIZE SELECT ssn FROM customers`,
		`SELECT * LIKE 's%' FROM customers`,
		`SELECT * SIMILAR TO 's.*' FROM customers`,
		`SELECT * GLOB 's*' FROM customers`,
		`SELECT * NOT LIKE 'I%' FROM customers`,
		`SELECT #2 FROM customers`,
		`SELECT a.id, b.ssn FROM customers a POSITIONAL JOIN customers b`,
		`PIVOT customers ON ssn IN ('123-45-6789') USING count(*)`,
		`UNPIVOT customers ON ssn INTO NAME k VALUE v`,
		// More than one statement in one.
		`SELECT 1; SET VARIABLE x = 1`,
		`SELECT 1; SELECT * FROM query('SELECT 1')`,
	)
	add(false, false, // no control: they run on the prepared statement above, print, or break the control
		`EXPLAIN ANALYZE COPY (SELECT 1) TO '{W}/e.csv'`,
		// DuckDB allows this despite the lock; it then fails every
		// statement, unable to write its log.
		`CALL enable_logging(storage = 'file', storage_path = '{W}/log')`,
		`SELECT * FROM enable_logging(storage = 'file', storage_path = '{W}/log')`,
		`PRAGMA enable_profiling`,
		`CREATE SECRET s2 (TYPE s3, KEY_ID 'a', SECRET 'b')`,
		`DROP SECRET IF EXISTS s2`,
		`PIVOT customers ON ssn USING count(*)`,
	)
	return cs
}

// fixtures writes readable files into dir for the cases' {F}.
func fixtures(t *testing.T, dir string) {
	t.Helper()
	for name, text := range map[string]string{
		"data.csv":  "id,ssn\n1,123-45-6789\n",
		"text.txt":  "a file the stand-in must not read\n",
		"data.json": `{"id": 1, "ssn": "123-45-6789"}` + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`COPY (SELECT 1 AS id, '123-45-6789' AS ssn) TO '` + filepath.Join(dir, "data.parquet") + `' (FORMAT parquet)`,
		`CREATE TABLE imported AS SELECT 1 AS id`,
		`EXPORT DATABASE '` + filepath.Join(dir, "export") + `'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// plainDuckDB is an unconfined DuckDB on one connection, with a customers
// table like the sample's.
func plainDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	connector, err := duckdb.NewConnector("?autoinstall_known_extensions=false&autoload_known_extensions=false", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE customers (id BIGINT, ssn VARCHAR); INSERT INTO customers VALUES (1, '123-45-6789')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ATTACH ':memory:' AS DEMO`); err != nil { // for DETACH DEMO
		t.Fatal(err)
	}
	return db
}

func expand(q, f, w string) string {
	return strings.NewReplacer("{F}", f, "{W}", w).Replace(q)
}

// runSession runs q on a stand-in session as the gateway would, reading
// every row.
func runSession(ctx context.Context, c proxy.Conn, q string) (rows int, err error) {
	out, err := c.Run(ctx, proxy.Exec{SQL: q, Kind: statement.KindUnknown})
	if err != nil {
		return 0, err
	}
	if out.Rows == nil {
		return 0, nil
	}
	defer out.Rows.Close()
	dst := make([]any, len(out.Rows.Columns()))
	for {
		if err := out.Rows.Next(dst); err == io.EOF {
			return rows, nil
		} else if err != nil {
			return rows, err
		}
		rows++
	}
}

// emptyDir fails the test if anything was written into dir.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if p != dir {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		t.Errorf("written in %s: %v", dir, found)
	}
}

// TestConfine: every DuckDB-only feature fails through a stand-in session,
// and those touching files, extensions or settings fail in DuckDB itself;
// each succeeds on an unconfined DuckDB; nothing is written; the settings
// stay locked; ordinary Snowflake SQL still runs.
func TestConfine(t *testing.T) {
	ctx := context.Background()
	f, w, controlW := t.TempDir(), t.TempDir(), t.TempDir()
	fixtures(t, f)
	cases := confineCases()

	// The control: each case with control set does something on an
	// unconfined DuckDB.
	control := plainDuckDB(t)
	for _, c := range cases {
		if !c.control {
			continue
		}
		q := expand(c.sql, f, controlW)
		rows, err := control.Query(q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err != nil {
			t.Errorf("control: %s: %v", q, err)
		}
	}

	s, sess := openSession(t)
	var duck, session int
	for _, c := range cases {
		q := expand(c.sql, f, w)
		if c.duck {
			duck++
			rows, err := s.db.QueryContext(ctx, q)
			if err == nil {
				n := 0
				for rows.Next() {
					n++
				}
				err = rows.Err()
				rows.Close()
				if err == nil {
					t.Errorf("DuckDB ran %s (%d rows)", q, n)
				}
			}
		}
		session++
		if n, err := runSession(ctx, sess, q); err == nil {
			t.Errorf("the stand-in ran %s (%d rows)", q, n)
		}
	}
	t.Logf("%d cases: %d refused by DuckDB itself, %d through a stand-in session", len(cases), duck, session)
	emptyDir(t, w)

	var access, lock, tz, tmp string
	if err := s.db.QueryRowContext(ctx, `SELECT current_setting('enable_external_access')::VARCHAR, current_setting('lock_configuration')::VARCHAR,
		current_setting('TimeZone'), current_setting('temp_directory')`).Scan(&access, &lock, &tz, &tmp); err != nil {
		t.Fatal(err)
	}
	if access != "false" || lock != "true" || tz != "UTC" || tmp != "" {
		t.Errorf("after the cases: enable_external_access %s, lock_configuration %s, TimeZone %s, temp_directory %q", access, lock, tz, tmp)
	}

	// Ordinary statements still run.
	for _, q := range []string{
		`SELECT count(*) FROM customers`,
		`SELECT c.name, sum(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1 ORDER BY 2 DESC LIMIT 3`,
		`SELECT payload FROM events LIMIT 1`,
		`SELECT '2024-02-29 13:14:15+02:00'::TIMESTAMP_TZ`,
		`CREATE TABLE scratch (id INT, note VARCHAR)`,
		`INSERT INTO scratch VALUES (1, 'a')`,
		`UPDATE scratch SET note = 'b' WHERE id = 1`,
		`MERGE INTO scratch USING (SELECT 1 AS id) s ON scratch.id = s.id WHEN MATCHED THEN UPDATE SET note = 'c'`,
		`CREATE TABLE query (a INT)`,
		`INSERT INTO query (a) VALUES (1)`,
		`SELECT * FROM customers PIVOT (count(id) FOR country IN ('DE', 'PT'))`,
		`SELECT * ILIKE '%e%' FROM customers`,
		`SELECT * EXCLUDE (ssn) FROM customers`,
		`EXPLAIN SELECT * FROM customers`,
		`DESCRIBE TABLE customers`,
		`SHOW TABLES`,
		`BEGIN`,
		`DELETE FROM scratch`,
		`ROLLBACK`,
		`DROP TABLE scratch`,
		`CREATE DATABASE LATER`,
		`CREATE TABLE LATER.PUBLIC.T AS SELECT 1 AS x`,
		`SELECT * FROM LATER.PUBLIC.T`,
		`USE DEMO.PUBLIC`,
	} {
		if _, err := runSession(ctx, sess, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestConfine_readsAsAnalysed: DuckDB reads the statement the gateway's
// lexer read. Snowflake's // comments and backslash escapes are not
// DuckDB's: read DuckDB's way, these statements would read a variable or a
// setting.
func TestConfine_readsAsAnalysed(t *testing.T) {
	ctx := context.Background()
	_, sess := openSession(t)
	for _, tc := range []struct{ sql, want string }{
		{`SELECT 'a\' , getvariable($$x$$) --'`, `a' , getvariable($$x$$) --`},
		{`SELECT 'a\\' || 'b'`, `a\b`},
		{`SELECT 'tab\there'`, "tab\there"},
		{`SELECT $$it's \ raw$$`, `it's \ raw`},
		{"SELECT 10 // 3\n", "10"},
		{"SELECT 2 // + length(current_setting('temp_directory'))\n", "2"},
		{`SELECT 1 /* query('SELECT 2') */`, "1"},
		{"SELECT 1 -- ; SET VARIABLE x = 1\n", "1"},
	} {
		out, err := sess.Run(ctx, proxy.Exec{SQL: tc.sql, Kind: statement.KindUnknown})
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		dst := make([]any, len(out.Rows.Columns()))
		err = out.Rows.Next(dst)
		out.Rows.Close()
		if err != nil || len(dst) != 1 || fmt.Sprint(dst[0]) != tc.want {
			t.Errorf("%s = %v (%v), want %q", tc.sql, dst, err, tc.want)
		}
	}
	if _, err := runSession(ctx, sess, `SELECT E'x\\' , getvariable('x') --'`); err == nil {
		t.Errorf("E'...' ran")
	}
}

// TestConfine_persistent: a stand-in with a data directory keeps its data
// across restarts and finds the databases of earlier runs; DuckDB lets it
// reach its own files, the stand-in does not.
func TestConfine_persistent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// A database an earlier run created.
	old, err := sql.Open("duckdb", filepath.Join(dir, "OLDER.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE SCHEMA PUBLIC; CREATE TABLE PUBLIC.T AS SELECT 7 AS x`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	for run := 1; run <= 2; run++ {
		s, err := Open(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := s.Open(ctx, proxy.OpenParams{User: "ADMIN"})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT * FROM read_blob('` + filepath.Join(dir, "standin.duckdb") + `')`,
			`SELECT * FROM read_blob('` + filepath.Join(dir, "DEMO.duckdb.wal") + `')`,
			`COPY (SELECT 1) TO '` + filepath.Join(dir, "DEMO.duckdb") + `' (USE_TMP_FILE false)`,
			`COPY (SELECT 1) TO '` + filepath.Join(dir, "standin.duckdb.tmp", "x.csv") + `'`,
			`SELECT * FROM glob('` + dir + `/*')`,
			`ATTACH '` + filepath.Join(dir, "OTHER.duckdb") + `' AS OTHER`,
		} {
			if _, err := runSession(ctx, sess, q); err == nil {
				t.Errorf("run %d: the stand-in ran %s", run, q)
			}
		}
		if run == 1 {
			for _, q := range []string{
				`INSERT INTO customers (id, name) VALUES (100001, 'restart')`,
				`CHECKPOINT`, // refused; DuckDB checkpoints on its own
				`CREATE DATABASE LATER`,
				`CREATE TABLE LATER.PUBLIC.T AS SELECT 1 AS x`,
			} {
				runSession(ctx, sess, q)
			}
		}
		for _, tc := range []struct{ sql, want string }{
			{`SELECT count(*) FROM customers WHERE id = 100001`, "1"},
			{`SELECT x FROM OLDER.PUBLIC.T`, "7"},
		} {
			out, err := sess.Run(ctx, proxy.Exec{SQL: tc.sql, Kind: statement.KindUnknown})
			if err != nil {
				t.Fatalf("run %d: %s: %v", run, tc.sql, err)
			}
			dst := make([]any, 1)
			if err := out.Rows.Next(dst); err != nil {
				t.Fatal(err)
			}
			out.Rows.Close()
			if got := fmt.Sprint(dst[0]); got != tc.want {
				t.Errorf("run %d: %s = %s, want %s", run, tc.sql, got, tc.want)
			}
		}
		// A database created after the lock-down lives in memory.
		_, err = runSession(ctx, sess, `SELECT * FROM LATER.PUBLIC.T`)
		if run == 2 && err == nil {
			t.Errorf("run 2: LATER outlived the stand-in")
		}
		sess.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"OTHER.duckdb", "LATER.duckdb", filepath.Join("standin.duckdb.tmp", "x.csv")} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (%v)", name, err)
		}
	}
}

// TestCheckedTexts: only texts that passed are remembered, exactly as
// written, and the set stays bounded.
func TestCheckedTexts(t *testing.T) {
	s, c := openSession(t)
	run := func(q string) error {
		out, err := c.Run(context.Background(), proxy.Exec{SQL: q, Kind: statement.KindSelect})
		if err == nil && out.Rows != nil {
			out.Rows.Close()
		}
		return err
	}
	for range 2 {
		if err := run("SELECT 1"); err != nil {
			t.Fatalf("SELECT 1: %v", err)
		}
		if err := run("SELECT 1; SELECT 2"); err == nil {
			t.Error("two statements ran after one was checked")
		}
	}
	chk, ok := s.checked.has(c.checkKey("SELECT 1"))
	if _, two := s.checked.has(c.checkKey("SELECT 1; SELECT 2")); !ok || two || chk.batches != Batches {
		t.Errorf("remembered %v", s.checked.m)
	}
	// a statement that may change the catalog forgets them
	if _, err := c.Run(context.Background(), proxy.Exec{SQL: "CREATE TABLE checked_reset (x INT)", Kind: statement.KindCreate}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.checked.has(c.checkKey("SELECT 1")); ok {
		t.Error("SELECT 1 still remembered after a CREATE TABLE")
	}
	// DML does not
	if err := run("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), proxy.Exec{SQL: "INSERT INTO checked_reset VALUES (1)", Kind: statement.KindInsert}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.checked.has(c.checkKey("SELECT 1")); !ok {
		t.Error("SELECT 1 forgotten after an INSERT")
	}
	var ct checkedTexts
	for i := range maxCheckedTexts + 10 {
		ct.add(checkKey{text: fmt.Sprint(i)}, checked{})
	}
	if len(ct.m) > maxCheckedTexts {
		t.Errorf("%d texts kept", len(ct.m))
	}
}
