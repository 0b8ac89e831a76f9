package audit

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecord measures durable appends per store: serial (one caller,
// so ns/op is the latency Record adds to a statement, with p50/p99) and
// parallel (64 callers sharing commits). Run:
//
//	SNOWGATE_PG_BIN=/usr/lib/postgresql/15/bin go test -run '^$' -bench Record -benchtime 2000x ./proxy/audit/
func BenchmarkRecord(b *testing.B) {
	for _, k := range storeKinds {
		b.Run(k.name+"/serial", func(b *testing.B) {
			l := openLog(b, k.dsn(b), "bench", DefaultCheckpointEvery)
			defer l.Close()
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := l.Record(ctx, statementEvent("bench", i)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			report(b, lat)
		})
		b.Run(k.name+"/parallel", func(b *testing.B) {
			l := openLog(b, k.dsn(b), "bench", DefaultCheckpointEvery)
			defer l.Close()
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(32) // 64 callers on 2 cores, like a busy gateway
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := l.Record(ctx, statementEvent("bench", int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkVerify measures how fast a stored chain is checked: b.N
// records are written, then verified once, so ns/op is per record.
func BenchmarkVerify(b *testing.B) {
	for _, k := range storeKinds {
		b.Run(k.name, func(b *testing.B) {
			dsn := k.dsn(b)
			l := openLog(b, dsn, "v", DefaultCheckpointEvery)
			recordMany(b, l, b.N)
			l.Close()
			s := openStore(b, dsn)
			b.ResetTimer()
			if rep := verify(b, s, VerifyOptions{PublicKeys: testPublicKeys()}); !rep.OK() || rep.Replicas[0].Records != int64(b.N) {
				b.Fatalf("%+v\n%s", rep.Replicas, problems(rep))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// recordMany records n events from 32 goroutines.
func recordMany(b *testing.B, l *Log, n int) {
	work := make(chan int)
	errs := make(chan error, 32)
	for range 32 {
		go func() {
			for i := range work {
				if _, err := l.Record(context.Background(), statementEvent("v", i)); err != nil {
					errs <- fmt.Errorf("record %d: %w", i, err)
					for range work { // let the sender finish
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	for range 32 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
