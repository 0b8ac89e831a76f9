package vault_test

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// faultProxy sits between the gateway and Vault and can make Vault look
// down (connections dropped) or slow (connections held, never answered).
type faultProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  string // "pass", "drop", "hang"
	conns map[net.Conn]struct{}
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: strings.TrimPrefix(target, "http://"), mode: "pass", conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.set("drop") })
	return p
}

func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// set switches the mode; leaving "pass" cuts the connections in flight, as
// Vault going away would.
func (p *faultProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode != "pass" {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

func (p *faultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != "drop" {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		switch mode {
		case "drop":
			c.Close()
		case "hang":
			// Held open, never answered, until the mode changes.
		default:
			go p.pipe(c)
		}
	}
}

func (p *faultProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}
