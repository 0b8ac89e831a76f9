package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/rowset"
)

// TestMaskFunc: each strategy's text of a cell, and of NULL, against its
// definition; hash is HMAC-SHA256 under the deployment's key, its first 16
// bytes in hex, computed here with crypto/hmac on its own for each cell, so
// that state carried from one cell to the next, or a cell not read whole,
// shows.
func TestMaskFunc(t *testing.T) {
	key := []byte("deployment key")
	mac := func(s string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
	cells := []string{"ACCT-1000001", "", "ACCT-1000002", "Zoë Ørsted ☃", "ACCT-1000001", "user7@example.com"}
	for _, c := range []struct {
		strategy string
		want     func(string) string
	}{
		{engine.MaskHash, mac},
		{engine.MaskRedact, func(string) string { return redacted }},
		{engine.MaskEmailDomain, func(s string) string {
			if s == "user7@example.com" {
				return "****@example.com"
			}
			return redacted
		}},
		{engine.MaskPartial, func(s string) string {
			r := []rune(s)
			if len(r) <= 4 {
				return string([]rune("****")[:len(r)])
			}
			return string([]rune(strings.Repeat("*", len(r)-4))) + string(r[len(r)-4:])
		}},
	} {
		m := maskFunc(c.strategy, key)
		var dst []byte
		for _, cell := range cells {
			out, ok := m(dst[:0], cell, true)
			if !ok || string(out) != c.want(cell) {
				t.Errorf("%s of %q = %q, %v; want %q", c.strategy, cell, out, ok, c.want(cell))
			}
			dst = out
		}
		if out, ok := m(nil, "", false); !ok || string(out) != redacted {
			t.Errorf("%s of NULL = %q, %v; want %q", c.strategy, out, ok, redacted)
		}
	}
	if _, ok := maskFunc(engine.MaskNull, key)(nil, "x", true); ok {
		t.Error("null of a value is not NULL")
	}
}

// BenchmarkMaskColumns measures the masking itself: the four masked
// columns of the wide table (bench.CreateWide: email_domain, partial,
// redact and hash), 2,048-row record batches, as the gateway masks a
// batch before it encodes it, on one goroutine. SetBytes is the masked
// columns' text in, so MB/s is per core. The `masking` row of `snowgate
// bench` is the whole path: DuckDB, the masks, the encoding, the spool,
// the HTTP client, on shared cores.
//
//	go test ./proxy -run '^$' -bench MaskColumns -benchmem
func BenchmarkMaskColumns(b *testing.B) {
	const rows = 2048
	texts := map[string]func(int) string{
		"EMAIL":   func(i int) string { return fmt.Sprintf("user%d@example.com", i) },
		"PHONE":   func(i int) string { return fmt.Sprintf("+1-555-%04d", i%10000) },
		"SSN":     func(i int) string { return fmt.Sprintf("%03d-12-3456", i%900+100) },
		"ACCOUNT": func(i int) string { return fmt.Sprintf("ACCT-%d", i) },
	}
	strategies := map[string]string{"EMAIL": engine.MaskEmailDomain, "PHONE": engine.MaskPartial, "SSN": engine.MaskRedact, "ACCOUNT": engine.MaskHash}
	order := []string{"EMAIL", "PHONE", "SSN", "ACCOUNT"}
	cols := make([]arrow.Array, len(order))
	for c, name := range order {
		sb := array.NewStringBuilder(memory.DefaultAllocator)
		for i := range rows {
			s := texts[name](1_000_000 + i)
			sb.Append(s)
		}
		cols[c] = sb.NewArray()
		sb.Release()
		defer cols[c].Release()
	}
	for _, name := range append([]string{"all"}, order...) {
		b.Run(name, func(b *testing.B) {
			plan := make([]maskFn, len(order))
			var bytes int64
			for c, col := range order {
				if name == "all" || name == col {
					plan[c] = maskFunc(strategies[col], []byte("key"))
					bytes += int64(len(cols[c].(*array.String).ValueBytes()))
				}
			}
			b.SetBytes(bytes)
			b.ReportAllocs()
			for b.Loop() {
				for c, m := range plan {
					if m == nil {
						continue
					}
					out, err := maskColumn(m, rowset.Field{Name: order[c], Type: "text"}, cols[c])
					if err != nil {
						b.Fatal(err)
					}
					out.Release()
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
