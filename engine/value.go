package engine

import (
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
	return obj(
		kv("version", str(in.Version)),
		kv("identity", identityValue(&in.Identity)),
		kv("session", sessionValue(&in.Session)),
		kv("statement", statementValue(&in.Statement)),
		kv("request", obj(kv("id", str(in.Request.ID)), kv("time", timeValue(in.Request.Time)))),
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

func statementValue(s *statement.Statement) ast.Value {
	items := []item{
		kv("sql", str(s.SQL)),
		kv("fingerprint", str(s.Fingerprint)),
		kv("index", ast.Number(itoa(int64(s.Index)))),
		kv("count", ast.Number(itoa(int64(s.Count)))),
		kv("kind", str(string(s.Kind))),
		kv("category", str(string(s.Category))),
		kv("parse", parseValue(s.Parse)),
		kv("objects", objectsValue(s.Objects)),
		kv("columns", obj(
			kv("read", columnsValue(s.Columns.Read)),
			kv("written", columnsValue(s.Columns.Written)),
			kv("filtered", columnsValue(s.Columns.Filtered)),
			kv("grouped", columnsValue(s.Columns.Grouped)),
		)),
		kv("outputs", outputsValue(s.Outputs)),
		kv("where", obj(kv("present", ast.Boolean(s.Where.Present)), kv("always_true", ast.Boolean(s.Where.AlwaysTrue)))),
		kv("star", ast.Boolean(s.Star)),
		kv("functions", strs(s.Functions)),
		kv("flags", flagsValue(&s.Flags)),
	}
	if s.Limit != nil {
		items = append(items, kv("limit", ast.Number(itoa(*s.Limit))))
	}
	return obj(items...)
}

func parseValue(p statement.Parse) ast.Value {
	items := []item{kv("complete", ast.Boolean(p.Complete))}
	if p.Error != "" {
		items = append(items, kv("error", str(p.Error)))
	}
	return obj(items...)
}

func objectsValue(objs []statement.Object) ast.Value {
	if objs == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(objs))
	for i := range objs {
		o := &objs[i]
		items := []item{kv("type", str(o.Type))}
		if o.Database != "" {
			items = append(items, kv("database", str(o.Database)))
		}
		if o.Schema != "" {
			items = append(items, kv("schema", str(o.Schema)))
		}
		items = append(items, kv("name", str(o.Name)), kv("access", str(string(o.Access))))
		terms[i] = ast.NewTerm(obj(items...))
	}
	return ast.NewArray(terms...)
}

func columnsValue(cols []statement.Column) ast.Value {
	if cols == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(cols))
	for i := range cols {
		terms[i] = ast.NewTerm(columnValue(&cols[i]))
	}
	return ast.NewArray(terms...)
}

func columnValue(c *statement.Column) ast.Value {
	items := make([]item, 0, 4)
	if c.Database != "" {
		items = append(items, kv("database", str(c.Database)))
	}
	if c.Schema != "" {
		items = append(items, kv("schema", str(c.Schema)))
	}
	items = append(items, kv("table", str(c.Table)), kv("name", str(c.Name)))
	return obj(items...)
}

func outputsValue(outs []statement.Output) ast.Value {
	if outs == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(outs))
	for i := range outs {
		o := &outs[i]
		terms[i] = ast.NewTerm(obj(
			kv("name", str(o.Name)),
			kv("sources", columnsValue(o.Sources)),
			kv("transform", str(string(o.Transform))),
			kv("traced", ast.Boolean(o.Traced)),
		))
	}
	return ast.NewArray(terms...)
}

func flagsValue(f *statement.Flags) ast.Value {
	return obj(
		kv("create_or_replace", ast.Boolean(f.CreateOrReplace)),
		kv("time_travel", ast.Boolean(f.TimeTravel)),
		kv("clone", ast.Boolean(f.Clone)),
		kv("external_location", ast.Boolean(f.ExternalLocation)),
		kv("stage", ast.Boolean(f.Stage)),
		kv("user_stage", ast.Boolean(f.UserStage)),
		kv("identifier", ast.Boolean(f.Identifier)),
		kv("dynamic_sql", ast.Boolean(f.DynamicSQL)),
		kv("session_change", ast.Boolean(f.SessionChange)),
		kv("role_change", ast.Boolean(f.RoleChange)),
		kv("no_where", ast.Boolean(f.NoWhere)),
		kv("system_function", ast.Boolean(f.SystemFunction)),
		kv("external_function", ast.Boolean(f.ExternalFunction)),
		kv("scripting", ast.Boolean(f.Scripting)),
	)
}

// item is one key of an object under construction.
type item [2]*ast.Term

func kv(k string, v ast.Value) item { return item{ast.InternedTerm(k), ast.NewTerm(v)} }

func obj(items ...item) ast.Value {
	o := ast.NewObjectWithCapacity(len(items))
	for _, it := range items {
		o.Insert(it[0], it[1])
	}
	return o
}

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
