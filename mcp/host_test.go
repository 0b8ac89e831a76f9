package mcp_test

// The test harness: the dev stack in process, the HTTP front door in
// process, `snowgate mcp` built once for stdio, and the Python MCP SDK as
// the host (testdata/host.py), driven one JSON line at a time.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/snowgate/snowgate/mcp"
	"github.com/snowgate/snowgate/proxy/devidp"
	"github.com/snowgate/snowgate/proxy/devstack"
	"github.com/snowgate/snowgate/proxy/identity"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	_ = sf.GetLogger().SetLogLevel("fatal")
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// startStack starts `snowgate dev`'s stack with the default library, as
// `snowgate dev` does (approval mode hold: the policy gives agents tickets).
func startStack(t *testing.T) *devstack.Stack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Options{PolicyDir: ""})
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// startHTTP serves the front door over streamable HTTP in process and
// returns its base URL.
func startHTTP(t *testing.T, st *devstack.Stack, database, schema string) string {
	t.Helper()
	srv, err := mcp.New(mcp.Config{Gateway: "http://" + st.GatewayAddr, Admin: "http://" + st.AdminAddr, Database: database, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + st.AdminAddr
	v, err := identity.New([]identity.Issuer{{URL: issuer, Audience: devidp.Audience}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	h, err := srv.Handler(mcp.HTTPConfig{Verifier: v, Issuers: []string{issuer}, PublicURL: base})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return base
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// snowgateBinary builds cmd/snowgate once for the stdio tests.
func snowgateBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "snowgate-mcp-test"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "snowgate")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", binPath, "github.com/snowgate/snowgate/cmd/snowgate").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/snowgate: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// host is the Python MCP SDK acting as the host.
type host struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *bytes.Buffer
}

func startHost(t *testing.T) *host {
	t.Helper()
	py := os.Getenv("SNOWGATE_MCP_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_MCP_PYTHON is not set: it names a Python with the mcp package, the host these tests drive " +
			"(make deps installs it as .cache/mcp/bin/python and make test passes it)")
	}
	cmd := exec.Command(py, "testdata/host.py")
	h := &host{t: t, cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = h.stderr
	var err error
	if h.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.out = bufio.NewScanner(stdout)
	h.out.Buffer(make([]byte, 1<<20), 64<<20)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the Python host (%s): %v", py, err)
	}
	t.Cleanup(func() {
		h.in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() && h.stderr.Len() > 0 {
			t.Logf("host stderr:\n%s", tail(h.stderr.String(), 4000))
		}
	})
	return h
}

// do sends one command and decodes its answer into out.
func (h *host) do(req map[string]any, out any) {
	h.t.Helper()
	b, _ := json.Marshal(req)
	if _, err := h.in.Write(append(b, '\n')); err != nil {
		h.t.Fatalf("host: %v\n%s", err, tail(h.stderr.String(), 4000))
	}
	if !h.out.Scan() {
		h.t.Fatalf("host ended (%v)\n%s", h.out.Err(), tail(h.stderr.String(), 4000))
	}
	if err := json.Unmarshal(h.out.Bytes(), out); err != nil {
		h.t.Fatalf("host answered %q: %v", h.out.Text(), err)
	}
}

// result is one tool call's result as the host saw it.
type result struct {
	IsError    bool            `json:"is_error"`
	Text       string          `json:"text"`
	Structured json.RawMessage `json:"structured"`
	Error      string          `json:"error"` // the call itself failed
}

func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Structured, v); err != nil {
		t.Fatalf("structured content %s: %v (text %q)", r.Structured, err, r.Text)
	}
}

func (h *host) call(session, tool string, args map[string]any) result {
	h.t.Helper()
	var r result
	h.do(map[string]any{"op": "call", "session": session, "tool": tool, "args": args}, &r)
	if r.Error != "" {
		h.t.Fatalf("%s %s: %s", session, tool, r.Error)
	}
	return r
}

func (h *host) batch(session string, calls []map[string]any) []result {
	h.t.Helper()
	var rs []result
	h.do(map[string]any{"op": "batch", "session": session, "calls": calls}, &rs)
	if len(rs) != len(calls) {
		h.t.Fatalf("%s: %d answers to %d calls", session, len(rs), len(calls))
	}
	return rs
}

func (h *host) close(session string) {
	h.t.Helper()
	var out map[string]any
	h.do(map[string]any{"op": "close", "session": session}, &out)
}

// frontDoor connects host sessions to the front door over one transport.
type frontDoor struct {
	name    string
	st      *devstack.Stack
	connect func(h *host, session, token string) map[string]any
	// in returns the front door that names database and schema at login.
	in func(database, schema string) frontDoor
}

func (f frontDoor) open(t *testing.T, h *host, session, as string) {
	t.Helper()
	tok, err := f.st.Issuer.Token(as)
	if err != nil {
		t.Fatal(err)
	}
	out := f.connect(h, session, tok)
	if e, ok := out["error"]; ok {
		t.Fatalf("%s: connect %s as %s: %v", f.name, session, as, e)
	}
	if out["server"] != mcp.ClientApp {
		t.Fatalf("%s: connected to %v, want %s", f.name, out["server"], mcp.ClientApp)
	}
}

// stdioDoor is `snowgate mcp` started by the host's stdio client, one
// process per session, the caller's token in SNOWGATE_TOKEN.
func stdioDoor(t *testing.T, st *devstack.Stack) frontDoor {
	bin := snowgateBinary(t)
	var door func(database, schema string) frontDoor
	door = func(database, schema string) frontDoor {
		args := []string{"mcp", "--gateway", "http://" + st.GatewayAddr, "--admin", "http://" + st.AdminAddr, "--database", database, "--schema", schema}
		return frontDoor{name: "stdio", st: st, in: door, connect: func(h *host, session, token string) map[string]any {
			var out map[string]any
			h.do(map[string]any{"op": "connect", "session": session, "transport": "stdio", "command": bin, "args": args,
				"env": map[string]string{"SNOWGATE_TOKEN": token}}, &out)
			return out
		}}
	}
	return door("", "")
}

// httpDoor is the in-process front door over streamable HTTP, the
// caller's token as bearer token on every request.
func httpDoor(t *testing.T, st *devstack.Stack) (frontDoor, string) {
	bases := map[[2]string]string{}
	var door func(database, schema string) frontDoor
	door = func(database, schema string) frontDoor {
		base, ok := bases[[2]string{database, schema}]
		if !ok {
			base = startHTTP(t, st, database, schema)
			bases[[2]string{database, schema}] = base
		}
		return frontDoor{name: "http", st: st, in: door, connect: func(h *host, session, token string) map[string]any {
			var out map[string]any
			h.do(map[string]any{"op": "connect", "session": session, "transport": "http", "url": base + mcp.EndpointPath, "token": token}, &out)
			return out
		}}
	}
	return door("", ""), bases[[2]string{"", ""}]
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
