package statement

import (
	"strings"
)

// qname is a possibly qualified object name as written.
type qname struct {
	parts   []string // one to three parts, folded per Snowflake's case rules
	dynamic string   // set when the name comes from a variable (IDENTIFIER($v))
	ident   bool     // written with IDENTIFIER(...)
}

// schemaLevel says which object types live in a schema (and so resolve
// against the session's database and schema).
func schemaLevel(typ string) bool {
	switch typ {
	case "database", "schema", "warehouse", "user", "role", "integration", "share",
		"resource_monitor", "network_policy", "account", "database_role", "application",
		"connection", "replication_group", "failover_group", "compute_pool", "external_volume":
		return false
	}
	return true
}

// object resolves a name into an Object against the session environment.
func (q qname) object(typ string, access Access, env Env) Object {
	o := Object{Type: typ, Access: access}
	if q.dynamic != "" {
		o.Name = q.dynamic
		return o
	}
	p := q.parts
	switch {
	case typ == "schema":
		switch len(p) {
		case 1:
			o.Database, o.Name = env.Database, p[0]
		default:
			o.Database, o.Name = p[len(p)-2], p[len(p)-1]
		}
	case typ == "database_role":
		switch len(p) {
		case 1:
			o.Database, o.Name = env.Database, p[0]
		default:
			o.Database, o.Name = p[len(p)-2], p[len(p)-1]
		}
	case !schemaLevel(typ):
		o.Name = p[len(p)-1]
	default:
		switch len(p) {
		case 1:
			o.Database, o.Schema, o.Name = env.Database, env.Schema, p[0]
		case 2:
			o.Database, o.Schema, o.Name = env.Database, p[0], p[1]
		default:
			o.Database, o.Schema, o.Name = p[len(p)-3], p[len(p)-2], p[len(p)-1]
			if o.Schema == "" { // db..t
				o.Schema = "PUBLIC"
			}
		}
	}
	return o
}

// nameValue returns the folded value of an identifier token, and whether t
// can be a name part at all.
func nameValue(t Token) (string, bool) {
	switch t.Kind {
	case TokIdent, TokQuotedIdent:
		return t.Value, true
	}
	return "", false
}

// parseName reads a dotted name or IDENTIFIER(...) at toks[i]. It returns
// the index after the name; ok is false when there is no name.
func parseName(toks []Token, i int) (q qname, next int, ok bool) {
	if i >= len(toks) {
		return q, i, false
	}
	if toks[i].is("IDENTIFIER") && i+1 < len(toks) && toks[i+1].isOp("(") {
		return parseIdentifierCall(toks, i)
	}
	v, ok := nameValue(toks[i])
	if !ok {
		return q, i, false
	}
	q.parts = append(q.parts, v)
	i++
	for i+1 < len(toks) && toks[i].isOp(".") {
		if toks[i+1].isOp(".") { // db..name
			q.parts = append(q.parts, "")
			i++
			continue
		}
		v, ok := nameValue(toks[i+1])
		if !ok {
			break
		}
		q.parts = append(q.parts, v)
		i += 2
	}
	if len(q.parts) > 3 {
		return q, i, false
	}
	return q, i, true
}

// parseIdentifierCall reads IDENTIFIER('name' | $var | :var | ?).
func parseIdentifierCall(toks []Token, i int) (q qname, next int, ok bool) {
	q.ident = true
	j := i + 2
	if j >= len(toks) {
		return q, j, false
	}
	t := toks[j]
	switch {
	case t.Kind == TokString || t.Kind == TokDollarString:
		inner, err := Lex(t.Value)
		if err != nil {
			return q, j, false
		}
		n, end, ok := parseName(inner, 0)
		if !ok || end != len(inner) || n.ident {
			return q, j, false
		}
		q.parts = n.parts
		j++
	case t.Kind == TokVariable:
		q.dynamic = t.Value
		j++
	case t.isOp(":") && j+1 < len(toks) && toks[j+1].Kind == TokIdent:
		q.dynamic = ":" + toks[j+1].Value
		j += 2
	case t.isOp("?"):
		q.dynamic = "?"
		j++
	default:
		return q, j, false
	}
	if j >= len(toks) || !toks[j].isOp(")") {
		return q, j, false
	}
	return q, j + 1, true
}

// stageObject turns an @stage token into a stage object.
func stageObject(t Token, access Access, env Env) Object {
	v := t.Value[1:] // drop '@'
	switch {
	case strings.HasPrefix(v, "~"):
		return Object{Type: "stage", Name: "~", Access: access}
	case strings.HasPrefix(v, "%"):
		name := v[1:]
		if k := strings.IndexByte(name, '/'); k >= 0 {
			name = name[:k]
		}
		q, ok := nameFromText(name)
		if !ok {
			return Object{Type: "stage", Name: v, Access: access}
		}
		o := q.object("table", access, env)
		o.Type = "table_stage"
		return o
	}
	// the name ends at the first '/' outside quotes
	end := len(v)
	inQuote := false
	for k := 0; k < len(v); k++ {
		if v[k] == '"' {
			inQuote = !inQuote
		}
		if v[k] == '/' && !inQuote {
			end = k
			break
		}
	}
	q, ok := nameFromText(v[:end])
	if !ok {
		return Object{Type: "stage", Name: v[:end], Access: access}
	}
	return q.object("stage", access, env)
}

// nameFromText parses a whole string as a dotted name.
func nameFromText(s string) (qname, bool) {
	toks, err := Lex(s)
	if err != nil || len(toks) == 0 {
		return qname{}, false
	}
	q, end, ok := parseName(toks, 0)
	return q, ok && end == len(toks)
}

// isURL reports whether a string literal names an external location.
func isURL(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"s3://", "s3gov://", "s3china://", "gcs://", "gs://", "azure://", "wasb://", "wasbs://", "abfss://", "https://", "http://"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}
