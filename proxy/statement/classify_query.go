package statement

// Queries: SELECT/WITH, CTE names, and the table references a statement reads.

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
			c.withPrefix(start, v)
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
	if into := c.selectInto(start); into >= 0 && into+1 < len(t) && t[into+1].isOp(":") {
		if c.nest == 0 {
			c.r.problem("SELECT ... INTO a variable outside a scripting block")
		}
	} else if into >= 0 {
		q, end, ok := parseName(t, into+1)
		if ok {
			c.markNames(into+1, end)
			c.r.setKind(KindCreate)
			c.r.add(q.object("table", AccessCreate, c.env))
		}
		c.r.problem("SELECT ... INTO a table is not Snowflake SQL")
	}
	c.scanReads(start, len(t))
	c.r.where, c.r.whereTrue = c.hasWhere(start) // the tree reading refines these
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

// selectInto finds a top-level INTO in a query.
func (c *classifier) selectInto(start int) int {
	t := c.toks
	depth := 0
	for i := start; i < len(t); i++ {
		switch {
		case t[i].isOp("("):
			depth++
		case t[i].isOp(")"):
			depth--
		case depth == 0 && t[i].is("INTO"):
			return i
		}
	}
	return -1
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
