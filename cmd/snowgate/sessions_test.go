package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIdleSessions holds SNOWGATE_SESSIONS (10,000) idle sessions on
// the real `snowgate serve` process and reports what each costs it: Go
// heap in use and resident memory (both read from the process after a
// settle), and goroutines. Each session holds an upstream session (here in
// a separate `snowgate dev` stand-in, whose memory is not counted). The
// logins are raw login-requests from 16 workers; the sessions are measured
// after 100 s at rest, and the figures 3 s after the logins are logged too.
//
//	go test -run '^$' -bench IdleSessions -benchtime 1x ./cmd/snowgate/
func BenchmarkIdleSessions(b *testing.B) {
	n := 10000
	if v := os.Getenv("SNOWGATE_SESSIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SNOWGATE_SESSIONS=%q: want a positive number", v)
		}
	}
	sv := startServeWith(b, serveOptions{})
	out, err := snowgate(b, "token", "--as", "analyst", "--addr", sv.admin)
	if err != nil {
		b.Fatal(out)
	}
	tok := strings.TrimSpace(out)
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	login := func() error {
		body, _ := json.Marshal(map[string]any{"data": map[string]any{"AUTHENTICATOR": "OAUTH", "TOKEN": tok, "CLIENT_APP_ID": "bench", "ACCOUNT_NAME": "snowgate"}})
		resp, err := client.Post("http://"+sv.gateway+"/session/v1/login-request", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r struct {
			Success bool   `json:"success"`
			Message string `json:"message"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return err
		}
		if !r.Success {
			return fmt.Errorf("login refused: %s", r.Message)
		}
		return nil
	}
	if err := login(); err != nil { // warm: the first login loads what every later one shares
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	before := processGauges(b, sv)

	b.ResetTimer()
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		start := time.Now()
		for range 16 {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if err := login(); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "logins/s")
	}
	b.StopTimer()
	time.Sleep(3 * time.Second)
	fresh := processGauges(b, sv)
	// An idle session's upstream HTTP connection closes after the
	// transport's idle timeout (90 s): then the session is at rest.
	time.Sleep(idleFor)
	idle := processGauges(b, sv)
	per := func(g map[string]float64, k string) float64 { return (g[k] - before[k]) / float64(n) }
	b.ReportMetric(float64(n), "sessions")
	b.ReportMetric(per(idle, "heap"), "heap-B/session")
	b.ReportMetric(per(idle, "rss"), "rss-B/session")
	b.ReportMetric(per(idle, "goroutines"), "goroutines/session")
	for _, g := range []struct {
		when string
		m    map[string]float64
	}{{"3 s after the logins", fresh}, {idleFor.String() + " later, idle", idle}} {
		b.Logf("%d sessions, %s: heap in use %.0f → %.0f MiB (%.0f B a session), resident %.0f → %.0f MiB (%.0f B), goroutines %.0f → %.0f (%.2f)",
			n, g.when, before["heap"]/(1<<20), g.m["heap"]/(1<<20), per(g.m, "heap"), before["rss"]/(1<<20), g.m["rss"]/(1<<20), per(g.m, "rss"),
			before["goroutines"], g.m["goroutines"], per(g.m, "goroutines"))
	}
}

// idleFor is how long the sessions rest before they are measured: past the
// upstream transport's 90 s idle timeout.
const idleFor = 100 * time.Second

// processGauges reads the served gateway's heap in use and goroutines from
// its /metrics, and its resident memory from /proc.
func processGauges(b *testing.B, sv *served) map[string]float64 {
	b.Helper()
	g := map[string]float64{}
	resp, err := http.Get("http://" + sv.adminAPI + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_memstats_heap_inuse_bytes":
			g["heap"] = v
		case "go_goroutines":
			g["goroutines"] = v
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", sv.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			g["rss"] = kb * 1024
		}
	}
	if g["heap"] == 0 || g["rss"] == 0 {
		b.Fatalf("no heap or resident memory read: %v", g)
	}
	return g
}
