package statement

// Session, stage and procedural statements: USE, SET, SHOW, DESCRIBE,
// EXPLAIN, PUT, GET, LIST, REMOVE, CALL, EXECUTE IMMEDIATE and Snowflake
// Scripting blocks.

func (c *classifier) put() {
	t := c.toks
	c.r.setKind(KindPut)
	for k := 1; k < len(t); k++ {
		if t[k].Kind == TokStage {
			c.r.add(stageObject(t[k], AccessWrite, c.env))
			return
		}
	}
	c.r.problem("PUT without a stage")
}

func (c *classifier) get() {
	t := c.toks
	if len(t) < 2 || t[1].Kind != TokStage {
		c.r.problem("GET without a stage")
		return
	}
	c.r.setKind(KindGet)
	if len(t) < 2 || t[1].Kind != TokStage {
		c.r.problem("GET without a stage")
		return
	}
	c.r.add(stageObject(t[1], AccessRead, c.env))
}

func (c *classifier) listStage(kind Kind, access Access) {
	t := c.toks
	c.r.setKind(kind)
	if len(t) < 2 || t[1].Kind != TokStage {
		c.r.problem("%s without a stage", t[0].Value)
		return
	}
	c.r.add(stageObject(t[1], access, c.env))
	if kind == KindRemove {
		c.r.effect(EffectRowsRemoved, stageObject(t[1], access, c.env), false, "REMOVE deletes staged files")
	}
}

func (c *classifier) use() {
	t := c.toks
	c.r.setKind(KindUse)
	c.r.flags.SessionChange = true
	if len(t) < 2 {
		c.r.problem("USE without an object")
		return
	}
	if t[1].is("SECONDARY") {
		c.r.flags.RoleChange = true
		if len(t) > 3 && t[2].is("ROLES") && !t[3].is("ALL") && !t[3].is("NONE") {
			for k := 3; k < len(t); k++ {
				if t[k].isOp(",") {
					continue
				}
				next := c.objectName(k, "role", AccessUse)
				if next == k { // not a name: stop rather than spin
					break
				}
				k = next - 1
			}
		}
		return
	}
	typ, i, ok := objectType(t, 1)
	if !ok || (typ != "role" && typ != "warehouse" && typ != "database" && typ != "schema") {
		typ, i = "database", 1
		if q, _, ok := parseName(t, 1); ok && len(q.parts) == 2 {
			typ = "schema"
		}
	}
	if typ == "role" {
		c.r.flags.RoleChange = true
	}
	c.objectName(i, typ, AccessUse)
}

// show reads SHOW ... [IN <scope> name]; the scope, if named, is read.
func (c *classifier) show() {
	t := c.toks
	c.r.setKind(KindShow)
	for k := 1; k+1 < len(t); k++ {
		if !t[k].is("IN") && !t[k].is("ON") {
			continue
		}
		typ, n, ok := objectType(t, k+1)
		if !ok {
			continue
		}
		if typ == "account" {
			return
		}
		if n < len(t) {
			if _, _, ok := parseName(t, n); ok {
				c.objectName(n, typ, AccessRead)
			}
		}
		return
	}
}

func (c *classifier) describe() {
	t := c.toks
	c.r.setKind(KindDescribe)
	i := 1
	for i < len(t) && t[i].Kind == TokIdent && createModifiers[t[i].Value] {
		i++
	}
	if i < len(t) && (t[i].is("RESULT") || t[i].is("SEARCH")) {
		return
	}
	typ, n, ok := objectType(t, i)
	if !ok {
		typ, n = "table", i
	}
	c.objectName(n, typ, AccessRead)
}

func (c *classifier) call() {
	t := c.toks
	c.r.setKind(KindCall)
	c.r.flags.DynamicSQL = true
	q, end, ok := parseName(t, 1)
	if !ok {
		c.r.problem("CALL without a procedure name")
		return
	}
	c.markNames(1, end)
	if len(q.parts) > 0 && len(q.parts[len(q.parts)-1]) > 7 && q.parts[len(q.parts)-1][:7] == "SYSTEM$" {
		c.r.flags.SystemFunction = true
	}
	c.r.add(q.object("procedure", AccessCall, c.env))
	c.collectCTEs()
	c.scanReads(end, len(t))
}

// execute reads EXECUTE IMMEDIATE <literal> by analysing the literal as SQL,
// and EXECUTE TASK t. EXECUTE IMMEDIATE of anything else (a variable, an
// expression) cannot be read and is unknown.
func (c *classifier) execute() {
	t := c.toks
	c.r.flags.DynamicSQL = true
	if len(t) > 1 && t[1].is("TASK") {
		c.r.setKind(KindCall)
		c.objectName(2, "task", AccessCall)
		return
	}
	if len(t) < 3 || !t[1].is("IMMEDIATE") {
		c.r.problem("EXECUTE without IMMEDIATE")
		return
	}
	body := t[2]
	if body.Kind != TokString && body.Kind != TokDollarString {
		c.r.problem("EXECUTE IMMEDIATE of a non-literal cannot be analysed")
		return
	}
	c.r.setKind(KindExecuteImmediate)
	pieces, err := splitPieces(body.Value)
	if err != nil {
		c.r.setKind(KindUnknown)
		c.r.problem("EXECUTE IMMEDIATE body: %v", err)
		return
	}
	if len(pieces) == 0 {
		c.r.problem("EXECUTE IMMEDIATE of an empty body")
	}
	for _, p := range pieces {
		in := classify(p.toks, body.Value, c.env, c.nest+1)
		c.r.absorb(in)
	}
}

func (c *classifier) set() {
	c.r.setKind(KindSet)
	c.r.flags.SessionChange = true
	c.collectCTEs()
	c.scanReads(1, len(c.toks))
	for _, tok := range c.toks {
		if tok.Kind == TokIdent && reservedVerbs[tok.Value] {
			c.r.setKind(KindUnknown)
			c.r.problem("%s inside SET", tok.Value)
		}
	}
	// SET v = (SELECT ...) copies data into a variable: its columns are read.
	c.r.queries = append(c.r.queries, c.subquery(1)...)
}

func (c *classifier) explain() {
	t := c.toks
	i := 1
	if i+1 < len(t) && t[i].is("USING") {
		i += 2
	}
	if i >= len(t) {
		c.r.setKind(KindExplain)
		c.r.problem("EXPLAIN without a statement")
		return
	}
	in := classify(t[i:], c.src, c.env, c.nest+1)
	in.queries = nil
	c.r.absorb(in)
	c.r.kind, c.r.category = KindExplain, CategoryRead
	if in.kind == KindUnknown {
		c.r.setKind(KindUnknown)
	}
}

// scriptWords may start a statement inside a Snowflake Scripting block
// without being SQL.
var scriptWords = map[string]bool{
	"LET": true, "RETURN": true, "IF": true, "ELSEIF": true, "ELSE": true, "FOR": true,
	"WHILE": true, "LOOP": true, "REPEAT": true, "UNTIL": true, "CASE": true, "WHEN": true,
	"OPEN": true, "FETCH": true, "CLOSE": true, "BREAK": true, "CONTINUE": true, "EXIT": true,
	"ITERATE": true, "LEAVE": true, "RAISE": true, "NULL": true, "END": true, "BEGIN": true,
	"DECLARE": true, "EXCEPTION": true, "AWAIT": true, "CANCEL": true, "THEN": true, "DO": true,
}

// sqlVerbs start a SQL statement inside a block.
var sqlVerbs = map[string]bool{
	"SELECT": true, "WITH": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true,
	"COPY": true, "CREATE": true, "ALTER": true, "DROP": true, "UNDROP": true, "TRUNCATE": true,
	"GRANT": true, "REVOKE": true, "PUT": true, "GET": true, "LIST": true, "LS": true,
	"REMOVE": true, "RM": true, "USE": true, "SHOW": true, "DESCRIBE": true, "DESC": true,
	"CALL": true, "EXECUTE": true, "COMMIT": true, "ROLLBACK": true, "SET": true, "UNSET": true,
	"EXPLAIN": true, "COMMENT": true, "START": true,
}

// block reads a Snowflake Scripting block: every SQL statement inside it
// is classified and the block takes the most dangerous. A word at a
// statement position that is neither SQL nor scripting makes it unknown.
func (c *classifier) block() {
	t := c.toks
	c.r.setKind(KindScripting)
	c.r.flags.Scripting = true
	c.r.flags.DynamicSQL = true
	covered := make([]bool, len(t)) // tokens inside an inner statement
	for i := 0; i < len(t); i++ {
		tok := t[i]
		if !blockStmtStart(t, i) || tok.Kind != TokIdent {
			continue
		}
		strong := i == 0 || strongStart(t[i-1])
		switch {
		case tok.is("BEGIN") && txnBegin(t, i):
			in := &reading{}
			in.setKind(KindBegin)
			c.r.absorb(in)
		case i > 0 && sqlVerbs[tok.Value] && !(i+1 < len(t) && t[i+1].isOp("(") && tok.is("GET")):
			end := innerEnd(t, i)
			in := classify(t[i:end], c.src, c.env, c.nest+1)
			c.r.absorb(in)
			for k := i; k < end; k++ {
				covered[k] = true
			}
			i = end - 1
		case !strong || scriptWords[tok.Value]:
			// after '(', ':=', DEFAULT, RETURN only SQL matters
		case i+1 < len(t) && (t[i+1].isOp(":=") || t[i+1].Kind == TokIdent || t[i+1].isOp("(")):
			// assignment (x := ...), declaration (x INT ...), or an
			// expression statement in a DECLARE section
		default:
			c.r.problem("unrecognised %q in a scripting block", tok.Value)
			c.r.setKind(KindUnknown)
		}
	}
	// Safety net: a reserved verb anywhere that no inner statement took
	// means the block holds SQL this reading did not see.
	for i, tok := range t {
		if tok.Kind == TokIdent && reservedVerbs[tok.Value] && !c.names[i] && !blockStmtStart(t, i) && !covered[i] {
			c.r.problem("%s in an unrecognised place in a scripting block", tok.Value)
			c.r.setKind(KindUnknown)
		}
	}
}

// blockStmtStart reports whether a statement may start at toks[i] inside a
// block: after ';', BEGIN, THEN, ELSE, DO, LOOP, DECLARE, '(', ':=', AS,
// CURSOR FOR, DEFAULT, RETURN.
func blockStmtStart(t []Token, i int) bool {
	if i == 0 {
		return true
	}
	p := t[i-1]
	if p.isOp(";") || p.isOp("(") || p.isOp(":=") {
		return true
	}
	if p.Kind != TokIdent {
		return false
	}
	switch p.Value {
	case "BEGIN", "THEN", "ELSE", "DO", "LOOP", "DECLARE", "DEFAULT", "RETURN", "AS", "REPEAT":
		return true
	case "FOR":
		return i >= 2 && t[i-2].is("CURSOR")
	}
	return false
}

// strongStart reports whether a scripting statement (not an expression)
// must start after p.
func strongStart(p Token) bool {
	if p.isOp(";") {
		return true
	}
	switch {
	case p.is("BEGIN"), p.is("THEN"), p.is("ELSE"), p.is("DO"), p.is("LOOP"), p.is("DECLARE"), p.is("REPEAT"):
		return true
	}
	return false
}

// innerEnd returns the end of an inner statement starting at toks[i]: the
// next ';' at the same depth, or the ')' closing the depth it started in.
func innerEnd(t []Token, i int) int {
	depth := 0
	for k := i; k < len(t); k++ {
		switch {
		case t[k].isOp("("):
			depth++
		case t[k].isOp(")"):
			if depth == 0 {
				return k
			}
			depth--
		case t[k].isOp(";") && depth == 0:
			return k
		}
	}
	return len(t)
}
