package standin

import (
	"strconv"
	"strings"

	"github.com/snowgate/snowgate/proxy/statement"
)

// Version is what CURRENT_VERSION() answers: a Snowflake release number,
// as clients parse it.
const Version = "9.40.0"

// AdminUser is the stand-in's administrator, as whom sessions opened
// without a login run.
const AdminUser = "ADMIN"

// Region and Account are what CURRENT_REGION() and CURRENT_ACCOUNT() answer.
const (
	Region  = "LOCAL"
	Account = "SNOWGATE"
)

// current answers Snowflake's context functions, and the system functions
// clients call on their own at start-up, with the session's own values.
// Each is a call with no arguments; DuckDB would otherwise answer some of
// them with its own (CURRENT_USER() is "duckdb") and fail on the rest.
// ok is false for any other function. A nil value is NULL.
func (c *conn) current(fn string) (value *string, ok bool) {
	str := func(s string) (*string, bool) {
		if s == "" {
			return nil, true
		}
		return &s, true
	}
	st := c.state
	switch fn {
	case "CURRENT_USER":
		if c.user == "" {
			return str(AdminUser) // a session opened without a login runs as the stand-in's administrator
		}
		return str(strings.ToUpper(c.user))
	case "CURRENT_ROLE":
		return str(st.Role)
	case "CURRENT_SECONDARY_ROLES":
		return str(`{"roles":"","value":""}`)
	case "CURRENT_AVAILABLE_ROLES":
		roles := []string{strconv.Quote("PUBLIC")}
		if st.Role != "" && st.Role != "PUBLIC" {
			roles = append(roles, strconv.Quote(st.Role))
		}
		return str("[" + strings.Join(roles, ",") + "]")
	case "CURRENT_WAREHOUSE":
		return str(st.Warehouse)
	case "CURRENT_DATABASE":
		return str(st.Database)
	case "CURRENT_SCHEMA":
		return str(st.Schema)
	case "CURRENT_SCHEMAS":
		if st.Database == "" || st.Schema == "" {
			return str("[]")
		}
		return str(`["` + st.Database + "." + st.Schema + `"]`)
	case "CURRENT_VERSION":
		return str(Version)
	case "CURRENT_ACCOUNT", "CURRENT_ACCOUNT_NAME":
		return str(Account)
	case "CURRENT_ORGANIZATION_NAME":
		return str("SNOWGATE")
	case "CURRENT_REGION":
		return str(Region)
	case "CURRENT_SESSION":
		return str(strconv.FormatInt(c.id, 10))
	case "CURRENT_TRANSACTION":
		return nil, true
	case "SYSTEM$CLIENT_VERSION_INFO":
		// Snowflake's per-driver version guidance; the stand-in has none,
		// which clients read as every version supported.
		return str("[]")
	}
	return nil, false
}

// bareContext are the context functions Snowflake also reads without
// parentheses.
var bareContext = map[string]bool{"CURRENT_USER": true, "CURRENT_ROLE": true, "CURRENT_DATABASE": true, "CURRENT_SCHEMA": true}

// identifierName reads the string of IDENTIFIER('name') as DuckDB names
// the object: unquoted parts as they are (DuckDB matches them whatever
// their case), quoted parts quoted. ok is false when the string is not a
// name of one to three parts.
func identifierName(s string) (string, bool) {
	toks, err := statement.Lex(s)
	if err != nil || len(toks) == 0 || len(toks) > 5 || len(toks)%2 == 0 {
		return "", false
	}
	var b strings.Builder
	for i, t := range toks {
		if i%2 == 1 {
			if t.Kind != statement.TokOp || t.Value != "." {
				return "", false
			}
			b.WriteByte('.')
			continue
		}
		switch t.Kind {
		case statement.TokIdent:
			b.WriteString(t.Value)
		case statement.TokQuotedIdent:
			b.WriteString(quoteIdent(t.Value))
		default:
			return "", false
		}
	}
	return b.String(), true
}

// transaction runs BEGIN, COMMIT and ROLLBACK as Snowflake does: COMMIT and
// ROLLBACK with no transaction open, and BEGIN with one open, do nothing
// (run is empty). handled is false for every other statement.
func (c *conn) transaction(p *parser) (run string, handled bool) {
	switch {
	case p.accept("BEGIN"), p.accept("START", "TRANSACTION"):
		if !(p.accept("TRANSACTION") || p.accept("WORK") || p.end() || p.accept("NAME")) {
			return "", false // a scripting block
		}
		if c.inTx {
			return "", true
		}
		c.inTx = true
		return "BEGIN TRANSACTION", true
	case p.accept("COMMIT"), p.accept("ROLLBACK"):
		if !c.inTx {
			return "", true
		}
		c.inTx = false
		return p.toks[0].Value, true
	}
	return "", false
}
