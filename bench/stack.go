package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

// smallSelect is the statement of the latency and parallel rows.
const smallSelect = `SELECT id, city, country FROM customers WHERE id = 42`

// startStack starts a dev stack (stand-in, dev issuer, gateway with its
// durable audit trail) on loopback ports. An empty policy is the default
// library.
func startStack(ctx context.Context, policyDir string, gw proxy.Config) (*devstack.Stack, error) {
	st, err := devstack.Start(ctx, devstack.Options{PolicyDir: policyDir, Gateway: gw})
	if err != nil {
		return nil, fmt.Errorf("start dev stack: %w", err)
	}
	return st, nil
}

// openGateway opens gosnowflake on the gateway as a demo identity.
func openGateway(st *devstack.Stack, as string) (*sql.DB, error) {
	tok, err := st.Issuer.Token(as)
	if err != nil {
		return nil, fmt.Errorf("dev token for %s: %w", as, err)
	}
	host, port, err := hostPort(st.GatewayAddr)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{
		Account: "snowgate", Host: host, Port: port, Protocol: "http", Authenticator: sf.AuthTypeOAuth, Token: tok,
		Database: "DEMO", Schema: "PUBLIC", LoginTimeout: 60 * time.Second,
	})), nil
}

// openDirect opens gosnowflake straight on the stand-in, as its ADMIN user.
func openDirect(st *devstack.Stack) (*sql.DB, error) {
	host, port, err := hostPort(st.StandinAddr)
	if err != nil {
		return nil, err
	}
	cfg, err := sf.ParseDSN(fmt.Sprintf("ADMIN:snowgate-dev@%s:%d/DEMO/PUBLIC?account=standin&protocol=http", host, port))
	if err != nil {
		return nil, fmt.Errorf("stand-in DSN: %w", err)
	}
	return sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg)), nil
}

func hostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	return host, port, nil
}

// querySmall runs the small SELECT and reads its row.
func querySmall(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	var id int
	var city, country string
	if err := q.QueryRowContext(ctx, smallSelect).Scan(&id, &city, &country); err != nil {
		return fmt.Errorf("small SELECT: %w", err)
	}
	return nil
}

// rawClient speaks the gateway's protocol with plain HTTP requests, as a
// driver would, without a driver's decoding of the rows.
type rawClient struct {
	base  string
	http  *http.Client
	token string
	app   string // the CLIENT_APP_ID it logs in with: "Go" gets Arrow results
	seq   atomic.Int64
}

func newRawClient(addr string, conns int) *rawClient {
	return &rawClient{base: "http://" + addr, app: "bench", http: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

// reply is the envelope of the gateway's answers.
type reply struct {
	Success bool            `json:"success"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// login opens a session with an OAuth token and returns its session token.
func (c *rawClient) login(ctx context.Context, tok string) (string, error) {
	body := map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": tok, "CLIENT_APP_ID": c.app, "ACCOUNT_NAME": "snowgate"}}
	var r reply
	if err := c.post(ctx, "/session/v1/login-request", "", body, &r); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	if !r.Success {
		return "", fmt.Errorf("login refused: %s", r.Message)
	}
	var d struct{ Token string }
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return "", fmt.Errorf("login answer: %w", err)
	}
	return d.Token, nil
}

// run runs a statement in the client's session and checks that it ran.
func (c *rawClient) run(ctx context.Context, sqlText string) error {
	var r reply
	if err := c.post(ctx, c.queryPath(), c.token, map[string]any{"sqlText": sqlText}, &r); err != nil {
		return err
	}
	if !r.Success {
		return fmt.Errorf("statement refused: %s", r.Message)
	}
	return nil
}

func (c *rawClient) queryPath() string {
	return fmt.Sprintf("/queries/v1/query-request?requestId=bench-%d-%d", time.Now().UnixNano(), c.seq.Add(1))
}

func (c *rawClient) post(ctx context.Context, path, token string, body, into any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}

// fetchAll runs a query in the client's session and downloads every chunk
// of its result (FetchAll).
func (c *rawClient) fetchAll(ctx context.Context, q string) (int64, int64, error) {
	return FetchAll(ctx, c.http, c.base+c.queryPath(), c.token, q)
}

// FetchAll posts q to queryURL (a gateway's /queries/v1/query-request with
// its requestId) in the session of token, and downloads every chunk of the
// result as a driver would, discarding the rows: downloadWorkers at a time.
// It returns the bytes read and the result's row total. proxy's go test
// benchmarks use it too.
func FetchAll(ctx context.Context, hc *http.Client, queryURL, token, q string) (int64, int64, error) {
	b, err := json.Marshal(map[string]any{"sqlText": q})
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, queryURL, bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("query: %w", err)
	}
	var r struct {
		Success bool
		Message string
		Data    struct {
			Total  int64
			Chunks []struct{ URL string }
		}
	}
	cr := &countingReader{r: resp.Body}
	err = json.NewDecoder(cr).Decode(&r)
	resp.Body.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("query answer: %w", err)
	}
	if !r.Success {
		return 0, 0, fmt.Errorf("query refused: %s", r.Message)
	}
	urls := make([]string, len(r.Data.Chunks))
	for i, ch := range r.Data.Chunks {
		urls[i] = ch.URL
	}
	m, err := downloadAll(ctx, hc, urls)
	return cr.n + m, r.Data.Total, err
}

// downloadWorkers is how many chunks FetchAll downloads at once: the Python
// connector's default (CLIENT_PREFETCH_THREADS); gosnowflake's is 10.
const downloadWorkers = 4

// downloadAll downloads the chunks, downloadWorkers at a time, and
// returns the bytes read.
func downloadAll(ctx context.Context, hc *http.Client, urls []string) (int64, error) {
	var (
		next  atomic.Int64
		bytes atomic.Int64
		wg    sync.WaitGroup
		errs  = make([]error, downloadWorkers)
	)
	for w := range downloadWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(urls); i = int(next.Add(1)) - 1 {
				m, err := download(ctx, hc, urls[i])
				if err != nil {
					errs[w] = fmt.Errorf("chunk %d: %w", i, err)
					return
				}
				bytes.Add(m)
			}
		})
	}
	wg.Wait()
	return bytes.Load(), errors.Join(errs...)
}

func download(ctx context.Context, hc *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.Copy(io.Discard, resp.Body)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
