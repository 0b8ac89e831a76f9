package bench

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy"
)

// maskPolicy masks 4 of the 10 columns of DEMO.PUBLIC.WIDE and allows the
// rest, DEMO.PUBLIC.WIDE_PLAIN (the same rows) included.
//
//go:embed testdata/mask-wide/*.rego
var maskPolicy embed.FS

// WideColumns are the columns of the large result, in order.
const WideColumns = "id, name, email, phone, ssn, account, balance, city, opened, active"

// CreateWide is the statement that makes a table of n rows of the 10
// columns (WideColumns); BenchmarkMaskedResult in proxy makes it too.
func CreateWide(table string, n int) string {
	return fmt.Sprintf(`CREATE TABLE %s AS SELECT range AS id, 'Customer ' || range::VARCHAR AS name,
		'user' || range::VARCHAR || '@example.com' AS email, '+1-555-' || lpad((range %% 10000)::VARCHAR, 4, '0') AS phone,
		lpad((range %% 900 + 100)::VARCHAR, 3, '0') || '-12-3456' AS ssn, 'ACCT-' || range::VARCHAR AS account,
		range * 1.25 AS balance, 'Berlin' AS city, DATE '2024-01-01' + (range %% 365)::INT AS opened, range %% 2 = 0 AS active
		FROM range(%d)`, table, n)
}

// throughput is a large result's rate through the gateway.
type throughput struct {
	rows, bytes float64 // per second
}

func (t throughput) String() string {
	cpus := float64(runtime.NumCPU())
	return fmt.Sprintf("%s rows/s, %s MB/s (per core: %s rows/s, %s MB/s)",
		fmtCount(t.rows), sig3(t.bytes/1e6), fmtCount(t.rows/cpus), sig3(t.bytes/cpus/1e6))
}

// largeResults are the large result's rates, masked and not, as JSON and
// as Arrow.
type largeResults struct {
	rows                    int
	masked, plain           throughput // JSON
	arrowMasked, arrowPlain throughput
	// Arrow through a gateway whose upstream is reached with gosnowflake
	chainedMasked, chainedPlain throughput
}

// masking measures the large result with 4 of its 10 columns masked
// through the gateway next to the same rows unmasked.
func (r *runner) masking(ctx context.Context) ([]Row, error) {
	lr, err := r.largeResults(ctx)
	if err != nil {
		return nil, err
	}
	x, err := ratio(lr.masked.rows, lr.plain.rows)
	if err != nil {
		return nil, err
	}
	return []Row{{
		Name:     "masking",
		What:     fmt.Sprintf("%s-row result, 10 columns, through the gateway (raw HTTP client, JSON, chunks downloaded 4 at a time)", fmtInt(int64(lr.rows))),
		Snowgate: "4 columns masked: " + lr.masked.String(),
		Baseline: "unmasked: " + lr.plain.String(),
		Ratio:    fmtRatio(x) + " (masked ÷ unmasked, rows/s)",
		Note:     "email_domain, partial, redact and hash masks; per core is the rate ÷ runtime.NumCPU (client, gateway and stand-in share the cores)",
		Figures:  []float64{lr.masked.rows, lr.masked.bytes, lr.plain.rows, lr.plain.bytes, x},
	}}, nil
}

// formats reports the result formats the gateway serves: the large
// result as JSON and as Arrow, unmasked and masked.
func (r *runner) formats(ctx context.Context) ([]Row, error) {
	lr, err := r.largeResults(ctx)
	if err != nil {
		return nil, err
	}
	plain, err := ratio(lr.arrowPlain.rows, lr.plain.rows)
	if err != nil {
		return nil, err
	}
	masked, err := ratio(lr.arrowMasked.rows, lr.masked.rows)
	if err != nil {
		return nil, err
	}
	chained, err := ratio(lr.chainedPlain.rows, lr.arrowPlain.rows)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("%s-row result, 10 columns, through the gateway (raw HTTP client, chunks downloaded 4 at a time, not decoded)", fmtInt(int64(lr.rows)))
	return []Row{
		{Name: "formats", What: what + ": unmasked", Snowgate: "Arrow: " + lr.arrowPlain.String(), Baseline: "JSON: " + lr.plain.String(),
			Ratio: fmtRatio(plain) + " (Arrow ÷ JSON, rows/s)", Note: "a client logging in as the Go driver gets Arrow; the stand-in's record batches stay in columns: Arrow converted per column, JSON written from them",
			Figures: []float64{lr.arrowPlain.rows, lr.arrowPlain.bytes, lr.plain.rows, lr.plain.bytes, plain}},
		{Name: "formats", What: what + ": 4 columns masked", Snowgate: "Arrow: " + lr.arrowMasked.String(), Baseline: "JSON: " + lr.masked.String(),
			Ratio:   fmtRatio(masked) + " (Arrow ÷ JSON, rows/s)",
			Figures: []float64{lr.arrowMasked.rows, lr.arrowMasked.bytes, lr.masked.rows, lr.masked.bytes, masked}},
		{Name: "formats", What: what + ": from a Snowflake upstream (the stand-in reached with gosnowflake over the protocol), Arrow",
			Snowgate: "unmasked: " + lr.chainedPlain.String() + "; 4 columns masked: " + lr.chainedMasked.String(),
			Baseline: "from the stand-in, unmasked: " + lr.arrowPlain.String(),
			Ratio:    fmtRatio(chained) + " (unmasked ÷ from the stand-in, rows/s)",
			Note:     "the upstream's Arrow chunks are read in gosnowflake's record batches and stay in columns; the gateway, the stand-in encoding its Arrow and the client share the cores",
			Figures:  []float64{lr.chainedPlain.rows, lr.chainedPlain.bytes, lr.chainedMasked.rows, lr.chainedMasked.bytes, chained}},
	}, nil
}

// largeResults measures the large results once for the masking and
// formats rows.
func (r *runner) largeResults(ctx context.Context) (*largeResults, error) {
	if r.large != nil {
		return r.large, nil
	}
	dir, err := writePolicy(maskPolicy, "testdata/mask-wide")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// 2 MiB chunks, as the gateway's large-result benchmarks use.
	st, err := startStack(ctx, dir, proxy.Config{ChunkBytes: 2 << 20})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	c, err := r.wideClient(ctx, st.GatewayAddr, st.Issuer.Token)
	if err != nil {
		return nil, err
	}
	defer c.http.CloseIdleConnections()
	ac := newRawClient(st.GatewayAddr, 4)
	ac.app = "Go"
	defer ac.http.CloseIdleConnections()
	tok, err := st.Issuer.Token("analyst")
	if err != nil {
		return nil, err
	}
	if ac.token, err = ac.login(ctx, tok); err != nil {
		return nil, err
	}
	// The same tables through a second gateway whose upstream is the
	// stand-in reached with gosnowflake: results from a Snowflake upstream.
	caddr, stop, err := chainedGateway(ctx, st, dir, 2<<20)
	if err != nil {
		return nil, err
	}
	defer stop()
	cj, cc := newRawClient(caddr, 1), newRawClient(caddr, 4)
	cc.app = "Go"
	defer cj.http.CloseIdleConnections()
	defer cc.http.CloseIdleConnections()
	for _, c := range []*rawClient{cj, cc} {
		if c.token, err = c.login(ctx, tok); err != nil {
			return nil, err
		}
	}
	if err := checkMasked(ctx, cj); err != nil {
		return nil, fmt.Errorf("chained: %w", err)
	}
	lr := &largeResults{rows: r.cfg.Rows}
	rates, err := r.fetchInTurn(ctx, []*rawClient{c, c, ac, ac, cc, cc}, []string{"wide", "wide_plain", "wide", "wide_plain", "wide", "wide_plain"})
	if err != nil {
		return nil, err
	}
	lr.masked, lr.plain, lr.arrowMasked, lr.arrowPlain = rates[0], rates[1], rates[2], rates[3]
	lr.chainedMasked, lr.chainedPlain = rates[4], rates[5]
	r.large = lr
	return lr, nil
}

// wideClient logs a raw client in and creates the wide tables, and checks
// that one is masked and the other not.
func (r *runner) wideClient(ctx context.Context, addr string, token func(string) (string, error)) (*rawClient, error) {
	tok, err := token("analyst")
	if err != nil {
		return nil, fmt.Errorf("dev token: %w", err)
	}
	c := newRawClient(addr, 4)
	if c.token, err = c.login(ctx, tok); err != nil {
		return nil, err
	}
	r.log.Info("creating the wide tables", "rows", r.cfg.Rows)
	for _, t := range []string{"wide", "wide_plain"} {
		if err := c.run(ctx, CreateWide(t, r.cfg.Rows)); err != nil {
			return nil, fmt.Errorf("create %s: %w", t, err)
		}
	}
	if err := checkMasked(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkMasked checks that WIDE's e-mail addresses come back masked and
// WIDE_PLAIN's as they are.
func checkMasked(ctx context.Context, c *rawClient) error {
	for _, t := range []struct {
		table  string
		masked bool
	}{{"wide", true}, {"wide_plain", false}} {
		email, err := c.firstValue(ctx, "SELECT email FROM "+t.table+" WHERE id = 1")
		if err != nil {
			return fmt.Errorf("read %s: %w", t.table, err)
		}
		if masked := email != "user1@example.com"; masked != t.masked {
			return fmt.Errorf("%s: e-mail %q: masked %v, want %v", t.table, email, masked, t.masked)
		}
	}
	return nil
}

// firstValue runs a query and returns the first value of its first row.
func (c *rawClient) firstValue(ctx context.Context, q string) (string, error) {
	var r reply
	if err := c.post(ctx, c.queryPath(), c.token, map[string]any{"sqlText": q}, &r); err != nil {
		return "", err
	}
	if !r.Success {
		return "", fmt.Errorf("statement refused: %s", r.Message)
	}
	var d struct {
		Rowset [][]*string `json:"rowset"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return "", fmt.Errorf("rowset: %w", err)
	}
	if len(d.Rowset) == 0 || len(d.Rowset[0]) == 0 || d.Rowset[0][0] == nil {
		return "", fmt.Errorf("no value")
	}
	return *d.Rowset[0][0], nil
}

// fetchInTurn downloads each table's result with its client in turn
// until each has had about the measurement's time, and returns their
// rates.
func (r *runner) fetchInTurn(ctx context.Context, clients []*rawClient, tables []string) ([]throughput, error) {
	read := make([]int64, len(tables))
	ops := make([]func() error, len(tables))
	for i, table := range tables {
		q := "SELECT " + WideColumns + " FROM " + table
		c := clients[i]
		ops[i] = func() error {
			n, total, err := c.fetchAll(ctx, q)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			if total != int64(r.cfg.Rows) {
				return fmt.Errorf("%s: %d rows, want %d", table, total, r.cfg.Rows)
			}
			read[i] += n
			return nil
		}
	}
	for _, op := range ops { // warm
		if err := op(); err != nil {
			return nil, err
		}
	}
	clear(read)
	times, err := alternate(time.Duration(len(ops))*r.cfg.Time, ops...)
	if err != nil {
		return nil, err
	}
	out := make([]throughput, len(ops))
	for i, ts := range times {
		var sum time.Duration
		for _, t := range ts {
			sum += t
		}
		secs := sum.Seconds()
		out[i] = throughput{rows: float64(r.cfg.Rows*len(ts)) / secs, bytes: float64(read[i]) / secs}
	}
	return out, nil
}

// writePolicy copies an embedded policy directory to a new temporary one.
func writePolicy(fsys embed.FS, dir string) (string, error) {
	tmp, err := os.MkdirTemp("", "snowgate-bench-policy")
	if err != nil {
		return "", fmt.Errorf("policy dir: %w", err)
	}
	err = fs.WalkDir(fsys, dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fsys.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, strings.TrimPrefix(path, dir+"/")), b, 0o600)
	})
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("write policy: %w", err)
	}
	return tmp, nil
}
