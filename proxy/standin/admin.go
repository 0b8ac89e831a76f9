package standin

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// admin runs the statements DuckDB has no equivalent for: session context
// (USE, ALTER SESSION), users and roles, databases, SHOW and DESCRIBE.
// handled is false for everything else.
func (c *conn) admin(ctx context.Context, toks []statement.Token, binds []proxy.Bind) (out *proxy.Outcome, handled bool, err error) {
	p := &parser{toks: toks}
	done := func(status string) (*proxy.Outcome, bool, error) {
		return &proxy.Outcome{Status: status, State: c.snapshot()}, true, nil
	}
	fail := func(err error) (*proxy.Outcome, bool, error) { return nil, true, err }
	switch {
	case p.accept("USE"):
		return c.use(ctx, p)
	case p.accept("ALTER", "SESSION"), p.accept("ALTER", "ACCOUNT"), p.accept("ALTER", "WAREHOUSE"),
		p.accept("CREATE", "WAREHOUSE"), p.accept("CREATE", "OR", "REPLACE", "WAREHOUSE"):
		return done("Statement executed successfully.")
	case p.accept("CREATE", "OR", "REPLACE", "USER"):
		return c.createUser(ctx, p, true)
	case p.accept("CREATE", "USER"):
		return c.createUser(ctx, p, false)
	case p.accept("ALTER", "USER"):
		ifExists := p.accept("IF", "EXISTS")
		name := p.name()
		u := c.s.users
		if _, err := u.get(ctx, name); err != nil && ifExists {
			return done("Statement executed successfully.")
		}
		switch {
		case p.accept("SET"):
			err = u.set(ctx, name, p.props())
		case p.accept("UNSET"):
			props := userProps{}
			for !p.end() {
				props[p.next().Value] = nil
				p.accept(",")
			}
			err = u.set(ctx, name, props)
		default:
			err = u.set(ctx, name, p.props())
		}
		if err != nil {
			return fail(err)
		}
		return done("Statement executed successfully.")
	case p.accept("DROP", "USER"):
		ifExists := p.accept("IF", "EXISTS")
		name := p.name()
		if err := c.s.users.drop(ctx, name, ifExists); err != nil {
			return fail(err)
		}
		return done(name + " successfully dropped.")
	case p.accept("GRANT", "ROLE"), p.accept("REVOKE", "ROLE"):
		revoke := toks[0].Value == "REVOKE"
		role := p.name()
		if !p.accept("TO") && !p.accept("FROM") {
			return fail(sqlError("001003", "42000", "SQL compilation error: expected TO or FROM"))
		}
		p.accept("USER")
		p.accept("ROLE")
		if err := c.s.users.grant(ctx, role, p.name(), revoke); err != nil {
			return fail(err)
		}
		return done("Statement executed successfully.")
	case p.accept("SHOW", "USERS"):
		return c.showUsers(ctx, p)
	case p.accept("SHOW"), p.accept("DESCRIBE"), p.accept("DESC"):
		// Snowflake takes binds in SHOW (SHOW TABLES LIKE ?); DuckDB
		// never sees these statements, so the stand-in reads the values.
		toks, err := bindTokens(toks, binds)
		if err != nil {
			return fail(err)
		}
		return c.show(ctx, &parser{toks: toks, i: p.i}) // show.go
	case stageDDL(p):
		// Stages hold files, which the stand-in does not keep: creating
		// and dropping one succeed and hold nothing, and PUT, GET and
		// COPY from a stage fail.
		return done("Statement executed successfully.")
	case p.accept("CREATE", "ROLE"), p.accept("CREATE", "OR", "REPLACE", "ROLE"), p.accept("DROP", "ROLE"):
		return done("Statement executed successfully.")
	case p.accept("GRANT"), p.accept("REVOKE"):
		// Privileges on objects: the stand-in does not enforce access control.
		return done("Statement executed successfully.")
	case p.accept("CREATE", "DATABASE"), p.accept("CREATE", "DATABASE", "IF", "NOT", "EXISTS"):
		p.accept("IF", "NOT", "EXISTS")
		name := p.name()
		if err := c.s.attach(ctx, name); err != nil {
			return fail(duckError(err))
		}
		if _, err := c.c.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(name)+".PUBLIC"); err != nil {
			return fail(duckError(err))
		}
		return done("Database " + name + " successfully created.")
	}
	return nil, false, nil
}

func (c *conn) use(ctx context.Context, p *parser) (*proxy.Outcome, bool, error) {
	st := c.state
	switch {
	case p.accept("WAREHOUSE"):
		st.Warehouse = p.name()
	case p.accept("ROLE"):
		role := p.name()
		// A session opened without a login runs as the administrator,
		// who has every role.
		if c.user != "" && !c.s.users.hasRole(ctx, c.user, role) {
			return nil, true, sqlError("003013", "42501", fmt.Sprintf("Requested role '%s' is not assigned to the executing user.", role))
		}
		st.Role = role
	case p.accept("SECONDARY", "ROLES"):
	case p.accept("SCHEMA"):
		parts := p.path()
		if len(parts) == 2 {
			st.Database = parts[0]
		}
		st.Schema = parts[len(parts)-1]
	default:
		p.accept("DATABASE")
		parts := p.path()
		st.Database, st.Schema = parts[0], "PUBLIC"
		if len(parts) == 2 {
			st.Schema = parts[1]
		}
	}
	if st.Database != c.state.Database || st.Schema != c.state.Schema {
		if _, err := c.c.ExecContext(ctx, "USE "+quoteIdent(st.Database)+"."+quoteIdent(st.Schema)); err != nil {
			return nil, true, sqlError("002043", "02000", fmt.Sprintf("SQL compilation error:\nObject does not exist, or operation cannot be performed. (%s.%s)", st.Database, st.Schema))
		}
	}
	c.state = st
	return &proxy.Outcome{Status: "Statement executed successfully.", State: c.snapshot()}, true, nil
}

func (c *conn) createUser(ctx context.Context, p *parser, orReplace bool) (*proxy.Outcome, bool, error) {
	ifNotExists := p.accept("IF", "NOT", "EXISTS")
	name := p.name()
	if name == "" {
		return nil, true, sqlError("001003", "42000", "SQL compilation error: user name missing")
	}
	if err := c.s.users.create(ctx, name, p.props(), orReplace, ifNotExists); err != nil {
		return nil, true, err
	}
	return &proxy.Outcome{Status: "User " + name + " successfully created.", State: c.snapshot()}, true, nil
}

// showUsers answers SHOW USERS [LIKE 'pattern'] with a subset of
// Snowflake's columns, for operators and tests checking which users exist.
func (c *conn) showUsers(ctx context.Context, p *parser) (*proxy.Outcome, bool, error) {
	q := `SELECT NAME AS "name", NAME AS "login_name", DEFAULT_ROLE AS "default_role", COALESCE(DISABLED, false) AS "disabled",
		PASSWORD_HASH IS NOT NULL AS "has_password", RSA_PUBLIC_KEY IS NOT NULL OR RSA_PUBLIC_KEY_2 IS NOT NULL AS "has_rsa_public_key"
		FROM ` + c.s.users.table + `.USERS`
	var args []any
	if p.accept("LIKE") {
		q += ` WHERE NAME ILIKE ?`
		args = append(args, p.next().Value)
	}
	rs, err := c.c.QueryContext(ctx, q+` ORDER BY NAME`, args...)
	if err != nil {
		return nil, true, duckError(err)
	}
	r, err := newRows(rs, q)
	if err != nil {
		return nil, true, err
	}
	return &proxy.Outcome{Rows: r, State: c.snapshot()}, true, nil
}

// parser walks a statement's tokens.
type parser struct {
	toks []statement.Token
	i    int
}

func (p *parser) end() bool { return p.i >= len(p.toks) || p.toks[p.i].Value == ";" }

func (p *parser) next() statement.Token {
	if p.end() {
		return statement.Token{}
	}
	t := p.toks[p.i]
	p.i++
	return t
}

// accept consumes the words if the statement continues with them.
func (p *parser) accept(words ...string) bool {
	if p.i+len(words) > len(p.toks) {
		return false
	}
	for k, w := range words {
		t := p.toks[p.i+k]
		if t.Kind == statement.TokQuotedIdent || t.Kind == statement.TokString || t.Value != w {
			return false
		}
	}
	p.i += len(words)
	return true
}

// name reads an object name: unquoted names fold to upper case.
func (p *parser) name() string {
	parts := p.path()
	return parts[len(parts)-1]
}

func (p *parser) path() []string {
	var parts []string
	for {
		t := p.next()
		parts = append(parts, t.Value)
		if !p.accept(".") {
			return parts
		}
	}
}

// props reads KEY = value pairs up to the end of the statement.
func (p *parser) props() userProps {
	props := userProps{}
	for !p.end() {
		key := p.next().Value
		if !p.accept("=") {
			continue
		}
		v := p.next()
		val := v.Value
		if v.Kind == statement.TokIdent {
			val = strings.ToUpper(val)
		}
		props[key] = &val
	}
	return props
}

// stageDDL reads CREATE [OR REPLACE] [TEMPORARY] STAGE and DROP STAGE.
func stageDDL(p *parser) bool {
	at := p.i
	if p.accept("DROP", "STAGE") {
		return true
	}
	if p.accept("CREATE") {
		p.accept("OR", "REPLACE")
		_ = p.accept("TEMPORARY") || p.accept("TEMP")
		if p.accept("STAGE") {
			return true
		}
	}
	p.i = at
	return false
}

// bindTokens puts the values of a request's binds where its placeholders
// (? in order, or :n) stand, as string tokens.
func bindTokens(toks []statement.Token, binds []proxy.Bind) ([]statement.Token, error) {
	if len(binds) == 0 {
		return toks, nil
	}
	value := func(n int) (statement.Token, error) {
		for _, b := range binds {
			if b.Name == strconv.Itoa(n) && !b.Array && b.Value != nil {
				return statement.Token{Kind: statement.TokString, Value: *b.Value}, nil
			}
		}
		return statement.Token{}, sqlError("002049", "22000", fmt.Sprintf("SQL compilation error: bind variable %d not set or not a single value", n))
	}
	out := make([]statement.Token, 0, len(toks))
	positional := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.Kind == statement.TokOp && t.Value == "?":
			positional++
			v, err := value(positional)
			if err != nil {
				return nil, err
			}
			t = v
		case t.Kind == statement.TokOp && t.Value == ":" && i+1 < len(toks) && toks[i+1].Kind == statement.TokNumber:
			n, _ := strconv.Atoi(toks[i+1].Value)
			v, err := value(n)
			if err != nil {
				return nil, err
			}
			t = v
			i++
		}
		out = append(out, t)
	}
	return out, nil
}
