package statement

// The syntax-tree reading of UPDATE and DELETE. TiDB's grammar has neither
// Snowflake's UPDATE ... FROM nor DELETE ... USING, so the classifier, which
// knows the clause boundaries, rewrites the statement into the query that
// reads the same rows and computes the same values:
//
//	UPDATE t a SET x = e1, y = e2 FROM s WHERE c  ->  SELECT e1, e2 FROM t a, s WHERE c
//	DELETE FROM t a USING s WHERE c                ->  SELECT 1 FROM t a, s WHERE c
//
// The tree then confirms the tables and yields the columns read and
// filtered.

// synth builds token sequences, keeping table references re-indexed.
type synth struct {
	c    *classifier
	toks []Token
	refs map[int]tableRef
}

func (s *synth) word(v string, pos int) {
	s.toks = append(s.toks, Token{Kind: TokIdent, Value: v, Pos: pos, End: pos})
}

func (s *synth) op(v string, pos int) {
	s.toks = append(s.toks, Token{Kind: TokOp, Value: v, Pos: pos, End: pos})
}

func (s *synth) number(v string, pos int) {
	s.toks = append(s.toks, Token{Kind: TokNumber, Value: v, Pos: pos, End: pos})
}

// copy appends the statement's tokens [from, to) with their references.
func (s *synth) copy(from, to int) {
	for k := from; k < to; k++ {
		if ref, ok := s.c.refs[k]; ok {
			if ref.end > 0 {
				ref.end = ref.end - k + len(s.toks)
			}
			s.refs[len(s.toks)] = ref
		}
		s.toks = append(s.toks, s.c.toks[k])
	}
}

// table appends the target table name at [from, end) and its alias, up to
// stop, registering the name as a table reference.
func (s *synth) table(from, end, stop int) {
	q, _, ok := parseName(s.c.toks, from)
	if !ok {
		return
	}
	s.refs[len(s.toks)] = tableRef{end: len(s.toks) + (end - from), name: q}
	s.toks = append(s.toks, s.c.toks[from:end]...)
	s.copy(end, stop)
}

func (s *synth) query() query {
	return query{toks: s.toks, src: s.c.src, refs: s.refs, synthetic: true}
}

// clauseAt finds the first top-level keyword among words at or after from.
func (c *classifier) clauseAt(from int, words ...string) int {
	depth := 0
	for k := from; k < len(c.toks); k++ {
		t := c.toks[k]
		switch {
		case t.isOp("("):
			depth++
		case t.isOp(")"):
			depth--
		case depth == 0 && t.Kind == TokIdent:
			for _, w := range words {
				if t.Value == w {
					return k
				}
			}
		}
	}
	return len(c.toks)
}

// updateQuery registers the query an UPDATE at toks[i] amounts to.
func (c *classifier) updateQuery(i, nameEnd int) {
	t := c.toks
	set := c.clauseAt(nameEnd, "SET")
	if set >= len(t) {
		return
	}
	from := c.clauseAt(set, "FROM", "WHERE")
	where := c.clauseAt(set, "WHERE")
	s := &synth{c: c, refs: map[int]tableRef{}}
	s.word("SELECT", t[i].Pos)
	// each "col = expr" contributes expr
	depth, start := 0, set+1
	emitted := 0
	flush := func(end int) {
		for k := start; k < end; k++ {
			if t[k].isOp("=") {
				if emitted > 0 {
					s.op(",", t[k].Pos)
				}
				s.copy(k+1, end)
				emitted++
				return
			}
		}
	}
	for k := set + 1; k < from; k++ {
		switch {
		case t[k].isOp("("):
			depth++
		case t[k].isOp(")"):
			depth--
		case t[k].isOp(",") && depth == 0:
			flush(k)
			start = k + 1
		}
	}
	flush(from)
	if emitted == 0 {
		s.number("1", t[i].Pos)
	}
	s.word("FROM", t[i].Pos)
	if early := c.clauseAt(nameEnd, "FROM", "SET"); early < set { // UPDATE t a FROM s SET ...
		s.table(i+1, nameEnd, early)
		s.op(",", t[early].Pos)
		s.copy(early+1, set)
	} else {
		s.table(i+1, nameEnd, set)
	}
	if from < len(t) && t[from].is("FROM") {
		s.op(",", t[from].Pos)
		s.copy(from+1, where)
	}
	s.copy(where, len(t))
	c.r.queries = append(c.r.queries, s.query())
}

// deleteQuery registers the query a DELETE FROM at toks[i] amounts to.
func (c *classifier) deleteQuery(nameAt, nameEnd int) {
	t := c.toks
	using := c.clauseAt(nameEnd, "USING", "WHERE")
	where := c.clauseAt(nameEnd, "WHERE")
	s := &synth{c: c, refs: map[int]tableRef{}}
	s.word("SELECT", t[nameAt].Pos)
	s.number("1", t[nameAt].Pos)
	s.word("FROM", t[nameAt].Pos)
	s.table(nameAt, nameEnd, using)
	if using < len(t) && t[using].is("USING") {
		s.op(",", t[using].Pos)
		s.copy(using+1, where)
	}
	s.copy(where, len(t))
	c.r.queries = append(c.r.queries, s.query())
}

// mergeQuery registers the query a MERGE amounts to: the values it writes
// and the conditions of its WHEN clauses, over the target joined with the
// source on the merge condition.
//
//	MERGE INTO t a USING s b ON c WHEN MATCHED AND d THEN UPDATE SET x = e
//	WHEN NOT MATCHED THEN INSERT (x) VALUES (f)
//	  ->  SELECT d, e, f FROM t a JOIN s b ON c
func (c *classifier) mergeQuery(nameAt, nameEnd int) {
	t := c.toks
	using := c.clauseAt(nameEnd, "USING")
	on := c.clauseAt(using, "ON")
	when := c.clauseAt(on, "WHEN")
	if using >= len(t) || on >= len(t) {
		return
	}
	s := &synth{c: c, refs: map[int]tableRef{}}
	s.word("SELECT", t[nameAt].Pos)
	items := 0
	item := func(from, to int) {
		if from >= to {
			return
		}
		if items > 0 {
			s.op(",", t[from].Pos)
		}
		s.copy(from, to)
		items++
	}
	for w := when; w < len(t); {
		next := c.clauseAt(w+1, "WHEN")
		then := c.clauseAt(w, "THEN")
		if then > next {
			then = next
		}
		for k := w; k < then; k++ {
			if t[k].is("AND") {
				item(k+1, then)
				break
			}
		}
		switch {
		case then+1 < next && t[then+1].is("UPDATE"):
			depth, start := 0, then+3 // after UPDATE SET
			for k := start; k <= next; k++ {
				if k < next && t[k].isOp("(") {
					depth++
				} else if k < next && t[k].isOp(")") {
					depth--
				}
				if k == next || t[k].isOp(",") && depth == 0 {
					for e := start; e < k; e++ {
						if t[e].isOp("=") {
							item(e+1, k)
							break
						}
					}
					start = k + 1
				}
			}
		case then+1 < next && t[then+1].is("INSERT"):
			v := c.clauseAt(then+1, "VALUES")
			if v < next && v+1 < len(t) && t[v+1].isOp("(") {
				item(v+2, skipParens(t, v+1)-1)
			}
		}
		w = next
	}
	if items == 0 {
		s.number("1", t[nameAt].Pos)
	}
	s.word("FROM", t[nameAt].Pos)
	s.table(nameAt, nameEnd, using)
	s.word("JOIN", t[using].Pos)
	s.copy(using+1, when)
	c.r.queries = append(c.r.queries, s.query())
}
