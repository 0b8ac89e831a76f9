package engine

import (
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/snowgate/snowgate/proxy/statement"
)

// inputValue converts an Input to the AST value Rego evaluates, without a
// JSON round trip (it is the largest cost of a decision after the policy
// itself). It must produce exactly what encoding/json would: value_test.go
// checks that for every field, so a field added to the model without being
// added here fails the tests.
func inputValue(in *Input) ast.Value {
	var c conv
	items := []item{
		kvt("version", shared(in.Version)),
		kv("identity", identityValue(&in.Identity)),
		kv("session", sessionValue(&in.Session)),
		kv("statement", c.statementValue(&in.Statement)),
		kv("request", obj(kv("id", str(in.Request.ID)), kv("time", timeValue(in.Request.Time)))),
	}
	if e := in.Estimate; e != nil {
		est := []item{
			kv("object", str(e.Object)),
			kv("rows", ast.Number(itoa(e.Rows))),
			kv("total", ast.Number(itoa(e.Total))),
			kv("share", ast.Number(strconv.FormatFloat(e.Share, 'g', -1, 64))),
			kvt("method", shared(e.Method)),
		}
		if e.Bytes != 0 {
			est = append(est, kv("bytes", ast.Number(itoa(e.Bytes))))
		}
		if len(e.Scans) > 0 {
			scans := make([]*ast.Term, len(e.Scans))
			for i, sc := range e.Scans {
				scans[i] = ast.NewTerm(obj(
					kv("object", str(sc.Object)),
					kv("rows", ast.Number(itoa(sc.Rows))),
					kv("total", ast.Number(itoa(sc.Total))),
					kv("share", ast.Number(strconv.FormatFloat(sc.Share, 'g', -1, 64))),
					kv("full", ast.Boolean(sc.Full)),
				))
			}
			est = append(est, kv("scans", ast.NewArray(scans...)))
		}
		items = append(items, kv("estimate", obj(est...)))
	}
	if in.Usage != nil {
		items = append(items, kv("usage", usageValue(in.Usage)))
	}
	return obj(items...)
}

func usageValue(u *Usage) ast.Value {
	groups := make([]item, 0, len(u.Groups))
	for g, c := range u.Groups {
		groups = append(groups, kv(g, countsValue(c)))
	}
	items := []item{kv("subject", countsValue(u.Subject)), kv("groups", obj(groups...))}
	if u.Agent != nil {
		items = append(items, kv("agent", countsValue(*u.Agent)))
	}
	if u.Unavailable {
		items = append(items, kv("unavailable", ast.Boolean(true)))
	}
	return obj(items...)
}

func countsValue(c Counts) ast.Value {
	return obj(
		kv("statements_minute", ast.Number(itoa(c.StatementsMinute))),
		kv("rows_hour", ast.Number(itoa(c.RowsHour))),
		kv("bytes_day", ast.Number(itoa(c.BytesDay))),
		kv("sessions", ast.Number(itoa(c.Sessions))),
	)
}

func identityValue(id *Identity) ast.Value {
	items := []item{
		kv("subject", str(id.Subject)),
		kv("email", str(id.Email)),
		kv("name", str(id.Name)),
		kv("issuer", str(id.Issuer)),
		kv("groups", strs(id.Groups)),
		kv("claims", anyValue(id.Claims)),
	}
	if id.Agent != nil {
		items = append(items, kv("agent", obj(kv("id", str(id.Agent.ID)), kv("source", str(id.Agent.Source)))))
	}
	return obj(items...)
}

func sessionValue(s *Session) ast.Value {
	return obj(
		kv("id", str(s.ID)),
		kv("client", str(s.Client)),
		kv("client_version", str(s.ClientVersion)),
		kv("client_address", str(s.ClientAddress)),
		kv("database", str(s.Database)),
		kv("schema", str(s.Schema)),
		kv("warehouse", str(s.Warehouse)),
		kv("role", str(s.Role)),
		kv("query_tag", str(s.QueryTag)),
		kv("started_at", timeValue(s.StartedAt)),
	)
}

// conv shares the terms of repeated names and columns within one input:
// a statement names the same table and column in several places.
type conv struct {
	strs map[string]*ast.Term
	cols map[statement.Column]*ast.Term
}

func (c *conv) str(s string) *ast.Term {
	if t, ok := sharedTerms[s]; ok {
		return t
	}
	if t, ok := c.strs[s]; ok {
		return t
	}
	if c.strs == nil {
		c.strs = make(map[string]*ast.Term, 16)
	}
	t := ast.StringTerm(s)
	c.strs[s] = t
	return t
}

func (c *conv) statementValue(s *statement.Statement) ast.Value {
	items := []item{
		kv("sql", str(s.SQL)),
		kv("fingerprint", str(s.Fingerprint)),
		kv("index", ast.Number(itoa(int64(s.Index)))),
		kv("count", ast.Number(itoa(int64(s.Count)))),
		kvt("kind", c.str(string(s.Kind))),
		kvt("category", c.str(string(s.Category))),
		kv("parse", parseValue(s.Parse)),
		kv("objects", c.objectsValue(s.Objects)),
		kv("columns", obj(
			kv("read", c.columnsValue(s.Columns.Read)),
			kv("written", c.columnsValue(s.Columns.Written)),
			kv("filtered", c.columnsValue(s.Columns.Filtered)),
			kv("grouped", c.columnsValue(s.Columns.Grouped)),
		)),
		kv("outputs", c.outputsValue(s.Outputs)),
		kv("where", obj(kvt("present", boolTerm(s.Where.Present)), kvt("always_true", boolTerm(s.Where.AlwaysTrue)))),
		kvt("star", boolTerm(s.Star)),
		kv("functions", strs(s.Functions)),
		kv("flags", flagsValue(&s.Flags)),
	}
	if s.Limit != nil {
		items = append(items, kv("limit", ast.Number(itoa(*s.Limit))))
	}
	items = append(items, kv("effects", c.effectsValue(s.Effects)), kv("derived", c.derivedValue(s.Derived)))
	return obj(items...)
}

func (c *conv) effectsValue(es []statement.Effect) ast.Value {
	if es == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(es))
	for i := range es {
		e := &es[i]
		terms[i] = ast.NewTerm(obj(
			kvt("effect", c.str(string(e.Effect))),
			kvt("object", c.objectTerm(&e.Object)),
			kvt("bounded", boolTerm(e.Bounded)),
			kv("how", str(e.How)),
		))
	}
	return ast.NewArray(terms...)
}

func (c *conv) derivedValue(ds []statement.Derivation) ast.Value {
	if ds == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(ds))
	for i := range ds {
		d := &ds[i]
		var cols ast.Value = ast.Null{}
		if d.Columns != nil {
			ts := make([]*ast.Term, len(d.Columns))
			for k := range d.Columns {
				dc := &d.Columns[k]
				ts[k] = ast.NewTerm(obj(
					kv("name", str(dc.Name)),
					kv("sources", c.columnsValue(dc.Sources)),
					kvt("transform", c.str(string(dc.Transform))),
					kvt("traced", boolTerm(dc.Traced)),
				))
			}
			cols = ast.NewArray(ts...)
		}
		items := []item{
			kvt("target", c.objectTerm(&d.Target)),
			kv("columns", cols),
			kvt("by_position", boolTerm(d.ByPosition)),
			kvt("any_column", boolTerm(d.AnyColumn)),
			kv("reads", c.objectsValue(d.Reads)),
		}
		if d.Source != nil {
			items = append(items, kvt("source", c.objectTerm(d.Source)))
		}
		terms[i] = ast.NewTerm(obj(items...))
	}
	return ast.NewArray(terms...)
}

func parseValue(p statement.Parse) ast.Value {
	items := []item{kvt("complete", boolTerm(p.Complete))}
	if p.Error != "" {
		items = append(items, kv("error", str(p.Error)))
	}
	if len(p.Rewrites) > 0 {
		items = append(items, kv("rewrites", strs(p.Rewrites)))
	}
	return obj(items...)
}

func (c *conv) objectsValue(objs []statement.Object) ast.Value {
	if objs == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(objs))
	for i := range objs {
		terms[i] = c.objectTerm(&objs[i])
	}
	return ast.NewArray(terms...)
}

func (c *conv) objectTerm(o *statement.Object) *ast.Term {
	items := []item{kvt("type", c.str(o.Type))}
	if o.Database != "" {
		items = append(items, kvt("database", c.str(o.Database)))
	}
	if o.Schema != "" {
		items = append(items, kvt("schema", c.str(o.Schema)))
	}
	items = append(items, kvt("name", c.str(o.Name)), kvt("access", c.str(string(o.Access))))
	return ast.NewTerm(obj(items...))
}

func (c *conv) columnsValue(cols []statement.Column) ast.Value {
	if cols == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(cols))
	for i := range cols {
		terms[i] = c.column(cols[i])
	}
	return ast.NewArray(terms...)
}

// column returns the term of a column, shared by every place it appears.
func (c *conv) column(col statement.Column) *ast.Term {
	if t, ok := c.cols[col]; ok {
		return t
	}
	items := make([]item, 0, 4)
	if col.Database != "" {
		items = append(items, kvt("database", c.str(col.Database)))
	}
	if col.Schema != "" {
		items = append(items, kvt("schema", c.str(col.Schema)))
	}
	items = append(items, kvt("table", c.str(col.Table)), kvt("name", c.str(col.Name)))
	t := ast.NewTerm(obj(items...))
	if c.cols == nil {
		c.cols = make(map[statement.Column]*ast.Term, 16)
	}
	c.cols[col] = t
	return t
}

func (c *conv) outputsValue(outs []statement.Output) ast.Value {
	if outs == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(outs))
	for i := range outs {
		o := &outs[i]
		terms[i] = ast.NewTerm(obj(
			kv("name", str(o.Name)),
			kv("sources", c.columnsValue(o.Sources)),
			kvt("transform", c.str(string(o.Transform))),
			kvt("traced", boolTerm(o.Traced)),
			kvt("may_fail", boolTerm(o.MayFail)),
		))
	}
	return ast.NewArray(terms...)
}

func flagsValue(f *statement.Flags) ast.Value {
	return obj(
		kvt("create_or_replace", boolTerm(f.CreateOrReplace)),
		kvt("time_travel", boolTerm(f.TimeTravel)),
		kvt("clone", boolTerm(f.Clone)),
		kvt("external_location", boolTerm(f.ExternalLocation)),
		kvt("stage", boolTerm(f.Stage)),
		kvt("user_stage", boolTerm(f.UserStage)),
		kvt("identifier", boolTerm(f.Identifier)),
		kvt("dynamic_sql", boolTerm(f.DynamicSQL)),
		kvt("session_change", boolTerm(f.SessionChange)),
		kvt("role_change", boolTerm(f.RoleChange)),
		kvt("no_where", boolTerm(f.NoWhere)),
		kvt("system_function", boolTerm(f.SystemFunction)),
		kvt("external_function", boolTerm(f.ExternalFunction)),
		kvt("scripting", boolTerm(f.Scripting)),
		kvt("untraced_source", boolTerm(f.UntracedSource)),
	)
}

// item is one key of an object under construction.
type item = [2]*ast.Term

func kv(k string, v ast.Value) item { return item{shared(k), ast.NewTerm(v)} }

// kvt is kv for a ready term, e.g. a shared one.
func kvt(k string, v *ast.Term) item { return item{shared(k), v} }

// sharedTerms holds one immutable term for every key of the input and
// every common enumerated value, made once: OPA shares interned terms the
// same way, and this saves two allocations per key per input.
var sharedTerms = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, s := range []string{
		// keys
		"version", "identity", "session", "statement", "request",
		"subject", "email", "name", "issuer", "groups", "claims", "agent", "id", "source",
		"client", "client_version", "client_address", "database", "schema", "warehouse", "role", "query_tag", "started_at", "time",
		"sql", "fingerprint", "index", "count", "kind", "category", "parse", "complete", "error", "rewrites",
		"objects", "type", "access", "columns", "read", "written", "filtered", "grouped", "table",
		"outputs", "sources", "transform", "traced", "where", "present", "always_true", "limit", "star", "functions", "flags",
		"create_or_replace", "time_travel", "clone", "external_location", "stage", "user_stage", "identifier", "dynamic_sql",
		"session_change", "role_change", "no_where", "system_function", "external_function", "scripting", "untraced_source",
		"effects", "effect", "object", "bounded", "how", "may_fail",
		"rows_removed", "rows_replaced", "object_replaced", "object_dropped", "protection_removed",
		"derived", "target", "by_position", "any_column", "reads",
		"estimate", "rows", "total", "share", "method", "count", "explain_partitions", "failed",
		// values
		"1", "act", "azp", "claim",
		"select", "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "undrop", "grant", "revoke",
		"copy", "put", "get", "remove", "list", "use", "show", "describe", "call", "execute_immediate", "begin", "commit",
		"rollback", "set", "unset", "explain", "comment", "unknown",
		"write", "ddl", "dcl", "transaction", "admin",
		"view", "user", "procedure", "function", "location", "integration",
		"expression", "aggregate",
	} {
		m[s] = ast.StringTerm(s)
	}
	return m
}()

func shared(s string) *ast.Term {
	if t, ok := sharedTerms[s]; ok {
		return t
	}
	return ast.StringTerm(s)
}

// boolTerm returns the shared term of a boolean: no allocation.
func boolTerm(b bool) *ast.Term { return ast.InternedTerm(b) }

func obj(items ...item) ast.Value { return ast.NewObject(items...) }

func str(s string) ast.Value { return ast.String(s) }

func strs(ss []string) ast.Value {
	if ss == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.NewArray(terms...)
}

// timeValue renders t as encoding/json does (RFC 3339 with nanoseconds).
func timeValue(t time.Time) ast.Value { return ast.String(t.Format(time.RFC3339Nano)) }

// anyValue converts decoded JSON (claims); it falls back to OPA's generic
// conversion, and to null if even that fails.
func anyValue(v map[string]any) ast.Value {
	if v == nil {
		return ast.Null{}
	}
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		return ast.Null{}
	}
	return val
}

func itoa(n int64) string {
	var buf [20]byte
	i := len(buf)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
