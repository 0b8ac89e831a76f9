package proxy_test

// Benchmarks of the data path. Run them with
//
//	make bench-go
//
// or, for these alone, `go test -run '^$' -bench . -benchmem ./proxy/`.
//
// BenchmarkSmallSelect compares, in the same run, gosnowflake talking to
// the stand-in directly and through the gateway (OIDC session, statement
// analysis, the default policy library, the durable audit record): the
// difference is what the gateway adds; gateway-noaudit shows how much of it
// is the audit trail's fsync'd write. BenchmarkLargeResult streams results through the gateway and reports
// the peak Go heap seen while it does.

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/bench"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

const smallSelect = `SELECT id, city, country FROM customers WHERE id = 42`

func BenchmarkSmallSelect(b *testing.B) {
	st := startStack(b, "", proxy.Config{}) // the default policy library
	noAudit, err := devstack.Start(context.Background(), devstack.Options{NoAudit: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(noAudit.Close)
	host, port, _ := net.SplitHostPort(st.StandinAddr)
	direct, err := sf.ParseDSN(fmt.Sprintf("ADMIN:snowgate-dev@%s:%s/DEMO/PUBLIC?account=standin&protocol=http", host, port))
	if err != nil {
		b.Fatal(err)
	}
	dbs := map[string]*sql.DB{
		"direct":          sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *direct)),
		"gateway":         openDB(b, st, "analyst"),
		"gateway-noaudit": openDB(b, noAudit, "analyst"),
	}
	for _, name := range []string{"direct", "gateway-noaudit", "gateway"} {
		db := dbs[name]
		db.SetMaxIdleConns(64)
		var city string
		if err := db.QueryRow(smallSelect).Scan(new(int), &city, new(string)); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		b.Run(name+"/serial", func(b *testing.B) {
			for b.Loop() {
				if err := db.QueryRow(smallSelect).Scan(new(int), &city, new(string)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var c string
				for pb.Next() {
					if err := db.QueryRow(smallSelect).Scan(new(int), &c, new(string)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stmts/s")
		})
	}
}

func BenchmarkLargeResult(b *testing.B) {
	// 2 MiB chunks, so that both sizes reach the steady state of spooling.
	st := startStack(b, allowAll, proxy.Config{ChunkBytes: 2 << 20})
	tok, _ := st.Issuer.Token("analyst")
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			c := &rawClient{t: &testing.T{}, base: "http://" + st.GatewayAddr}
			c.login(tok)
			q := fmt.Sprintf(`SELECT range AS id, 'customer-' || range::VARCHAR AS name, range * 1.5 AS score, DATE '2024-01-01' + (range %% 365)::INT AS day FROM range(%d)`, rows)
			var bytes int64
			runtime.GC()
			peak := sampleHeap()
			for b.Loop() {
				n, total := fetchAll(b, c, q)
				if total != int64(rows) {
					b.Fatalf("got %d rows, want %d", total, rows)
				}
				bytes += n
			}
			b.ReportMetric(float64(peak()>>20), "peak-heap-MiB")
			b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MiB/op")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// fetchAll runs a query with raw HTTP and downloads every chunk, as a
// driver would, discarding the rows (bench.FetchAll). It returns bytes read
// and the row total.
func fetchAll(b *testing.B, c *rawClient, q string) (int64, int64) {
	n, total, err := bench.FetchAll(context.Background(), http.DefaultClient,
		c.base+"/queries/v1/query-request?requestId="+fmt.Sprint(time.Now().UnixNano()), c.token, q)
	if err != nil {
		b.Fatal(err)
	}
	return n, total
}

// sampleHeap samples the live Go heap every few milliseconds until the
// returned function is called, which returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// BenchmarkMaskedResult streams a wide result with four masked columns
// (email_domain, partial, redact, hash) through the gateway and reports
// throughput and the peak Go heap.
func BenchmarkMaskedResult(b *testing.B) {
	st := startStack(b, "testdata/mask-wide", proxy.Config{ChunkBytes: 2 << 20})
	tok, _ := st.Issuer.Token("analyst")
	c := &rawClient{t: &testing.T{}, base: "http://" + st.GatewayAddr}
	c.login(tok)
	create := map[string]any{"sqlText": bench.CreateWide("wide", 1_000_000)}
	if r := c.post("/queries/v1/query-request?requestId=create-wide", create); !r.Success {
		b.Fatalf("create wide: %s", deref(r.Message))
	}
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			q := fmt.Sprintf(`SELECT %s FROM wide WHERE id < %d`, bench.WideColumns, rows)
			var bytes int64
			runtime.GC()
			peak := sampleHeap()
			for b.Loop() {
				n, total := fetchAll(b, c, q)
				if total != int64(rows) {
					b.Fatalf("got %d rows, want %d", total, rows)
				}
				bytes += n
			}
			b.ReportMetric(float64(peak()>>20), "peak-heap-MiB")
			b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/(1<<20), "MB/s")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
