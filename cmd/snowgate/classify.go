package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

func init() {
	commands["classify"] = command{summary: "list, show or forget the classifications copies of classified columns inherited", run: runClassify}
}

const classifyUsage = `usage: snowgate classify list|show|forget [flags]

  list                     the inherited classifications in force (--all: forgotten ones too)
  show DB.SCHEMA.TABLE[.COLUMN]
                           what a table or column inherited, with every record behind it
  forget DB.SCHEMA.TABLE[.COLUMN] --reason TEXT
                           forget what it inherited (data stewards and platform admins; audited)

A write that copies classified columns (CREATE TABLE AS, CREATE VIEW,
INSERT ... SELECT, MERGE, CLONE, RENAME, ...) makes its target inherit their
classification, so that reading the copy is masked like the original.
Unquoted names are upper-cased; quote a name to keep its case.

Run 'snowgate classify VERB --help' for a verb's flags.`

// classifyRecord is a record as the admin API returns it.
type classifyRecord struct {
	ID     string
	Target struct{ Database, Schema, Table, Name string }
	Class  string
	Strategy,
	Transform string
	From   []string
	Origin struct {
		AuditID   string `json:"audit_id"`
		QueryID   string `json:"query_id"`
		SessionID string `json:"session_id"`
		By        struct{ Subject, Email, Agent string }
		Kind      string
		At        time.Time
	}
	Forgotten *struct {
		By     struct{ Subject, Email string }
		Reason string
		At     time.Time
	}
}

func (r classifyRecord) column() string {
	t := r.Target
	return t.Database + "." + t.Schema + "." + t.Table + "." + t.Name
}

func runClassify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stderr, classifyUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "show" && args[0] != "forget") {
		return fmt.Errorf("usage: snowgate classify list|show|forget [flags]")
	}
	verb := args[0]
	synopsis := map[string]string{
		"list":   "classify list [--all] [--addr HOST:PORT] [--token TOKEN | --as NAME] [--output json]",
		"show":   "classify show DB.SCHEMA.TABLE[.COLUMN] [--addr HOST:PORT] [--token TOKEN | --as NAME] [--output json]",
		"forget": "classify forget DB.SCHEMA.TABLE[.COLUMN] --reason TEXT [--addr HOST:PORT] [--token TOKEN | --as NAME] [--output json]",
	}[verb]
	fs := newFlags("classify "+verb, synopsis, stderr)
	addr := fs.String("addr", defaultAdminAddr, "the gateway's admin address")
	token := fs.String("token", os.Getenv("SNOWGATE_TOKEN"), "your OIDC token (default $SNOWGATE_TOKEN)")
	as := fs.String("as", "", "in snowgate dev: act as this demo identity")
	all := fs.Bool("all", false, "list: forgotten classifications too")
	reason := fs.String("reason", "", "forget: why (kept in the audit trail)")
	output := fs.String("output", "text", "text or json")
	rest := args[1:]
	var target string
	if verb != "list" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		target, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if verb != "list" && target == "" {
		if target = fs.Arg(0); target == "" {
			return fmt.Errorf("%s needs a table or column: DB.SCHEMA.TABLE[.COLUMN]", verb)
		}
	}
	if verb == "forget" && strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("forget needs --reason: it is kept in the audit trail")
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("--output %q: want text or json", *output)
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
	method, path, body := "GET", "/api/v1/classifications", []byte(nil)
	switch verb {
	case "list":
		if *all {
			path += "?all=true"
		}
	case "show":
		path += "/" + url.PathEscape(target)
	case "forget":
		method, path = "POST", "/api/v1/classifications/"+url.PathEscape(target)+"/forget"
		body, _ = json.Marshal(map[string]string{"reason": *reason})
	}
	raw, err := adminRequest(ctx, *addr, *token, method, path, body)
	if err != nil {
		return err
	}
	if *output == "json" {
		_, err := stdout.Write(append(raw, '\n'))
		return err
	}
	switch verb {
	case "list":
		var list struct{ Classifications []classifyRecord }
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("admin API answered with unexpected JSON: %w", err)
		}
		return printRecords(stdout, list.Classifications, *all)
	case "show":
		var show struct {
			Target    string
			Effective map[string]struct {
				Class, Strategy string
				DenyIn          []string `json:"deny_in"`
				From            []string
				Record          string
			}
			Records []classifyRecord
		}
		if err := json.Unmarshal(raw, &show); err != nil {
			return fmt.Errorf("admin API answered with unexpected JSON: %w", err)
		}
		fmt.Fprintf(stdout, "%s inherited:\n", show.Target)
		cols := make([]string, 0, len(show.Effective))
		for c := range show.Effective {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  COLUMN\tCLASS\tSTRATEGY\tDENY IN\tFROM\tRECORD")
		for _, c := range cols {
			e := show.Effective[c]
			deny := "(default)"
			if e.DenyIn != nil {
				deny = orDefault(strings.Join(e.DenyIn, ","), "-")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", c, e.Class, e.Strategy, deny, orDefault(strings.Join(e.From, ", "), "(configured)"), orDefault(e.Record, "-"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nrecords:")
		return printRecords(stdout, show.Records, true)
	default:
		var out struct {
			Target    string
			Forgotten []classifyRecord
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("admin API answered with unexpected JSON: %w", err)
		}
		fmt.Fprintf(stdout, "forgot %d inherited classification(s) of %s\n", len(out.Forgotten), out.Target)
		return nil
	}
}

func printRecords(w io.Writer, recs []classifyRecord, forgotten bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "COLUMN\tCLASS\tSTRATEGY\tFROM\tBY\tSTATEMENT\tAT\tRECORD"
	if forgotten {
		head += "\tFORGOTTEN"
	}
	fmt.Fprintln(tw, head)
	for _, r := range recs {
		by := orDefault(r.Origin.By.Email, r.Origin.By.Subject)
		if r.Origin.By.Agent != "" {
			by += " via " + r.Origin.By.Agent
		}
		stmt := orDefault(r.Origin.Kind, "-")
		if r.Origin.AuditID != "" {
			stmt += " " + r.Origin.AuditID
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", r.column(), r.Class, r.Strategy, strings.Join(r.From, ", "), orDefault(by, "-"),
			stmt, r.Origin.At.Local().Format(time.DateTime), r.ID)
		if forgotten {
			f := "-"
			if r.Forgotten != nil {
				f = fmt.Sprintf("%s by %s", r.Forgotten.At.Local().Format(time.DateTime), orDefault(r.Forgotten.By.Email, r.Forgotten.By.Subject))
				if r.Forgotten.Reason != "" {
					f += ": " + r.Forgotten.Reason
				}
			}
			line += "\t" + f
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// adminRequest calls the admin API with a bearer token and returns the
// body of a 200 answer; any other status is an error with the API's reason.
func adminRequest(ctx context.Context, addr, token, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		return nil, fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return raw, nil
}
