package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// opaExists reports whether path names an executable.
func opaExists(path string) bool {
	if path == "" {
		return false
	}
	_, err := exec.LookPath(path)
	return err == nil
}

// startOPA runs `opa run --server` on policyDir, on a free loopback port,
// and waits until it is healthy.
func startOPA(ctx context.Context, opa, policyDir string) (*opaServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, opa, "run", "--server", "--addr", addr, "--log-level", "error",
		"--ignore", "*_test.rego", "--ignore", "*.go", policyDir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opa, err)
	}
	srv := &opaServer{url: "http://" + addr, http: newHTTPClient(4)}
	srv.stop = func() {
		srv.http.close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	if err := srv.waitHealthy(ctx, 20*time.Second); err != nil {
		srv.stop()
		return nil, fmt.Errorf("opa server on %s: %w; its output: %s", policyDir, err, strings.TrimSpace(out.String()))
	}
	return srv, nil
}

func (s *opaServer) waitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		err := s.http.get(ctx, s.url+"/health")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// httpClient is a keep-alive HTTP client for JSON requests.
type httpClient struct{ c *http.Client }

func newHTTPClient(conns int) *httpClient {
	return &httpClient{c: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}}
}

func (h *httpClient) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

func (h *httpClient) postJSON(url string, body io.Reader, into any) error {
	resp, err := h.c.Post(url, "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	return nil
}

func (h *httpClient) close() { h.c.CloseIdleConnections() }
