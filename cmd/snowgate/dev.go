package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/devstack"
)

func init() {
	commands["dev"] = command{
		summary: "run the whole stack locally: stand-in, dev issuer, gateway",
		run:     runDev,
	}
}

// Default addresses of `snowgate dev`.
const (
	defaultAddr        = "127.0.0.1:8765"
	defaultAdminAddr   = "127.0.0.1:8766"
	defaultStandinAddr = "127.0.0.1:8767"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "dev [--addr HOST:PORT] [--admin-addr HOST:PORT] [--standin-addr HOST:PORT] [--data-dir DIR]", stderr)
	var o devstack.Options
	fs.StringVar(&o.Addr, "addr", defaultAddr, "where the gateway listens for Snowflake clients")
	fs.StringVar(&o.AdminAddr, "admin-addr", defaultAdminAddr, "where the dev issuer and the admin page listen")
	fs.StringVar(&o.StandinAddr, "standin-addr", defaultStandinAddr, "where the stand-in itself listens (password and key-pair logins, for Vault and chained gateways)")
	fs.StringVar(&o.DataDir, "data-dir", "", "keep the stand-in's data and the issuer's key here (default: in memory)")
	fs.StringVar(&o.StandinPassword, "standin-password", "snowgate-dev", "password of the stand-in's ADMIN user")
	fs.StringVar(&o.PolicyDir, "policy", "", "policy directory (default: the embedded rego/ library)")
	fs.StringVar(&o.ApprovalMode, "approval-mode", "hold", "how clients wait for approvals: hold (the request waits) or ticket (error now, retry after approval)")
	fs.StringVar(&o.WebhookURL, "webhook", "", "Slack-compatible webhook URL told about new approval requests")
	fs.DurationVar(&o.Gateway.TokenTTL, "session-token-ttl", proxy.DefaultTokenTTL, "validity of gateway session tokens")
	fs.DurationVar(&o.Gateway.PingPong, "ping-pong", proxy.DefaultPingPong, "how long a request waits for a statement before answering 'in progress'")
	mcpAddr := fs.String("mcp-addr", "", "where the MCP front door listens, streamable HTTP (default "+defaultMCPAddr+" if free; \"off\" for none)")
	verbose := fs.Bool("v", false, "log every session and statement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if os.Getenv("SNOWGATE_DEBUG") != "" {
		level = slog.LevelDebug
	}
	if *verbose {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	st, err := devstack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	mcpURL := "off"
	if *mcpAddr != "off" {
		var stop func()
		if mcpURL, stop, err = serveDevMCP(ctx, st, *mcpAddr, o.Logger); err != nil {
			return err
		}
		defer stop()
	}
	printDevBanner(stdout, st.GatewayAddr, st.AdminAddr, st.StandinAddr, o.StandinPassword, mcpURL)
	return st.Wait(ctx)
}

func printDevBanner(w io.Writer, gw, admin, standinAddr, standinPassword, mcpURL string) {
	host, port, _ := net.SplitHostPort(gw)
	fmt.Fprintf(w, `snowgate dev is running.

  gateway (Snowflake protocol)  http://%[1]s
  approvals page, API, dev issuer  http://%[2]s
  stand-in (DuckDB, no policy)  http://%[3]s   user ADMIN, password %[6]s
  MCP (streamable HTTP)  %[7]s   Authorization: Bearer $TOKEN

Get a token for a demo identity (analyst, agent, approver, admin, engineer):

  TOKEN=$(snowgate token --as agent --addr %[2]s)

Connect with the driver you already use:

  gosnowflake  %[4]s:%[5]s/DEMO/PUBLIC?account=snowgate&protocol=http&authenticator=oauth&token=$TOKEN
  Python       snowflake.connector.connect(account="snowgate", host="%[4]s", port=%[5]s, protocol="http",
                   authenticator="oauth", token=TOKEN, database="DEMO", schema="PUBLIC")
  Node         snowflake.createConnection({account: "snowgate", accessUrl: "http://%[1]s",
                   authenticator: "OAUTH", token: TOKEN, database: "DEMO", schema: "PUBLIC"})
  JDBC         jdbc:snowflake://%[1]s/?ssl=off&account=snowgate&authenticator=oauth&token=$TOKEN&db=DEMO&schema=PUBLIC

Try: SELECT name, email, ssn FROM customers LIMIT 5;   DELETE FROM orders;   GRANT ROLE sysadmin TO USER mallory;

Press Ctrl-C to stop.
`, gw, admin, standinAddr, host, port, standinPassword, mcpURL)
}
