package conformance

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"
	"go.yaml.in/yaml/v3"

	"github.com/snowgate/snowgate/proxy/devstack"
)

// MinMaskingCases is the least number of masking cases the corpus holds.
const MinMaskingCases = 60

// maskingCase is one case of conformance/masking/*.yaml.
type maskingCase struct {
	Name   string   `yaml:"name"`
	As     string   `yaml:"as"`
	SQL    string   `yaml:"sql"`
	Expect []string `yaml:"expect"` // per result column: clear or a strategy
}

// masked applies a strategy to a clear value as the gateway must: this is
// the test's own reading of the strategies, not the gateway's code.
func masked(strategy string, clear sql.NullString) sql.NullString {
	switch strategy {
	case "clear":
		return clear
	case "null":
		return sql.NullString{}
	}
	// Every other strategy shows a NULL as the redaction token: a NULL
	// passing through would tell which values are NULL, and of an
	// expression over a masked column, a bit of the value.
	if !clear.Valid {
		return sql.NullString{String: "********", Valid: true}
	}
	v := clear.String
	switch strategy {
	case "redact":
		return sql.NullString{String: "********", Valid: true}
	case "partial":
		r := []rune(v)
		if len(r) <= 4 {
			return sql.NullString{String: strings.Repeat("*", len(r)), Valid: true}
		}
		return sql.NullString{String: strings.Repeat("*", len(r)-4) + string(r[len(r)-4:]), Valid: true}
	case "email_domain":
		if at := strings.LastIndex(v, "@"); at >= 0 {
			return sql.NullString{String: "****" + v[at:], Valid: true}
		}
		return sql.NullString{String: "********", Valid: true}
	}
	return sql.NullString{String: "unknown strategy " + strategy, Valid: true}
}

// TestMasking_throughGateway runs every masking case through the running
// gateway (default policy) with gosnowflake, as the case's identity and as
// admin, and checks each cell; then runs the same statements with the
// Python connector and checks it decodes the masked columns the same way.
func TestMasking_throughGateway(t *testing.T) {
	b, err := os.ReadFile("masking/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Cases []maskingCase }
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < MinMaskingCases {
		t.Errorf("%d masking cases, want at least %d", len(file.Cases), MinMaskingCases)
	}
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	ctx := context.Background()
	st, err := devstack.Start(ctx, devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, port, _ := net.SplitHostPort(st.GatewayAddr)
	tokens := map[string]string{}
	dbs := map[string]*sql.DB{}
	db := func(as string) *sql.DB {
		if d, ok := dbs[as]; ok {
			return d
		}
		tok, err := st.Issuer.Token(as)
		if err != nil {
			t.Fatal(err)
		}
		tokens[as] = tok
		cfg, err := sf.ParseDSN(fmt.Sprintf("%s:%s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=%s", host, port, tok))
		if err != nil {
			t.Fatal(err)
		}
		dbs[as] = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
		return dbs[as]
	}
	query := func(as, q string) ([][]sql.NullString, error) {
		rows, err := db(as).QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
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

	type job struct {
		SQL   string `json:"sql"`
		Token string `json:"token"`
	}
	var jobs []job
	var goRows [][][]sql.NullString
	var ran []maskingCase
	for _, c := range file.Cases {
		clear, err := query("admin", c.SQL)
		if err != nil {
			t.Errorf("%s: as admin: %v", c.Name, err)
			continue
		}
		got, err := query(c.As, c.SQL)
		if err != nil {
			t.Errorf("%s: as %s: %v", c.Name, c.As, err)
			continue
		}
		if len(clear) == 0 || len(got) != len(clear) {
			t.Errorf("%s: %d rows as %s, %d as admin; want the same, at least one", c.Name, len(got), c.As, len(clear))
			continue
		}
		ok := true
		for r := range clear {
			if len(got[r]) != len(c.Expect) {
				t.Errorf("%s: %d columns, the case expects %d", c.Name, len(got[r]), len(c.Expect))
				ok = false
				break
			}
			for i, strategy := range c.Expect {
				if want := masked(strategy, clear[r][i]); got[r][i] != want {
					t.Errorf("%s: row %d column %d (%s): got %q, want %q", c.Name, r, i, strategy, got[r][i].String, want.String)
					ok = false
				}
			}
		}
		if ok {
			jobs = append(jobs, job{SQL: c.SQL, Token: tokens[c.As]})
			goRows = append(goRows, got)
			ran = append(ran, c)
		}
	}
	t.Logf("%d of %d masking cases checked with gosnowflake", len(ran), len(file.Cases))

	for k, res := range runPython(t, st.GatewayAddr, jobs, len(jobs)) {
		c := ran[k]
		if res.Error != "" {
			t.Errorf("%s: python: %s", c.Name, res.Error)
			continue
		}
		if len(res.Rows) != len(goRows[k]) {
			t.Errorf("%s: python read %d rows, gosnowflake %d", c.Name, len(res.Rows), len(goRows[k]))
			continue
		}
		for r, row := range res.Rows {
			for i, strategy := range c.Expect {
				if strategy == "clear" {
					continue
				}
				typ, val := row[i][0], row[i][1]
				want := goRows[k][r][i]
				switch {
				case !want.Valid && val != nil:
					t.Errorf("%s: python row %d column %d = %q, want NULL", c.Name, r, i, *val)
				case want.Valid && (val == nil || *val != want.String || *typ != "str"):
					t.Errorf("%s: python row %d column %d = %v %v, want str %q", c.Name, r, i, deref(typ), deref(val), want.String)
				}
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
