package statement

import "strings"

// Definitions and privileges: CREATE, ALTER, DROP, UNDROP, TRUNCATE,
// COMMENT, GRANT, REVOKE.

// objectTypes maps the keywords that name an object type to the type
// reported in Object.Type. Longer phrases are tried first.
var objectTypes = []struct {
	words []string
	typ   string
}{
	{[]string{"EXTERNAL", "ACCESS", "INTEGRATION"}, "integration"},
	{[]string{"ROW", "ACCESS", "POLICY"}, "row_access_policy"},
	{[]string{"CORTEX", "SEARCH", "SERVICE"}, "cortex_search_service"},
	{[]string{"MATERIALIZED", "VIEW"}, "view"},
	{[]string{"SEMANTIC", "VIEW"}, "semantic_view"},
	{[]string{"DATABASE", "ROLE"}, "database_role"},
	{[]string{"APPLICATION", "ROLE"}, "application_role"},
	{[]string{"APPLICATION", "PACKAGE"}, "application_package"},
	{[]string{"STORAGE", "INTEGRATION"}, "integration"},
	{[]string{"API", "INTEGRATION"}, "integration"},
	{[]string{"NOTIFICATION", "INTEGRATION"}, "integration"},
	{[]string{"SECURITY", "INTEGRATION"}, "integration"},
	{[]string{"CATALOG", "INTEGRATION"}, "integration"},
	{[]string{"FILE", "FORMAT"}, "file_format"},
	{[]string{"MASKING", "POLICY"}, "masking_policy"},
	{[]string{"NETWORK", "POLICY"}, "network_policy"},
	{[]string{"NETWORK", "RULE"}, "network_rule"},
	{[]string{"PASSWORD", "POLICY"}, "password_policy"},
	{[]string{"SESSION", "POLICY"}, "session_policy"},
	{[]string{"AUTHENTICATION", "POLICY"}, "authentication_policy"},
	{[]string{"AGGREGATION", "POLICY"}, "aggregation_policy"},
	{[]string{"PROJECTION", "POLICY"}, "projection_policy"},
	{[]string{"PACKAGES", "POLICY"}, "packages_policy"},
	{[]string{"RESOURCE", "MONITOR"}, "resource_monitor"},
	{[]string{"COMPUTE", "POOL"}, "compute_pool"},
	{[]string{"IMAGE", "REPOSITORY"}, "image_repository"},
	{[]string{"EXTERNAL", "VOLUME"}, "external_volume"},
	{[]string{"REPLICATION", "GROUP"}, "replication_group"},
	{[]string{"FAILOVER", "GROUP"}, "failover_group"},
	{[]string{"GIT", "REPOSITORY"}, "git_repository"},
	{[]string{"DATA", "METRIC", "FUNCTION"}, "function"},
	{[]string{"TABLE"}, "table"},
	{[]string{"VIEW"}, "view"},
	{[]string{"DATABASE"}, "database"},
	{[]string{"SCHEMA"}, "schema"},
	{[]string{"STAGE"}, "stage"},
	{[]string{"USER"}, "user"},
	{[]string{"ROLE"}, "role"},
	{[]string{"WAREHOUSE"}, "warehouse"},
	{[]string{"FUNCTION"}, "function"},
	{[]string{"PROCEDURE"}, "procedure"},
	{[]string{"INTEGRATION"}, "integration"},
	{[]string{"SEQUENCE"}, "sequence"},
	{[]string{"PIPE"}, "pipe"},
	{[]string{"STREAM"}, "stream"},
	{[]string{"TASK"}, "task"},
	{[]string{"TAG"}, "tag"},
	{[]string{"ALERT"}, "alert"},
	{[]string{"SECRET"}, "secret"},
	{[]string{"SHARE"}, "share"},
	{[]string{"ACCOUNT"}, "account"},
	{[]string{"CONNECTION"}, "connection"},
	{[]string{"APPLICATION"}, "application"},
	{[]string{"SERVICE"}, "service"},
	{[]string{"NOTEBOOK"}, "notebook"},
	{[]string{"STREAMLIT"}, "streamlit"},
	{[]string{"MODEL"}, "model"},
	{[]string{"DATASET"}, "dataset"},
	{[]string{"SNAPSHOT"}, "snapshot"},
	{[]string{"CONTACT"}, "contact"},
	{[]string{"LISTING"}, "listing"},
	{[]string{"ORGANIZATION", "PROFILE"}, "organization_profile"},
}

// objectType reads an object type phrase at toks[i].
func objectType(t []Token, i int) (typ string, next int, ok bool) {
	for _, ot := range objectTypes {
		if i+len(ot.words) > len(t) {
			continue
		}
		match := true
		for k, w := range ot.words {
			if !t[i+k].is(w) {
				match = false
				break
			}
		}
		if match {
			return ot.typ, i + len(ot.words), true
		}
	}
	return "", i, false
}

// createModifiers may stand between CREATE [OR REPLACE] and the type.
var createModifiers = map[string]bool{
	"SECURE": true, "TEMPORARY": true, "TEMP": true, "TRANSIENT": true, "VOLATILE": true,
	"LOCAL": true, "GLOBAL": true, "RECURSIVE": true, "DYNAMIC": true, "ICEBERG": true,
	"EVENT": true, "HYBRID": true, "INTERACTIVE": true, "EXTERNAL": true, "AGGREGATE": true,
	"FORCE": true, "SCOPED": true, "TRANSACTIONAL": true,
}

// objectName reads a name of the given type at toks[i] and adds the object.
func (c *classifier) objectName(i int, typ string, access Access) int {
	q, end, ok := parseName(c.toks, i)
	if !ok {
		c.r.problem("expected a %s name at offset %d", typ, c.pos(i))
		return i
	}
	c.markNames(i, end)
	c.r.add(q.object(typ, access, c.env))
	if q.dynamic != "" {
		c.r.problem("%s name comes from %s", typ, q.dynamic)
	}
	return end
}

func skipIfExists(t []Token, i int) int {
	if i+1 < len(t) && t[i].is("IF") && t[i+1].is("EXISTS") {
		return i + 2
	}
	if i+2 < len(t) && t[i].is("IF") && t[i+1].is("NOT") && t[i+2].is("EXISTS") {
		return i + 3
	}
	return i
}

func (c *classifier) create() {
	t := c.toks
	c.r.setKind(KindCreate)
	i := 1
	replace := ""
	if i+1 < len(t) && t[i].is("OR") && (t[i+1].is("REPLACE") || t[i+1].is("ALTER")) {
		c.r.flags.CreateOrReplace = t[i+1].is("REPLACE")
		replace = "CREATE OR " + t[i+1].Value
		i += 2
	}
	external := false
	for i < len(t) && t[i].Kind == TokIdent && createModifiers[t[i].Value] {
		if t[i].is("EXTERNAL") {
			if typ, _, ok := objectType(t, i); ok && typ != "table" && typ != "function" {
				break // EXTERNAL ACCESS INTEGRATION, EXTERNAL VOLUME
			}
			external = true
		}
		i++
	}
	typ, i, ok := objectType(t, i)
	if !ok {
		c.r.problem("CREATE of an unknown object type %q", c.value(i))
		return
	}
	if external && typ == "function" {
		c.r.flags.ExternalFunction = true
	}
	i = skipIfExists(t, i)
	end := c.objectName(i, typ, AccessCreate)
	if replace != "" && end > i {
		if q, _, ok := parseName(t, i); ok {
			o := q.object(typ, "", c.env)
			c.r.effect(EffectObjectReplaced, o, false, replace+" "+strings.ToUpper(typ)+" replaces an existing object")
			if protectionTypes[typ] {
				c.r.effect(EffectProtectionRemoved, o, false, replace+" "+strings.ToUpper(typ)+" rewrites a protection")
			}
		}
	}
	c.createBody(typ, end)
}

func (c *classifier) value(i int) string {
	if i < len(c.toks) {
		return c.toks[i].Value
	}
	return ""
}

// createBody reads what follows the created object's name: CLONE, LIKE,
// AS <query>, a task's or pipe's statement, a stage's URL.
func (c *classifier) createBody(typ string, i int) {
	t := c.toks
	depth := 0
	for k := i; k < len(t); k++ {
		tok := t[k]
		switch {
		case tok.isOp("("):
			depth++
			continue
		case tok.isOp(")"):
			depth--
			continue
		case tok.Kind == TokString && isURL(tok.Value):
			c.r.flags.ExternalLocation = true
			continue
		case tok.Kind == TokStage && k > 0 && t[k-1].isOp("="): // LOCATION = @stage
			c.r.add(stageObject(tok, AccessRead, c.env))
			continue
		}
		if depth != 0 {
			continue
		}
		switch {
		case tok.is("CLONE"):
			c.r.flags.Clone = true
			c.objectName(k+1, typ, AccessRead)
			return
		case tok.is("LIKE") && typ == "table":
			c.objectName(k+1, "table", AccessRead)
			return
		case tok.is("ON") && (typ == "stream") && k+1 < len(t):
			if st, n, ok := objectType(t, k+1); ok {
				c.objectName(n, st, AccessRead)
			}
			return
		case tok.is("AS") && typ != "function" && typ != "procedure" && !strings.HasSuffix(typ, "_policy"):
			c.createAs(k + 1)
			return
		case tok.is("THEN") && typ == "alert":
			c.nested(t[k+1:])
			return
		}
	}
}

// createAs reads AS <query> or, for tasks and pipes, AS <statement>.
func (c *classifier) createAs(i int) {
	t := c.toks
	if i >= len(t) {
		return
	}
	if t[i].is("SELECT") || t[i].is("WITH") || t[i].is("VALUES") ||
		t[i].isOp("(") && i+1 < len(t) && (t[i+1].is("SELECT") || t[i+1].is("WITH")) {
		c.collectCTEs()
		c.scanReads(i, len(t))
		for _, tok := range t[i:] {
			if tok.Kind == TokIdent && reservedVerbs[tok.Value] {
				c.r.setKind(KindUnknown)
				c.r.problem("%s inside a query", tok.Value)
				return
			}
		}
		c.r.queries = append(c.r.queries, c.newQuery(i, len(t)))
		return
	}
	c.nested(t[i:])
}

// nested classifies an embedded statement (a task's body, a pipe's COPY)
// and takes its objects, flags and danger.
func (c *classifier) nested(toks []Token) {
	in := classify(toks, c.src, c.env, c.nest+1)
	c.r.absorb(in)
}

func (c *classifier) alter() {
	t := c.toks
	c.r.setKind(KindAlter)
	if len(t) > 1 && t[1].is("SESSION") {
		c.r.category = CategorySession
		c.r.flags.SessionChange = true
		return
	}
	i := 1
	for i < len(t) && t[i].Kind == TokIdent && (createModifiers[t[i].Value] || t[i].is("MATERIALIZED")) {
		if _, _, ok := objectType(t, i); ok {
			break
		}
		i++
	}
	typ, i, ok := objectType(t, i)
	if !ok {
		c.r.problem("ALTER of an unknown object type %q", c.value(i))
		return
	}
	if typ == "account" {
		c.r.add(Object{Type: "account", Access: AccessAlter})
		return
	}
	i = skipIfExists(t, i)
	end := c.objectName(i, typ, AccessAlter)
	if q, _, ok := parseName(t, i); ok {
		c.alterEffects(q.object(typ, "", c.env), typ, end)
	}
	for k := end; k+1 < len(t); k++ {
		switch {
		case t[k].is("RENAME") && t[k+1].is("TO"):
			c.objectName(k+2, typ, AccessCreate)
		case t[k].is("SWAP") && t[k+1].is("WITH"):
			c.objectName(k+2, typ, AccessAlter)
		case t[k].is("AS") && (typ == "task" || typ == "alert"):
			c.nested(t[k+1:])
			return
		}
	}
}

// drop reads DROP/UNDROP <type> [IF EXISTS] name[, name].
func (c *classifier) drop(kind Kind, access Access) {
	t := c.toks
	c.r.setKind(kind)
	i := 1
	for i < len(t) && t[i].Kind == TokIdent && createModifiers[t[i].Value] {
		if _, _, ok := objectType(t, i); ok {
			break
		}
		i++
	}
	typ, i, ok := objectType(t, i)
	if !ok {
		c.r.problem("%s of an unknown object type %q", t[0].Value, c.value(i))
		return
	}
	i = skipIfExists(t, i)
	for {
		if q, _, ok := parseName(t, i); ok && kind == KindDrop {
			o := q.object(typ, "", c.env)
			c.r.effect(EffectObjectDropped, o, false, "DROP "+strings.ToUpper(typ))
			if protectionTypes[typ] {
				c.r.effect(EffectProtectionRemoved, o, false, "DROP "+strings.ToUpper(typ))
			}
		}
		i = c.objectName(i, typ, access)
		if i < len(t) && t[i].isOp("(") { // DROP FUNCTION f(INT)
			i = skipParens(t, i)
		}
		if i < len(t) && t[i].isOp(",") {
			i++
			continue
		}
		break
	}
}

func (c *classifier) truncate() {
	t := c.toks
	c.r.setKind(KindTruncate)
	c.r.flags.NoWhere = true
	i := 1
	if i < len(t) && t[i].is("TABLE") {
		i++
	}
	i = skipIfExists(t, i)
	c.target(i, AccessDelete)
	c.r.effect(EffectRowsRemoved, c.last, false, "TRUNCATE")
}

func (c *classifier) comment() {
	t := c.toks
	c.r.setKind(KindComment)
	i := skipIfExists(t, 1)
	if i >= len(t) || !t[i].is("ON") {
		c.r.problem("COMMENT without ON")
		return
	}
	i++
	if i < len(t) && t[i].is("COLUMN") {
		q, end, ok := parseName(t, i+1)
		if !ok || len(q.parts) < 2 {
			c.r.problem("COMMENT ON COLUMN needs table.column")
			return
		}
		c.markNames(i+1, end)
		q.parts = q.parts[:len(q.parts)-1]
		c.r.add(q.object("table", AccessAlter, c.env))
		return
	}
	typ, i, ok := objectType(t, i)
	if !ok {
		c.r.problem("COMMENT on an unknown object type %q", c.value(i))
		return
	}
	c.objectName(i, typ, AccessAlter)
}

// grant reads GRANT ... TO and REVOKE ... FROM in their privilege, role
// and ownership forms. Both the securable and the grantee are objects with
// access grant.
func (c *classifier) grant(kind Kind) {
	t := c.toks
	c.r.setKind(kind)
	on, to := -1, -1
	for k := 1; k < len(t); k++ {
		switch {
		case t[k].is("ON") && on < 0 && to < 0:
			on = k
		case (t[k].is("TO") || t[k].is("FROM")) && to < 0:
			to = k
		}
	}
	if to < 0 {
		c.r.problem("%s without a grantee", t[0].Value)
		return
	}
	if on < 0 { // GRANT [DATABASE|APPLICATION] ROLE r TO ...
		typ, i, ok := objectType(t, 1)
		if !ok || (typ != "role" && typ != "database_role" && typ != "application_role") {
			c.r.problem("%s of something other than a role", t[0].Value)
			return
		}
		c.objectName(i, typ, AccessGrant)
	} else {
		c.securable(on+1, to)
	}
	i := to + 1
	typ, n, ok := objectType(t, i)
	if !ok {
		typ, n = "role", i
	}
	c.objectName(n, typ, AccessGrant)
}

// securable reads the object of a privilege grant between ON and TO.
func (c *classifier) securable(i, to int) {
	t := c.toks
	if i < to && t[i].is("ACCOUNT") {
		c.r.add(Object{Type: "account", Access: AccessGrant})
		return
	}
	if i < to && (t[i].is("ALL") || t[i].is("FUTURE")) {
		for k := i; k+1 < to; k++ {
			if t[k].is("IN") {
				typ, n, ok := objectType(t, k+1)
				if !ok {
					break
				}
				c.objectName(n, typ, AccessGrant)
				return
			}
		}
		c.r.problem("%s ON %s without IN", t[0].Value, t[i].Value)
		return
	}
	typ, n, ok := objectType(t, i)
	if !ok {
		c.r.problem("%s on an unknown object type %q", t[0].Value, c.value(i))
		return
	}
	c.objectName(n, typ, AccessGrant)
}
