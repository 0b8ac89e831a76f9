package proxy

import (
	"reflect"
	"testing"
)

func TestBindIdentifiers(t *testing.T) {
	text := func(name, v string) Bind { return Bind{Name: name, Type: "TEXT", Value: &v} }
	fixed := func(name, v string) Bind { return Bind{Name: name, Type: "FIXED", Value: &v} }
	cases := []struct {
		name      string
		sql       string
		binds     []Bind
		wantSQL   string
		wantBinds []Bind
	}{
		{"positional", "SHOW TABLES IN SCHEMA IDENTIFIER(?)", []Bind{text("1", "DEMO.PUBLIC")},
			"SHOW TABLES IN SCHEMA IDENTIFIER('DEMO.PUBLIC')", []Bind{}},
		{"positional, values after", "SELECT * FROM IDENTIFIER(?) WHERE id = ? AND name = ?", []Bind{text("1", "orders"), fixed("2", "7"), text("3", "x")},
			"SELECT * FROM IDENTIFIER('orders') WHERE id = ? AND name = ?", []Bind{fixed("1", "7"), text("2", "x")}},
		{"positional, value before", "DELETE FROM IDENTIFIER ( ? ) WHERE id = ?", []Bind{text("1", `"My Table"`), fixed("2", "7")},
			`DELETE FROM IDENTIFIER ( '"My Table"' ) WHERE id = ?`, []Bind{fixed("1", "7")}},
		{"numbered, renumbered", "SELECT :2 FROM identifier(:1) WHERE a = :3 OR b = :2", []Bind{text("1", "t"), fixed("2", "5"), fixed("3", "6")},
			"SELECT :1 FROM identifier('t') WHERE a = :2 OR b = :1", []Bind{fixed("1", "5"), fixed("2", "6")}},
		{"numbered, one bind as name and value", "SELECT :1 FROM IDENTIFIER(:1)", []Bind{text("1", "t")},
			"SELECT :1 FROM IDENTIFIER('t')", []Bind{text("1", "t")}},
		{"quotes and backslashes escaped", "SELECT * FROM IDENTIFIER(?)", []Bind{text("1", `t'; DROP TABLE x; --\`)},
			`SELECT * FROM IDENTIFIER('t''; DROP TABLE x; --\\')`, []Bind{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sql, binds := bindIdentifiers(c.sql, c.binds)
			if sql != c.wantSQL {
				t.Errorf("sql = %s\nwant  %s", sql, c.wantSQL)
			}
			if len(binds) != len(c.wantBinds) || (len(binds) > 0 && !reflect.DeepEqual(binds, c.wantBinds)) {
				t.Errorf("binds = %+v, want %+v", binds, c.wantBinds)
			}
		})
	}

	// What cannot be resolved with certainty is left as it came: the
	// analyser then reads a name from a bind, which is denied.
	unresolved := []struct {
		name  string
		sql   string
		binds []Bind
	}{
		{"missing bind", "SELECT * FROM IDENTIFIER(?)", nil},
		{"bind out of range", "SELECT * FROM IDENTIFIER(:2)", []Bind{text("1", "t")}},
		{"null", "SELECT * FROM IDENTIFIER(?)", []Bind{{Name: "1", Type: "TEXT"}}},
		{"array", "SELECT * FROM IDENTIFIER(?)", []Bind{{Name: "1", Type: "TEXT", Array: true}}},
		{"not text", "SELECT * FROM IDENTIFIER(?)", []Bind{fixed("1", "1")}},
		{"mixed styles", "SELECT * FROM IDENTIFIER(?) WHERE a = :1", []Bind{text("1", "t")}},
		{"unused bind", "SELECT * FROM IDENTIFIER(?)", []Bind{text("1", "t"), fixed("2", "1")}},
		{"an argument, not the name", "SELECT * FROM IDENTIFIER(? || 'x')", []Bind{text("1", "t")}},
	}
	for _, c := range unresolved {
		t.Run(c.name, func(t *testing.T) {
			sql, binds := bindIdentifiers(c.sql, c.binds)
			if sql != c.sql || !reflect.DeepEqual(binds, c.binds) {
				t.Errorf("changed to %s %+v", sql, binds)
			}
		})
	}
}

// TestFormatOnly: the gateway answers an ALTER SESSION itself only when it
// sets or unsets result-format parameters and nothing else.
func TestFormatOnly(t *testing.T) {
	for sql, want := range map[string]bool{
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'":                                                   true,
		"alter session set go_query_result_format = json":                                                     true,
		"ALTER SESSION SET JDBC_QUERY_RESULT_FORMAT = 'ARROW', PYTHON_CONNECTOR_QUERY_RESULT_FORMAT = 'JSON'": true,
		"ALTER SESSION UNSET GO_QUERY_RESULT_FORMAT":                                                          true,
		"ALTER SESSION UNSET GO_QUERY_RESULT_FORMAT, JDBC_QUERY_RESULT_FORMAT;":                               true,
		"ALTER SESSION SET \"GO_QUERY_RESULT_FORMAT\" = 'JSON'":                                               false, // a quoted name is not the parameter
		"ALTER SESSION SET QUERY_TAG = 'x', GO_QUERY_RESULT_FORMAT = json":                                    false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON', TIMEZONE = 'UTC'":                                 false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON' TIMEZONE = 'UTC'":                                  false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON',":                                                  false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT":                                                            false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = ":                                                         false,
		"ALTER SESSION SET TIMEZONE = 'UTC'":                                                                  false,
		"ALTER SESSION UNSET GO_QUERY_RESULT_FORMAT, QUERY_TAG":                                               false,
		"ALTER USER SET GO_QUERY_RESULT_FORMAT = 'JSON'":                                                      false,
		"ALTER ACCOUNT SET GO_QUERY_RESULT_FORMAT = 'JSON'":                                                   false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = 'JSON'; DROP TABLE t":                                     false,
		"ALTER SESSION SET GO_QUERY_RESULT_FORMAT = (SELECT 1)":                                               false,
	} {
		if got := formatOnly(sql); got != want {
			t.Errorf("formatOnly(%q) = %v, want %v", sql, got, want)
		}
	}
}
