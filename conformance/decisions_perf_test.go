package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// TestDecisionLatency measures decision latency on the conformance
// statements: the engine embedded, and, when an `opa` binary is on PATH (or
// in $OPA), the same policy and inputs through `opa run --server` over
// loopback, as a user would deploy OPA instead. It runs only with
// SNOWGATE_PERF=1:
//
//	SNOWGATE_PERF=1 go test ./conformance -run TestDecisionLatency -v
func TestDecisionLatency(t *testing.T) {
	if os.Getenv("SNOWGATE_PERF") == "" {
		t.Skip("set SNOWGATE_PERF=1 to measure")
	}
	ctx := context.Background()
	cases, err := LoadDecisionCases("decisions")
	if err != nil {
		t.Fatal(err)
	}
	var ins []engine.Input
	for _, c := range cases {
		if in, err := caseInput(ctx, c); err == nil {
			ins = append(ins, in)
		}
	}
	// Evaluated: every decision runs the policy (the memo off); remembered:
	// the engine's memo answers the rounds after the first.
	const rounds = 20
	type result struct {
		name string
		lat  latency
		cpu  time.Duration
	}
	var embedded []result
	for _, e := range []struct {
		name string
		size int
	}{{"evaluated", -1}, {"remembered", 0}} {
		eng, err := engine.New(ctx, engine.Options{MemoSize: e.size})
		if err != nil {
			t.Fatal(err)
		}
		cpu0 := selfCPU()
		lat := measure(rounds, ins, func(in engine.Input) string { return string(eng.Decide(ctx, in).Action) })
		cpu := (selfCPU() - cpu0) / time.Duration(rounds*len(ins)+len(ins))
		embedded = append(embedded, result{e.name, lat, cpu})
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		for _, in := range ins {
			eng.Decide(ctx, in)
		}
		runtime.ReadMemStats(&ms)
		allocs := float64(ms.Mallocs-before) / float64(len(ins))
		t.Logf("embedded, %s: %d statements x %d rounds: p50 %s  p99 %s  mean %s  cpu %s/decision  %.0f allocs/decision",
			e.name, len(ins), rounds, lat.p50, lat.p99, lat.mean, cpu, allocs)
	}

	opa := os.Getenv("OPA")
	if opa == "" {
		opa, _ = exec.LookPath("opa")
	}
	if opa == "" {
		t.Log("no opa binary on PATH or in $OPA: skipping the server comparison")
		return
	}
	url, pid, stop := startOPAServer(t, opa)
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	cpu0, srv0 := selfCPU(), procCPU(pid)
	server := measure(rounds, ins, func(in engine.Input) string {
		body, _ := json.Marshal(map[string]any{"input": in})
		resp, err := client.Post(url+"/v1/data/snowgate/decision", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Result struct {
				Action string `json:"action"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Result.Action
	})
	n := time.Duration(rounds*len(ins) + len(ins))
	clientCPU, serverCPU := (selfCPU()-cpu0)/n, (procCPU(pid)-srv0)/n
	t.Logf("opa run --server: p50 %s  p99 %s  mean %s  cpu %s/decision (client %s + server %s)",
		server.p50, server.p99, server.mean, clientCPU+serverCPU, clientCPU, serverCPU)
	for _, e := range embedded {
		t.Logf("server / embedded, %s: cpu per decision %.1fx, p50 %.1fx, p99 %.1fx", e.name,
			float64(clientCPU+serverCPU)/float64(e.cpu), float64(server.p50)/float64(e.lat.p50), float64(server.p99)/float64(e.lat.p99))
		if e.lat.actions != server.actions {
			t.Errorf("embedded (%s) and server decisions differ", e.name)
		}
	}
}

type latency struct {
	p50, p99, mean time.Duration
	actions        string // the decisions, to compare two runs
}

func measure(rounds int, ins []engine.Input, decide func(engine.Input) string) latency {
	var ds []time.Duration
	var total time.Duration
	var actions bytes.Buffer
	for i := range ins { // warm up, and record the decisions
		fmt.Fprintln(&actions, decide(ins[i]))
	}
	for range rounds {
		for _, in := range ins {
			start := time.Now()
			decide(in)
			d := time.Since(start)
			ds = append(ds, d)
			total += d
		}
	}
	slices.Sort(ds)
	return latency{p50: ds[len(ds)/2], p99: ds[len(ds)*99/100], mean: total / time.Duration(len(ds)), actions: actions.String()}
}

// startOPAServer runs `opa run --server` on the default library, on a free
// loopback port, and waits until it is healthy.
func startOPAServer(t *testing.T, opa string) (string, int, func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	lib, _ := filepath.Abs("../rego")
	cmd := exec.Command(opa, "run", "--server", "--addr", addr, "--log-level", "error", "--ignore", "*_test.go", "--ignore", "*.go", lib)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i > 100 {
			cmd.Process.Kill()
			t.Fatalf("opa server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url, cmd.Process.Pid, func() { cmd.Process.Kill(); cmd.Wait() }
}

// selfCPU is the CPU time (user + system) this process has used. Under a
// loaded machine it measures the work of a decision better than the wall
// clock does.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the CPU time another process has used, from /proc (Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// The command name may hold spaces; fields count from after its ')'.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}
