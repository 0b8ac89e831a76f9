package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy/audit"
)

func init() {
	commands["audit"] = command{
		summary: "the audit trail: verify (tamper check), show, replay (one session), export, shadow (a candidate policy)",
		run:     runAudit,
	}
}

const auditUsage = `usage: snowgate audit verify|show|replay|export [flags]

  verify  --db DSN [--replica R] [--public-key KEY]... [--require-signed] [--anchors FILE] [--output json]
          checks every chain; exits 1 naming each edited, deleted, inserted,
          reordered or truncated position
  show    --db DSN [--session ID] [--subject SUB] [--since 1h|TIME] [--type T] [--replica R] [--limit N] [--output json]
          lists records
  replay  --db DSN [--replica R] [--output json] SESSION
          one session as a timeline
  export  --db DSN [--session ID] [--subject SUB] [--since 1h|TIME] [--replica R] [--checkpoints] [--out FILE]
          records as JSON lines (id, replica, seq, prev, hash, event); with
          --checkpoints, the signed checkpoints instead, to archive elsewhere
          and pass to verify --anchors

  shadow --bundle NEW [--baseline OLD] [--session ID]
          re-evaluates recorded statements under a candidate policy (a
          directory or a bundle .tar.gz) and the baseline (default: the
          embedded library), and reports every decision that would change

DSN is sqlite:///path/audit.db (or just a path) or postgres://...
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, auditUsage)
		if len(args) == 0 {
			return errors.New("audit: no subcommand given")
		}
		return nil
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, args[1:], stdout, stderr)
	case "show":
		return runAuditShow(ctx, args[1:], stdout, stderr)
	case "replay":
		return runAuditReplay(ctx, args[1:], stdout, stderr)
	case "export":
		return runAuditExport(ctx, args[1:], stdout, stderr)
	case "shadow":
		return runAuditShadow(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("audit: unknown subcommand %q", args[0])
}

// auditFlags are the flags every audit subcommand shares.
type auditFlags struct {
	db, replica, output string
}

func (f *auditFlags) register(fs *flag.FlagSet, output bool) {
	fs.StringVar(&f.db, "db", "", "the audit store: sqlite:///path/audit.db (or a path) or postgres://... (required)")
	fs.StringVar(&f.replica, "replica", "", "only this replica's chain")
	if output {
		fs.StringVar(&f.output, "output", "text", "text or json")
	}
}

func (f *auditFlags) open(ctx context.Context) (audit.Store, error) {
	if f.output != "" && f.output != "text" && f.output != "json" {
		return nil, fmt.Errorf("--output %q: want text or json", f.output)
	}
	if f.db == "" {
		return nil, errors.New("--db is required: sqlite:///path/audit.db or postgres://...")
	}
	return audit.OpenStore(ctx, f.db, audit.StoreOptions{ReadOnly: true})
}

// filterFlags select records for show and export.
type filterFlags struct {
	session, subject, since, types string
	limit                          int
}

func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.session, "session", "", "only this session's records")
	fs.StringVar(&f.subject, "subject", "", "only records about this subject (the human's identity)")
	fs.StringVar(&f.since, "since", "", "only records from this long ago (1h, 30m) or this time (2026-11-27 or RFC 3339)")
	fs.StringVar(&f.types, "type", "", "only these event types, comma-separated: "+strings.Join(audit.Types, ", "))
}

func (f *filterFlags) filter(replica string, now time.Time) (audit.Filter, error) {
	flt := audit.Filter{Replica: replica, SessionID: f.session, Subject: f.subject, Limit: f.limit}
	if f.since != "" {
		t, err := parseSince(f.since, now)
		if err != nil {
			return flt, err
		}
		flt.Since = t
	}
	if f.types != "" {
		for _, t := range strings.Split(f.types, ",") {
			t = strings.TrimSpace(t)
			if !validEventType(t) {
				return flt, fmt.Errorf("--type %q: want one of %s", t, strings.Join(audit.Types, ", "))
			}
			flt.Types = append(flt.Types, t)
		}
	}
	return flt, nil
}

func validEventType(t string) bool {
	for _, k := range audit.Types {
		if k == t {
			return true
		}
	}
	return false
}

// parseSince reads a duration back from now, an RFC 3339 time or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (1h, 30m) or a time (2026-11-27, 2026-11-27T09:00:00Z)", s)
}

func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit verify", "audit verify --db DSN [--replica R] [--public-key KEY]... [--require-signed] [--anchors FILE] [--output json]", stderr)
	var af auditFlags
	af.register(fs, true)
	var keys keyList
	fs.Var(&keys, "public-key", "trusted checkpoint key: base64 or hex Ed25519 public key, or a file holding one (PEM accepted); repeatable")
	requireSigned := fs.Bool("require-signed", false, "treat an unsigned checkpoint as a failure")
	anchorsFile := fs.String("anchors", "", "checkpoints archived outside the store (JSON lines from 'audit export --checkpoints')")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var anchors []audit.Checkpoint
	if *anchorsFile != "" {
		var err error
		if anchors, err = readAnchors(*anchorsFile); err != nil {
			return err
		}
	}
	store, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := audit.Verify(ctx, store, audit.VerifyOptions{Replica: af.replica, PublicKeys: keys, RequireSigned: *requireSigned, Anchors: anchors})
	if err != nil {
		return err
	}
	if af.output == "json" {
		if err := writeJSON(stdout, struct {
			OK bool `json:"ok"`
			audit.Report
		}{rep.OK(), rep}); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK() {
		first := rep.Problems[0]
		return &exitError{code: 1, err: fmt.Errorf("verification failed: %d problem(s), first at %s (%s)", len(rep.Problems), audit.RecordID(first.Replica, first.Seq), first.Kind)}
	}
	if len(rep.Replicas) == 0 {
		return &exitError{code: 1, err: errors.New("verification failed: the store holds no audit records")}
	}
	return nil
}

func printReport(w io.Writer, rep audit.Report) {
	for _, r := range rep.Replicas {
		fmt.Fprintf(w, "replica %s: %d records, last seq %d; %d checkpoints (%d signed), last good at seq %d",
			r.Replica, r.Records, r.LastSeq, r.Checkpoints, r.SignedCheckpoints, r.LastCheckpoint)
		if r.Unanchored > 0 {
			fmt.Fprintf(w, "; %d records after it rest on the hash chain alone", r.Unanchored)
		}
		fmt.Fprintln(w)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "PROBLEM %s\n", p)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if rep.OK() {
		fmt.Fprintln(w, "OK: every chain verifies")
	}
}

// readAnchors reads checkpoints, one JSON object a line.
func readAnchors(path string) ([]audit.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--anchors: %w", err)
	}
	defer f.Close()
	var out []audit.Checkpoint
	dec := json.NewDecoder(f)
	for {
		var c audit.Checkpoint
		err := dec.Decode(&c)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("--anchors %s: checkpoint %d: %w", path, len(out)+1, err)
		}
		out = append(out, c)
	}
}

// keyList collects --public-key values.
type keyList []ed25519.PublicKey

func (k *keyList) String() string { return fmt.Sprint(len(*k), " keys") }

func (k *keyList) Set(v string) error {
	key, err := parsePublicKey(v)
	if err != nil {
		return err
	}
	*k = append(*k, key)
	return nil
}

// parsePublicKey reads an Ed25519 public key given inline (base64 or hex of
// the 32 bytes) or in a file (the same, or a PEM "PUBLIC KEY").
func parsePublicKey(v string) (ed25519.PublicKey, error) {
	text := strings.TrimSpace(v)
	if b, err := os.ReadFile(v); err == nil {
		text = strings.TrimSpace(string(b))
	}
	if blk, _ := pem.Decode([]byte(text)); blk != nil {
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: %T is not an Ed25519 key", pub)
		}
		return k, nil
	}
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := dec(text); err == nil && len(b) == ed25519.PublicKeySize {
			return ed25519.PublicKey(b), nil
		}
	}
	return nil, fmt.Errorf("public key %q: want 32 bytes in base64 or hex, or a file holding them or a PEM public key", v)
}

func runAuditShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit show", "audit show --db DSN [--session ID] [--subject SUB] [--since 1h|TIME] [--type T] [--replica R] [--limit N] [--output json]", stderr)
	var af auditFlags
	af.register(fs, true)
	var ff filterFlags
	ff.register(fs)
	fs.IntVar(&ff.limit, "limit", 1000, "at most this many records, oldest first (0: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	flt, err := ff.filter(af.replica, time.Now())
	if err != nil {
		return err
	}
	store, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var lines []audit.ExportLine
	err = store.Scan(ctx, flt, func(r audit.Record) error {
		if af.output == "json" {
			line, err := audit.Export(r)
			lines = append(lines, line)
			return err
		}
		env, err := r.Decode()
		if err != nil {
			return err
		}
		e := env.Event
		_, err = fmt.Fprintf(stdout, "%s  %-14s %-8s %-14s %s\n", e.Time.Format("2006-01-02T15:04:05.000Z"), r.ID(), dash(e.SessionID), dash(r.Subject), audit.Summary(e))
		return err
	})
	if err != nil {
		return err
	}
	if af.output == "json" {
		if lines == nil {
			lines = []audit.ExportLine{}
		}
		return writeJSON(stdout, lines)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runAuditReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit replay", "audit replay --db DSN [--replica R] [--output json] SESSION", stderr)
	var af auditFlags
	af.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("audit replay: name one SESSION")
	}
	session := fs.Arg(0)
	store, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var recs []audit.Record
	replicas := map[string]bool{}
	err = store.Scan(ctx, audit.Filter{Replica: af.replica, SessionID: session}, func(r audit.Record) error {
		recs = append(recs, r)
		replicas[r.Replica] = true
		return nil
	})
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("audit replay: no records for session %q", session)
	}
	if len(replicas) > 1 {
		return fmt.Errorf("audit replay: session %q exists on %d replicas; pick one with --replica", session, len(replicas))
	}
	if af.output == "json" {
		lines := make([]audit.ExportLine, 0, len(recs))
		for _, r := range recs {
			line, err := audit.Export(r)
			if err != nil {
				return err
			}
			lines = append(lines, line)
		}
		return writeJSON(stdout, lines)
	}
	return audit.WriteTimeline(stdout, recs)
}

func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit export", "audit export --db DSN [--session ID] [--subject SUB] [--since 1h|TIME] [--replica R] [--checkpoints] [--out FILE]", stderr)
	var af auditFlags
	af.register(fs, false)
	var ff filterFlags
	ff.register(fs)
	out := fs.String("out", "", "write to this file instead of stdout")
	checkpoints := fs.Bool("checkpoints", false, "export the checkpoints (of --replica, or of every replica) instead of the records")
	opaSink := fs.String("opa-sink", "", "post the decisions in OPA's decision-log format to this URL instead, in batches of 500")
	if err := fs.Parse(args); err != nil {
		return err
	}
	flt, err := ff.filter(af.replica, time.Now())
	if err != nil {
		return err
	}
	store, err := af.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if *opaSink != "" {
		return exportOPA(ctx, store, flt, *opaSink, stderr)
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		defer f.Close()
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	if *checkpoints {
		err = exportCheckpoints(ctx, store, af.replica, func(c audit.Checkpoint) error { n++; return enc.Encode(c) })
	} else {
		err = store.Scan(ctx, flt, func(r audit.Record) error {
			line, err := audit.Export(r)
			if err != nil {
				return err
			}
			n++
			return enc.Encode(line)
		})
	}
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		what := "records"
		if *checkpoints {
			what = "checkpoints"
		}
		fmt.Fprintf(stderr, "exported %d %s to %s\n", n, what, *out)
	}
	return nil
}

func exportCheckpoints(ctx context.Context, store audit.Store, replica string, fn func(audit.Checkpoint) error) error {
	replicas := []string{replica}
	if replica == "" {
		var err error
		if replicas, err = store.Replicas(ctx); err != nil {
			return err
		}
	}
	for _, r := range replicas {
		cps, err := store.Checkpoints(ctx, r)
		if err != nil {
			return err
		}
		for _, c := range cps {
			if err := fn(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exportOPA posts the selected decisions to an OPA decision-log sink.
func exportOPA(ctx context.Context, store audit.Store, flt audit.Filter, url string, stderr io.Writer) error {
	client := &http.Client{Timeout: 30 * time.Second}
	var batch []audit.OPAEvent
	sent := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := audit.PostOPA(ctx, client, url, batch); err != nil {
			return err
		}
		sent += len(batch)
		batch = batch[:0]
		return nil
	}
	err := store.Scan(ctx, flt, func(r audit.Record) error {
		ev, ok, err := audit.ToOPA(r, r.Replica)
		if err != nil || !ok {
			return err
		}
		batch = append(batch, ev)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	fmt.Fprintf(stderr, "posted %d decisions to %s\n", sent, url)
	return nil
}
