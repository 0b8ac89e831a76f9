package statement

// Queries and data manipulation: SELECT/WITH, INSERT (incl. multi-table),
// UPDATE, DELETE, MERGE, COPY INTO, and the table references they read.

// reservedVerbs are Snowflake reserved words that start a write, DDL or DCL
// statement. They cannot be bare identifiers, so one inside a query means
// the query is not what it seems.
var reservedVerbs = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true, "DROP": true,
	"ALTER": true, "GRANT": true, "REVOKE": true,
}

// clauseEnds end a FROM list.
var clauseEnds = map[string]bool{
	"WHERE": true, "GROUP": true, "HAVING": true, "QUALIFY": true, "ORDER": true, "LIMIT": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "MINUS": true, "WINDOW": true, "SET": true,
	"WHEN": true, "SELECT": true, "FETCH": true, "OFFSET": true, "VALUES": true, "FILE_FORMAT": true,
	"PATTERN": true, "FILES": true, "START": true, "CONNECT": true,
}

// skipParens returns the index just after the parenthesis group opening at
// toks[i], or len(toks) when it does not close.
func skipParens(toks []Token, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch {
		case toks[i].isOp("(") || toks[i].isOp("[") || toks[i].isOp("{"):
			depth++
		case toks[i].isOp(")") || toks[i].isOp("]") || toks[i].isOp("}"):
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(toks)
}

// collectCTEs records the CTE names of every WITH in the statement.
func (c *classifier) collectCTEs() {
	t := c.toks
	for i := 0; i < len(t); i++ {
		if !t[i].is("WITH") {
			continue
		}
		j := i + 1
		if j < len(t) && t[j].is("RECURSIVE") {
			j++
		}
		for j < len(t) {
			v, ok := nameValue(t[j])
			if !ok {
				break
			}
			c.ctes[v] = true
			c.names[j] = true
			j++
			if j < len(t) && t[j].isOp("(") {
				j = skipParens(t, j)
			}
			if j >= len(t) || !t[j].is("AS") {
				break
			}
			j++
			if j < len(t) && t[j].isOp("(") {
				j = skipParens(t, j)
			}
			if j < len(t) && t[j].isOp(",") {
				j++
				continue
			}
			break
		}
	}
}

// mainVerb skips a leading WITH list and returns the index of the keyword
// that follows it.
func mainVerb(t []Token, i int) int {
	if i >= len(t) || !t[i].is("WITH") {
		return i
	}
	j := i + 1
	if j < len(t) && t[j].is("RECURSIVE") {
		j++
	}
	for j < len(t) {
		j++ // name
		if j < len(t) && t[j].isOp("(") {
			j = skipParens(t, j)
		}
		if j < len(t) && t[j].is("AS") {
			j++
		}
		if j < len(t) && t[j].isOp("(") {
			j = skipParens(t, j)
		} else {
			return j
		}
		if j < len(t) && t[j].isOp(",") {
			j++
			continue
		}
		return j
	}
	return j
}

// query classifies a statement that starts with SELECT, WITH, VALUES or a
// parenthesised query.
func (c *classifier) query(start int) {
	t := c.toks
	c.collectCTEs()
	if v := mainVerb(t, start); v < len(t) && v > start {
		switch {
		case t[v].is("INSERT"):
			c.insertAt(v)
			c.scanReads(start, v)
			c.withPrefix(start, v)
			return
		case t[v].is("UPDATE"):
			c.updateAt(v)
			c.scanReads(start, v)
			c.withPrefix(start, v)
			return
		case t[v].is("DELETE"):
			c.deleteAt(v)
			c.scanReads(start, v)
			c.withPrefix(start, v)
			return
		case t[v].is("MERGE"):
			c.mergeAt(v)
			c.scanReads(start, v)
			return
		case t[v].is("SELECT") || t[v].is("VALUES") || t[v].isOp("(") || t[v].is("FROM") || t[v].is("TABLE"):
		default:
			c.r.problem("WITH followed by %s", t[v].Value)
			return
		}
	}
	c.r.setKind(KindSelect)
	for k, tok := range t[start:] {
		if tok.Kind == TokIdent && reservedVerbs[tok.Value] && !(start+k+1 < len(t) && t[start+k+1].isOp("(") && tok.is("INSERT")) {
			c.r.setKind(KindUnknown)
			c.r.problem("%s inside a query", tok.Value)
			return
		}
	}
	if into := c.selectInto(start); into >= 0 {
		q, end, ok := parseName(t, into+1)
		if ok {
			c.markNames(into+1, end)
			c.r.setKind(KindCreate)
			c.r.add(q.object("table", AccessCreate, c.env))
		}
		c.r.problem("SELECT ... INTO a table is not Snowflake SQL")
	}
	c.scanReads(start, len(t))
	c.r.queries = append(c.r.queries, c.newQuery(start, len(t)))
}

// withPrefix puts the WITH list toks[from:to] in front of the queries
// registered for the statement after it, so the syntax tree sees the CTEs.
func (c *classifier) withPrefix(from, to int) {
	for k, q := range c.r.queries {
		if !q.synthetic && q.base < to {
			continue
		}
		toks := make([]Token, 0, to-from+len(q.toks))
		toks = append(toks, c.toks[from:to]...)
		toks = append(toks, q.toks...)
		refs := map[int]tableRef{}
		shift := func(i int, ref tableRef, by int) {
			if ref.end > 0 {
				ref.end += by
			}
			refs[i+by] = ref
		}
		for i, ref := range c.refs {
			switch {
			case i >= from && i < to:
				shift(i, ref, -from)
			case !q.synthetic && i >= q.base && i < q.base+len(q.toks):
				shift(i, ref, (to-from)-q.base)
			}
		}
		if q.synthetic {
			for i, ref := range q.refs {
				shift(i, ref, to-from)
			}
		}
		c.r.queries[k] = query{toks: toks, src: q.src, base: 0, refs: refs, synthetic: q.synthetic}
	}
}

// selectInto finds a top-level INTO (not INTO :variable) in a query.
func (c *classifier) selectInto(start int) int {
	t := c.toks
	depth := 0
	for i := start; i < len(t); i++ {
		switch {
		case t[i].isOp("("):
			depth++
		case t[i].isOp(")"):
			depth--
		case depth == 0 && t[i].is("INTO") && i+1 < len(t) && !t[i+1].isOp(":"):
			return i
		}
	}
	return -1
}

func (c *classifier) markNames(from, to int) {
	for k := from; k < to; k++ {
		c.names[k] = true
	}
}

// target reads the object name at toks[i] as a table with the given access.
func (c *classifier) target(i int, access Access) int {
	q, end, ok := parseName(c.toks, i)
	if !ok {
		c.r.problem("expected a table name at offset %d", c.pos(i))
		return i
	}
	c.markNames(i, end)
	c.last = q.object("table", access, c.env)
	c.r.add(c.last)
	if q.dynamic != "" {
		c.r.problem("table name comes from %s", q.dynamic)
	}
	return end
}

// pos returns the byte offset of token i, or -1 past the end.
func (c *classifier) pos(i int) int {
	if i < len(c.toks) {
		return c.toks[i].Pos
	}
	return -1
}

func (c *classifier) insert() {
	c.collectCTEs()
	c.insertAt(0)
}

// insertAt reads INSERT [OVERWRITE] INTO t ... and INSERT [OVERWRITE]
// ALL|FIRST ... INTO t1 ... INTO t2 ... SELECT.
func (c *classifier) insertAt(i int) {
	t := c.toks
	c.r.setKind(KindInsert)
	i++
	overwrite := false
	if i < len(t) && t[i].is("OVERWRITE") {
		overwrite = true
		i++
	}
	if i < len(t) && (t[i].is("ALL") || t[i].is("FIRST")) {
		for k := i + 1; k < len(t); k++ {
			if t[k].is("INTO") {
				c.target(k+1, AccessWrite)
				if overwrite {
					c.target(k+1, AccessDelete)
				}
			}
		}
		c.scanReads(i+1, len(t))
		c.r.queries = append(c.r.queries, c.subquery(i+1)...)
		return
	}
	if i >= len(t) || !(t[i].is("INTO") || overwrite && t[i].is("TABLE")) {
		c.r.problem("INSERT without INTO")
		return
	}
	end := c.target(i+1, AccessWrite)
	tbl := c.last
	if overwrite {
		c.target(i+1, AccessDelete)
	}
	if end < len(t) && t[end].isOp("(") && !(end+1 < len(t) && (t[end+1].is("SELECT") || t[end+1].is("WITH"))) {
		c.columnList(end, tbl)
	}
	c.scanReads(end, len(t))
	c.r.queries = append(c.r.queries, c.subquery(end)...)
}

// subquery returns the query that starts at the first SELECT/WITH at or
// after i at the outermost level, if any.
func (c *classifier) subquery(i int) []query {
	t := c.toks
	depth := 0
	for k := i; k < len(t); k++ {
		switch {
		case t[k].isOp("("):
			depth++
		case t[k].isOp(")"):
			depth--
		case depth <= 1 && (t[k].is("SELECT") || t[k].is("WITH")):
			end := len(t)
			if depth == 1 && k > 0 && t[k-1].isOp("(") {
				end = skipParens(t, k-1) - 1
			}
			return []query{c.newQuery(k, end)}
		}
	}
	return nil
}

func (c *classifier) update() {
	c.collectCTEs()
	c.updateAt(0)
}

func (c *classifier) updateAt(i int) {
	c.r.setKind(KindUpdate)
	end := c.target(i+1, AccessWrite)
	c.setColumns(end, c.last)
	c.whereFlags(end)
	c.scanReads(end, len(c.toks))
	if end > i+1 {
		c.updateQuery(i, end)
	}
}

func (c *classifier) deleteFrom() {
	c.collectCTEs()
	c.deleteAt(0)
}

func (c *classifier) deleteAt(i int) {
	t := c.toks
	c.r.setKind(KindDelete)
	i++
	if i < len(t) && t[i].is("FROM") {
		i++
	}
	end := c.target(i, AccessDelete)
	c.whereFlags(end)
	c.scanReads(end, len(t))
	if end > i {
		c.deleteQuery(i, end)
	}
}

// columnList records the columns of "(a, b, c)" at toks[i] as written.
func (c *classifier) columnList(i int, tbl Object) {
	t := c.toks
	end := skipParens(t, i)
	for k := i + 1; k < end-1; k++ {
		if v, ok := nameValue(t[k]); ok && (t[k+1].isOp(",") || t[k+1].isOp(")")) {
			c.r.written = addColumns(c.r.written, Column{Database: tbl.Database, Schema: tbl.Schema, Table: tbl.Name, Name: v})
		}
	}
}

// setColumns records the columns assigned by the SET clause at or after
// toks[i] (up to FROM, WHERE or WHEN) as written.
func (c *classifier) setColumns(i int, tbl Object) {
	t := c.toks
	for i < len(t) && !t[i].is("SET") {
		i++
	}
	depth := 0
	expect := true
	for k := i + 1; k < len(t); k++ {
		switch {
		case t[k].isOp("("):
			depth++
		case t[k].isOp(")"):
			depth--
		case depth == 0 && (t[k].is("FROM") || t[k].is("WHERE") || t[k].is("WHEN")):
			return
		case depth == 0 && t[k].isOp(","):
			expect = true
			continue
		case depth == 0 && expect:
			q, end, ok := parseName(t, k)
			if ok && end < len(t) && t[end].isOp("=") {
				c.r.written = addColumns(c.r.written, Column{Database: tbl.Database, Schema: tbl.Schema, Table: tbl.Name, Name: q.parts[len(q.parts)-1]})
				c.markNames(k, end)
				k = end
			}
		}
		expect = false
	}
}

// whereFlags records whether a top-level WHERE exists and whether it is
// literally always true.
func (c *classifier) whereFlags(from int) {
	t := c.toks
	depth := 0
	for i := from; i < len(t); i++ {
		switch {
		case t[i].isOp("("):
			depth++
		case t[i].isOp(")"):
			depth--
		case depth == 0 && t[i].is("WHERE"):
			c.r.where = true
			c.r.whereTrue = literallyTrue(t[i+1:])
			return
		}
	}
	c.r.flags.NoWhere = true
}

// literallyTrue recognises WHERE TRUE, WHERE 1=1, WHERE 'a'='a', WHERE x=x,
// and any of them OR-ed with anything.
func literallyTrue(t []Token) bool {
	for i := 0; i < len(t); i++ {
		if i > 0 && !t[i-1].is("OR") && !t[i-1].isOp("(") {
			continue
		}
		if t[i].is("TRUE") && (i+1 == len(t) || t[i+1].is("OR") || t[i+1].isOp(")")) {
			return true
		}
		if i+2 < len(t) && t[i+1].isOp("=") && t[i].Kind != TokOp && t[i].Kind == t[i+2].Kind && t[i].Value == t[i+2].Value &&
			(i+3 == len(t) || t[i+3].is("OR") || t[i+3].isOp(")")) {
			return true
		}
	}
	return false
}

func (c *classifier) merge() {
	c.collectCTEs()
	c.mergeAt(0)
}

func (c *classifier) mergeAt(i int) {
	t := c.toks
	c.r.setKind(KindMerge)
	i++
	if i >= len(t) || !t[i].is("INTO") {
		c.r.problem("MERGE without INTO")
		return
	}
	end := c.target(i+1, AccessWrite)
	tbl := c.last
	for k := end; k+1 < len(t); k++ {
		switch {
		case t[k].is("THEN") && t[k+1].is("UPDATE"):
			c.setColumns(k+2, tbl)
		case t[k].is("THEN") && t[k+1].is("INSERT") && k+2 < len(t) && t[k+2].isOp("("):
			c.columnList(k+2, tbl)
		}
	}
	for k := end; k+1 < len(t); k++ {
		if t[k].is("THEN") && t[k+1].is("DELETE") {
			c.target(i+1, AccessDelete)
			break
		}
	}
	c.scanReads(end, len(t))
}

// copyInto reads COPY INTO <table|@stage|'location'> FROM <...>.
func (c *classifier) copyInto() {
	t := c.toks
	c.r.setKind(KindCopy)
	if len(t) < 3 || !t[1].is("INTO") {
		c.r.problem("COPY without INTO")
		return
	}
	i := 2
	unload := false
	switch tgt := t[i]; tgt.Kind {
	case TokStage:
		unload = true
		c.r.add(stageObject(tgt, AccessWrite, c.env))
		i++
	case TokString:
		unload = true
		c.location(tgt, AccessWrite)
		i++
	default:
		i = c.target(i, AccessWrite)
		if i < len(t) && t[i].isOp("(") {
			i = skipParens(t, i)
		}
	}
	if i >= len(t) || !t[i].is("FROM") {
		if unload {
			c.r.problem("COPY INTO a location without FROM")
			return
		}
		// loads from the table's own stage
		if q, _, ok := parseName(t, 2); ok {
			o := q.object("table", AccessRead, c.env)
			o.Type = "table_stage"
			c.r.add(o)
		}
		return
	}
	i++
	if i >= len(t) {
		c.r.problem("COPY INTO without a source")
		return
	}
	switch src := t[i]; {
	case src.Kind == TokStage:
		c.r.add(stageObject(src, AccessRead, c.env))
	case src.Kind == TokString:
		c.location(src, AccessRead)
	case src.isOp("("):
		end := skipParens(t, i)
		c.scanReads(i+1, end-1)
		c.r.queries = append(c.r.queries, c.newQuery(i+1, end-1))
	default:
		if !unload {
			c.r.problem("COPY INTO a table from %s", src.Value)
		}
		c.target(i, AccessRead)
	}
	for k := i; k < len(t); k++ {
		if t[k].Kind == TokString && isURL(t[k].Value) {
			c.r.flags.ExternalLocation = true
		}
	}
}

// location records a quoted external location.
func (c *classifier) location(t Token, access Access) {
	if isURL(t.Value) {
		c.r.flags.ExternalLocation = true
	}
	c.r.add(Object{Type: "location", Name: t.Value, Access: access})
}

// scanReads adds a read for every table referenced in FROM, JOIN and USING
// between toks[from] and toks[to], skipping CTE names and FROM inside
// function calls (EXTRACT(x FROM y)).
func (c *classifier) scanReads(from, to int) {
	t := c.toks
	var stack []bool // per open parenthesis: true when it is a call's
	listDepth := -1  // depth of the FROM list being read, -1 when none
	for i := from; i < to; i++ {
		tok := t[i]
		switch {
		case tok.isOp("(") || tok.isOp("[") || tok.isOp("{"):
			stack = append(stack, c.isCall(i))
			continue
		case tok.isOp(")") || tok.isOp("]") || tok.isOp("}"):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if len(stack) < listDepth {
				listDepth = -1
			}
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1] {
			continue
		}
		switch {
		case tok.is("FROM") && !(i > 0 && t[i-1].is("DISTINCT")), tok.is("JOIN"),
			tok.is("USING") && i+1 < to && !t[i+1].isOp("("):
			listDepth = len(stack)
			i = c.factor(i+1, to)
		case tok.isOp(",") && listDepth == len(stack):
			i = c.factor(i+1, to)
		case tok.Kind == TokIdent && clauseEnds[tok.Value] && listDepth == len(stack):
			listDepth = -1
		}
	}
}

// isCall reports whether the parenthesis at toks[i] opens a function call.
func (c *classifier) isCall(i int) bool {
	if i == 0 {
		return false
	}
	p := c.toks[i-1]
	switch p.Kind {
	case TokQuotedIdent:
		return true
	case TokIdent:
		return !notFunction[p.Value] || p.Value == "TABLE"
	}
	return false
}

// factor reads one table factor starting at toks[i] and returns the index
// of its last token (the caller's loop advances past it).
func (c *classifier) factor(i, to int) int {
	t := c.toks
	for i < to && (t[i].is("LATERAL") || t[i].is("ONLY")) {
		i++
	}
	if i >= to {
		return i - 1
	}
	tok := t[i]
	switch {
	case tok.is("TABLE") && i+1 < to && t[i+1].isOp("("):
		if i+3 < to && t[i+3].isOp(")") { // TABLE('db.s.t'), TABLE($v): a table by name
			arg := t[i+2]
			var q qname
			switch arg.Kind {
			case TokString, TokDollarString:
				n, ok := nameFromText(arg.Value)
				if !ok {
					c.r.problem("TABLE(%q) is not a table name", arg.Value)
					return i + 3
				}
				q = n
			case TokVariable:
				q.dynamic = arg.Value
			default:
				c.refs[i] = tableRef{fn: true}
				return i - 1
			}
			c.markNames(i, i+4)
			c.refs[i] = tableRef{end: i + 4, name: q}
			c.r.add(q.object("table", AccessRead, c.env))
			if q.dynamic != "" {
				c.r.flags.DynamicSQL = true
				c.r.problem("table name comes from %s", q.dynamic)
			}
			return i + 3
		}
		c.refs[i] = tableRef{fn: true}
		return i - 1
	case tok.isOp("(") || tok.is("VALUES"):
		return i - 1
	case tok.Kind == TokStage:
		o := stageObject(tok, AccessRead, c.env)
		c.r.add(o)
		c.refs[i] = tableRef{end: i + 1, stage: &o}
		return i
	case tok.Kind == TokString:
		c.location(tok, AccessRead)
		return i
	case tok.Kind == TokVariable && tok.Value[1] >= '0' && tok.Value[1] <= '9':
		c.refs[i] = tableRef{end: i + 1, result: true}
		return i
	}
	q, end, ok := parseName(t, i)
	if !ok {
		return i - 1
	}
	if end < to && t[end].isOp("(") { // table function: FLATTEN(...), GENERATOR(...)
		c.refs[i] = tableRef{fn: true}
		return i - 1 + (end - i)
	}
	c.markNames(i, end)
	c.refs[i] = tableRef{end: end, name: q}
	if len(q.parts) == 1 && q.dynamic == "" && c.ctes[q.parts[0]] {
		return end - 1
	}
	c.r.add(q.object("table", AccessRead, c.env))
	if q.dynamic != "" {
		c.r.problem("table name comes from %s", q.dynamic)
	}
	return end - 1
}
