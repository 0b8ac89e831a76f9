package statement

// Queries and data manipulation: SELECT/WITH, INSERT (incl. multi-table),
// UPDATE, DELETE, MERGE, COPY INTO, and the table references they read.

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
					c.r.effect(EffectRowsReplaced, c.last, false, "INSERT OVERWRITE truncates the table first")
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
		c.r.effect(EffectRowsReplaced, tbl, false, "INSERT OVERWRITE truncates the table first")
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
	tbl := c.last
	c.setColumns(end, tbl)
	c.whereFlags(end)
	c.r.effect(EffectRowsReplaced, tbl, c.r.where && !c.r.whereTrue, "UPDATE")
	c.estimateCandidate(KindUpdate, i, i+1, end)
	c.scanReads(end, len(c.toks))
	if end > i+1 {
		c.updateQuery(i, end)
		c.boundBy(len(c.r.effects))
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
	c.r.effect(EffectRowsRemoved, c.last, c.r.where && !c.r.whereTrue, "DELETE")
	if i == 2 && t[1].is("FROM") {
		c.estimateCandidate(KindDelete, 0, i, end)
	}
	c.scanReads(end, len(t))
	if end > i {
		c.deleteQuery(i, end)
		c.boundBy(len(c.r.effects))
	}
}

// columnList records the columns of "(a, b, c)" at toks[i] as written.
func (c *classifier) columnList(i int, tbl Object) {
	t := c.toks
	end := skipParens(t, i)
	for k := i + 1; k < end-1; k++ {
		if v, ok := nameValue(t[k]); ok && (t[k+1].isOp(",") || t[k+1].isOp(")")) {
			c.r.written.add(Column{Database: tbl.Database, Schema: tbl.Schema, Table: tbl.Name, Name: v})
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
				c.r.written.add(Column{Database: tbl.Database, Schema: tbl.Schema, Table: tbl.Name, Name: q.parts[len(q.parts)-1]})
				c.markNames(k, end)
				k = end
			}
		}
		expect = false
	}
}

// hasWhere reports whether the statement from toks[from] has a top-level
// WHERE.
func (c *classifier) hasWhere(from int) (bool, bool) {
	t := c.toks
	depth := 0
	for i := from; i < len(t); i++ {
		switch {
		case t[i].isOp("("):
			depth++
		case t[i].isOp(")"):
			depth--
		case depth == 0 && t[i].is("WHERE"):
			return true, literallyTrue(t[i+1:])
		}
	}
	return false, false
}

// whereFlags records whether a top-level WHERE exists and whether it is
// literally always true.
func (c *classifier) whereFlags(from int) {
	c.r.where, c.r.whereTrue = c.hasWhere(from)
	c.r.flags.NoWhere = !c.r.where
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
	c.mergeEffects(tbl, end)
	c.scanReads(end, len(t))
	if end > i+1 {
		c.mergeQuery(i+1, end)
	}
}

// copyInto reads COPY INTO <table|@stage|'location'> FROM <...>.
func (c *classifier) copyInto() {
	t := c.toks
	c.r.setKind(KindCopy)
	into := 1
	if len(t) > 3 && t[1].is("FILES") { // COPY FILES INTO @a FROM @b
		into = 2
	}
	if len(t) < into+2 || !t[into].is("INTO") {
		c.r.problem("COPY without INTO")
		return
	}
	i := into + 1
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
		if q, _, ok := parseName(t, into+1); ok {
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
	c.copyEffects()
}

// location records a quoted external location.
func (c *classifier) location(t Token, access Access) {
	if isURL(t.Value) {
		c.r.flags.ExternalLocation = true
	}
	c.r.add(Object{Type: "location", Name: t.Value, Access: access})
}
