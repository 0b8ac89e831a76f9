package snowflake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// pingClient sends Ping's requests: no redirects followed, connections
// kept for the next probe.
var pingClient = &http.Client{
	Transport:     http.DefaultTransport.(*http.Transport).Clone(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second, // ctx usually ends first
}

// Ping is the gateway's readiness probe of the account: one GET of the
// account's front page, without a login or credentials. Any HTTP answer
// shows the account reachable (DNS, TCP, TLS), except 502, 503 and 504,
// which say that something in front of it cannot serve.
func (u *Upstream) Ping(ctx context.Context) error {
	url := u.baseURL() + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("snowflake: ping %s: %w", url, err)
	}
	resp, err := pingClient.Do(req)
	if err != nil {
		return fmt.Errorf("snowflake: ping: %w", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return fmt.Errorf("snowflake: ping %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// baseURL is where gosnowflake sends the account's requests.
func (u *Upstream) baseURL() string {
	host, port, protocol := u.Host, u.Port, u.Protocol
	if host == "" {
		host = u.Account + ".snowflakecomputing.com"
	}
	if protocol == "" {
		protocol = "https"
	}
	if port == 0 {
		port = 443 // gosnowflake's default, whatever the protocol
	}
	return protocol + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

var _ interface{ Ping(context.Context) error } = (*Upstream)(nil)
