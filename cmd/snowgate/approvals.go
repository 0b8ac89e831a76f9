package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	commands["approvals"] = command{summary: "list, approve or reject held statements", run: runApprovals}
}

func runApprovals(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stderr, "usage: snowgate approvals list|approve|reject [flags]\n\nRun 'snowgate approvals VERB --help' for a verb's flags.")
		return nil
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "approve" && args[0] != "reject") {
		return fmt.Errorf("usage: snowgate approvals list|approve|reject [flags]")
	}
	verb := args[0]
	synopsis := "approvals " + verb + " [--addr HOST:PORT] [--token TOKEN | --as NAME]"
	if verb != "list" {
		synopsis = "approvals " + verb + " ID [--reason TEXT] [--addr HOST:PORT] [--token TOKEN | --as NAME]"
	}
	fs := newFlags("approvals "+verb, synopsis, stderr)
	addr := fs.String("addr", defaultAdminAddr, "the gateway's admin address")
	token := fs.String("token", os.Getenv("SNOWGATE_TOKEN"), "your OIDC token (default $SNOWGATE_TOKEN)")
	as := fs.String("as", "", "in snowgate dev: act as this demo identity")
	reason := fs.String("reason", "", "why you approve or reject")
	state := fs.String("state", "pending", "list: states to show, comma-separated")
	output := fs.String("output", "text", "text or json")
	// Allow the ID before the flags: approvals approve ID --reason x.
	rest := args[1:]
	var id string
	if verb != "list" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if verb != "list" && id == "" {
		if id = fs.Arg(0); id == "" {
			return fmt.Errorf("%s needs the approval request's ID", verb)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if *as != "" {
		t, err := devToken(ctx, *addr, *as)
		if err != nil {
			return err
		}
		*token = t
	}
	if *token == "" {
		return fmt.Errorf("no token: pass --token, set SNOWGATE_TOKEN, or --as NAME under snowgate dev")
	}
	method, path, body := "GET", "/api/v1/approvals?state="+*state, []byte(nil)
	if verb != "list" {
		method, path = "POST", "/api/v1/approvals/"+id+"/"+verb
		body, _ = json.Marshal(map[string]string{"reason": *reason})
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+*addr+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", *addr, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	if *output == "json" {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	if verb != "list" {
		var r struct{ ID, State string }
		_ = json.Unmarshal(raw, &r)
		fmt.Fprintf(stdout, "%s is now %s\n", r.ID, r.State)
		return nil
	}
	var list struct {
		Approvals []struct {
			ID, State, SQL, Why string
			Requester           struct{ Subject, Email, Agent string }
			ExpiresAt           time.Time `json:"expires_at"`
		}
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("admin API answered with unexpected JSON: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tREQUESTER\tAGENT\tEXPIRES\tWHY\tSQL")
	for _, a := range list.Approvals {
		sql := strings.Join(strings.Fields(a.SQL), " ")
		if len(sql) > 60 {
			sql = sql[:57] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.State, orDefault(a.Requester.Email, a.Requester.Subject),
			orDefault(a.Requester.Agent, "-"), a.ExpiresAt.Local().Format(time.DateTime), a.Why, sql)
	}
	return tw.Flush()
}
