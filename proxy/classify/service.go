package classify

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Where the policy's data is read and the inherited classifications go.
const (
	ConfigPath    = "snowgate/config/classifications"
	DenyInPath    = "snowgate/config/masking/deny_in"
	InheritedPath = "snowgate/inherited/classifications"
)

// DefaultPollInterval is how often a Service looks for records made by
// other replicas.
const DefaultPollInterval = 2 * time.Second

// Policy is where the configured classifications are read and the
// inherited ones handed over (the engine).
type Policy interface {
	Data(ctx context.Context, path string) (value any, found bool, err error)
	SetData(path string, value any) error
}

// Config configures a Service.
type Config struct {
	Store  Store
	Policy Policy // nil: nothing is read from or handed to a policy (tests)
	// OnChange, when set, is told about every change (for the audit
	// trail): a forget before it takes effect (an error refuses it), new
	// records once they are stored (an error is logged).
	OnChange     func(ctx context.Context, c Change) error
	Logger       *slog.Logger
	Now          func() time.Time
	PollInterval time.Duration // default DefaultPollInterval
}

// The operations a Change reports.
const (
	OpInherited = "inherited"
	OpForgotten = "forgotten"
)

// Change is what Record or Forget changed.
type Change struct {
	Op        string // OpInherited or OpForgotten
	Records   []*Record
	Origin    *Origin    // OpInherited: the statement
	Forgotten *Forgotten // OpForgotten: who and why
}

// Write is a statement that ran and what it derived.
type Write struct {
	Derived []statement.Derivation
	// Catalog lists the targets' columns as they are after the write (the
	// upstream's, uncached); nil when the upstream cannot tell.
	Catalog statement.Catalog
	Origin  Origin
}

// Service records inherited classifications and keeps the policy's copy of
// them current, including what other replicas record.
type Service struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	records []*Record // every record, as last loaded
	version string
}

// New loads the store's records and hands them to the policy. It fails
// when the store cannot be read: a gateway that does not know what copies
// are classified must not serve them.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	s := &Service{cfg: cfg, log: cfg.Logger}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(ctx, true); err != nil {
		return nil, err
	}
	return s, nil
}

// Run polls the store until ctx ends, so that what other replicas record
// or forget reaches this one's policy within the poll interval.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("inherited classifications not refreshed", "err", err)
			}
		}
	}
}

// Refresh reloads the records when the store changed since the last load.
func (s *Service) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload(ctx, false)
}

// reload reads the records if the store's version moved (or always) and
// hands them to the policy. The caller holds mu.
func (s *Service) reload(ctx context.Context, always bool) error {
	v, err := s.cfg.Store.Version(ctx)
	if err != nil {
		return err
	}
	if !always && v == s.version {
		return nil
	}
	recs, err := s.cfg.Store.List(ctx)
	if err != nil {
		return err
	}
	s.records, s.version = recs, v
	return s.publish(ctx)
}

// publish hands the active records to the policy, in the shape of the
// configured classifications. The caller holds mu.
func (s *Service) publish(ctx context.Context) error {
	if s.cfg.Policy == nil {
		return nil
	}
	def := s.defaultDenyIn(ctx)
	doc := map[string]map[string]map[string]map[string]Entry{}
	for col, e := range inheritedEntries(s.records, def) {
		if doc[col.Database] == nil {
			doc[col.Database] = map[string]map[string]map[string]Entry{}
		}
		if doc[col.Database][col.Schema] == nil {
			doc[col.Database][col.Schema] = map[string]map[string]Entry{}
		}
		if doc[col.Database][col.Schema][col.Table] == nil {
			doc[col.Database][col.Schema][col.Table] = map[string]Entry{}
		}
		doc[col.Database][col.Schema][col.Table][col.Name] = e
	}
	if err := s.cfg.Policy.SetData(InheritedPath, doc); err != nil {
		return fmt.Errorf("hand inherited classifications to the policy: %w", err)
	}
	return nil
}

// inheritedEntries combines the active records by target column.
func inheritedEntries(recs []*Record, defaultDenyIn []string) map[Column]Entry {
	by := map[Column]*combiner{}
	for _, r := range recs {
		if !r.Active() {
			continue
		}
		c := by[r.Target]
		if c == nil {
			c = &combiner{defaultDenyIn: defaultDenyIn}
			by[r.Target] = c
		}
		c.add(Entry{Class: r.Class, Classes: r.Classes, Strategy: r.Strategy, DenyIn: r.DenyIn, From: r.From, Records: []string{r.ID}}, false)
	}
	out := make(map[Column]Entry, len(by))
	for col, c := range by {
		out[col] = c.entry()
	}
	return out
}

// defaultDenyIn is masking.deny_in from the policy's configuration: where
// a classified column that names no deny_in may not be used.
func (s *Service) defaultDenyIn(ctx context.Context) []string {
	if s.cfg.Policy == nil {
		return nil
	}
	v, ok, err := s.cfg.Policy.Data(ctx, DenyInPath)
	if err != nil || !ok {
		return nil
	}
	return stringList(v)
}

func stringList(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// configured reads data.snowgate.config.classifications.
func (s *Service) configured(ctx context.Context) (map[Column]Entry, error) {
	out := map[Column]Entry{}
	if s.cfg.Policy == nil {
		return out, nil
	}
	v, ok, err := s.cfg.Policy.Data(ctx, ConfigPath)
	if err != nil || !ok {
		return out, err
	}
	dbs, _ := v.(map[string]any)
	for db, sv := range dbs {
		schemas, _ := sv.(map[string]any)
		for sc, tv := range schemas {
			tables, _ := tv.(map[string]any)
			for tb, cv := range tables {
				cols, _ := cv.(map[string]any)
				for cn, ev := range cols {
					e, _ := ev.(map[string]any)
					entry := Entry{}
					entry.Class, _ = e["class"].(string)
					entry.Strategy, _ = e["strategy"].(string)
					if d, ok := e["deny_in"]; ok {
						entry.DenyIn = stringList(d)
						if entry.DenyIn == nil {
							entry.DenyIn = []string{}
						}
					}
					out[Column{db, sc, tb, cn}] = entry
				}
			}
		}
	}
	return out, nil
}

// view is every column's effective classification: the configured one
// wins, else what it inherited.
type view struct {
	config, inherited map[Column]Entry
	tables            map[[3]string][]Column // the classified columns of each table
	defaultDenyIn     []string
}

func newView(config, inherited map[Column]Entry, defaultDenyIn []string) *view {
	v := &view{config: config, inherited: inherited, tables: map[[3]string][]Column{}, defaultDenyIn: defaultDenyIn}
	for _, m := range []map[Column]Entry{config, inherited} {
		for c := range m {
			k := [3]string{c.Database, c.Schema, c.Table}
			if !slices.Contains(v.tables[k], c) {
				v.tables[k] = append(v.tables[k], c)
			}
		}
	}
	for k := range v.tables {
		sort.Slice(v.tables[k], func(i, j int) bool { return v.tables[k][i].Name < v.tables[k][j].Name })
	}
	return v
}

// get is the classification of column c, if it has one. A column of a
// table that inherited "any column" carries that too.
func (v *view) get(c Column) (Entry, bool) {
	if e, ok := v.config[c]; ok {
		return e, true
	}
	e, ok := v.inherited[c]
	if c.Name == AnyColumn {
		return e, ok
	}
	if any, anyOK := v.inherited[Column{c.Database, c.Schema, c.Table, AnyColumn}]; anyOK {
		if !ok {
			return any, true
		}
		cb := &combiner{defaultDenyIn: v.defaultDenyIn}
		cb.add(e, false)
		cb.add(any, false)
		return cb.entry(), true
	}
	return e, ok
}

// columns lists the classified columns of a table.
func (v *view) columns(db, schema, table string) []Column {
	return v.tables[[3]string{db, schema, table}]
}

func newRecordID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "cls-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Record derives what the write's targets inherit from the current
// classifications of their sources, stores it and hands it to the policy.
// It returns the new records (none when nothing classified was written).
func (s *Service) Record(ctx context.Context, w Write) ([]*Record, error) {
	if len(w.Derived) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another replica may have recorded what this write copies from.
	if err := s.reload(ctx, false); err != nil {
		s.log.Warn("inherited classifications not refreshed before a write", "err", err)
	}
	config, err := s.configured(ctx)
	if err != nil {
		return nil, err
	}
	def := s.defaultDenyIn(ctx)
	v := newView(config, inheritedEntries(s.records, def), def)
	now := s.cfg.Now()
	if w.Origin.At.IsZero() {
		w.Origin.At = now
	}
	var recs []*Record
	for i := range w.Derived {
		for _, c := range derive(ctx, v, &w.Derived[i], w.Catalog) {
			c.ID, c.Origin, c.CreatedAt = newRecordID(), w.Origin, now
			if !s.known(c, recs) {
				recs = append(recs, c)
			}
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if err := s.cfg.Store.Add(ctx, recs); err != nil {
		return nil, err
	}
	s.records = append(s.records, recs...)
	if v, err := s.cfg.Store.Version(ctx); err == nil {
		s.version = v
	}
	s.log.Info("classifications inherited", "records", len(recs), "session", w.Origin.SessionID, "query", w.Origin.QueryID, "by", w.Origin.By.Subject)
	perr := s.publish(ctx)
	if s.cfg.OnChange != nil {
		o := w.Origin
		if err := s.cfg.OnChange(ctx, Change{Op: OpInherited, Records: recs, Origin: &o}); err != nil {
			s.log.Error("inherited classifications not audited", "records", len(recs), "err", err)
		}
	}
	return recs, perr
}

// known reports whether an active record (stored, or about to be) already
// says the same about the same column: a pipeline that reloads a table
// every night does not grow the store.
func (s *Service) known(r *Record, pending []*Record) bool {
	same := func(x *Record) bool {
		return x.Active() && x.Target == r.Target && x.Class == r.Class && x.Strategy == r.Strategy &&
			x.Transform == r.Transform && slices.Equal(x.DenyIn, r.DenyIn) && slices.Equal(x.From, r.From)
	}
	return slices.ContainsFunc(s.records, same) || slices.ContainsFunc(pending, same)
}

// Target names a table (Column empty) or one of its columns.
type Target struct {
	Database, Schema, Table, Column string
}

func (t Target) String() string {
	s := t.Database + "." + t.Schema + "." + t.Table
	if t.Column != "" {
		s += "." + t.Column
	}
	return s
}

func (t Target) matches(c Column) bool {
	return c.Database == t.Database && c.Schema == t.Schema && c.Table == t.Table && (t.Column == "" || c.Name == t.Column)
}

// ParseTarget reads DB.SCHEMA.TABLE[.COLUMN]. Unquoted parts are upper-
// cased, as Snowflake resolves them; "quoted" parts are kept as written.
func ParseTarget(s string) (Target, error) {
	var parts []string
	var cur strings.Builder
	quoted, wasQuoted := false, false
	flush := func() {
		p := cur.String()
		if !wasQuoted {
			p = strings.ToUpper(strings.TrimSpace(p))
		}
		parts = append(parts, p)
		cur.Reset()
		wasQuoted = false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
			wasQuoted = true
		case ch == '.' && !quoted:
			flush()
		default:
			cur.WriteByte(ch)
		}
	}
	if quoted {
		return Target{}, fmt.Errorf("%q: unterminated quote", s)
	}
	flush()
	if len(parts) < 3 || len(parts) > 4 {
		return Target{}, fmt.Errorf("%q: want DATABASE.SCHEMA.TABLE or DATABASE.SCHEMA.TABLE.COLUMN", s)
	}
	for _, p := range parts {
		if p == "" {
			return Target{}, fmt.Errorf("%q: an empty name", s)
		}
	}
	t := Target{Database: parts[0], Schema: parts[1], Table: parts[2]}
	if len(parts) == 4 {
		t.Column = parts[3]
	}
	return t, nil
}

// List returns the records, newest last: the active ones, or all with all.
func (s *Service) List(ctx context.Context, all bool) ([]*Record, error) {
	recs, err := s.cfg.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Record{}
	for _, r := range recs {
		if all || r.Active() {
			out = append(out, r)
		}
	}
	return out, nil
}

// Show is one table's (or column's) inherited classifications: what the
// policy sees, and every record behind it, forgotten ones too.
type Show struct {
	Target    string           `json:"target"`
	Effective map[string]Entry `json:"effective"` // by column; the configured entry where there is one
	Records   []*Record        `json:"records"`
}

// Show returns what t inherited.
func (s *Service) Show(ctx context.Context, t Target) (*Show, error) {
	recs, err := s.cfg.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	out := &Show{Target: t.String(), Effective: map[string]Entry{}, Records: []*Record{}}
	for _, r := range recs {
		if t.matches(r.Target) {
			out.Records = append(out.Records, r)
		}
	}
	if len(out.Records) == 0 {
		return nil, ErrNotFound
	}
	config, err := s.configured(ctx)
	if err != nil {
		return nil, err
	}
	for col, e := range inheritedEntries(out.Records, s.defaultDenyIn(ctx)) {
		if ce, ok := config[col]; ok {
			e = ce // the configured classification wins
		}
		out.Effective[col.Name] = e
	}
	return out, nil
}

// Forget marks every active record of t forgotten, hands the policy what
// remains and returns the records it forgot.
func (s *Service) Forget(ctx context.Context, t Target, by Person, reason string) ([]*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.cfg.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	var hit []*Record
	for _, r := range recs {
		if r.Active() && t.matches(r.Target) {
			ids = append(ids, r.ID)
			hit = append(hit, r)
		}
	}
	if len(ids) == 0 {
		return nil, ErrNotFound
	}
	f := Forgotten{By: by, Reason: reason, At: s.cfg.Now()}
	if s.cfg.OnChange != nil {
		if err := s.cfg.OnChange(ctx, Change{Op: OpForgotten, Records: hit, Forgotten: &f}); err != nil {
			return nil, fmt.Errorf("forget %s: not recorded in the audit trail, so not forgotten: %w", t, err)
		}
	}
	if _, err := s.cfg.Store.Forget(ctx, ids, f); err != nil {
		return nil, err
	}
	for _, r := range hit {
		r.Forgotten = &f
	}
	s.log.Info("inherited classifications forgotten", "target", t.String(), "records", len(ids), "by", by.Subject)
	return hit, s.reload(ctx, true)
}
