package statement

import "context"

// Derived data: what a write carries from the columns it reads into the
// tables and views it creates or fills, so that a column's classification
// can follow its copies. The classifier's tokens give the target and its
// column list; the syntax tree's lineage of the statement's query gives
// each written value's sources.
//
//	CREATE [OR REPLACE] TABLE|VIEW t [(a, b)] ... AS <query>
//	INSERT [OVERWRITE] INTO t [(a, b)] <query>   (no list: the catalog's columns, in order)
//	INSERT ALL|FIRST INTO t1 ... INTO t2 ... <query>
//	UPDATE t SET a = e ... [FROM ...]
//	MERGE INTO t USING s ON ... THEN UPDATE SET a = e ... THEN INSERT [(a)] VALUES (e)
//	COPY INTO t [(a, b)] FROM (<query>)
//	CREATE TABLE|SCHEMA|DATABASE t CLONE s, ALTER ... s RENAME TO t, ALTER ... a SWAP WITH b
//	ALTER TABLE t RENAME COLUMN a TO b

// Derivation is the data one statement writes into one object.
type Derivation struct {
	// Target is the table or view written (a schema or database for their
	// clones, renames and swaps).
	Target Object `json:"target"`
	// Columns are the target's columns that receive values, each with the
	// columns those values come from. With ByPosition they are the target's
	// columns in order and their names are the analyser's reading of them
	// (the catalog's names of the target, in the same order, win).
	Columns []DerivedColumn `json:"columns"`
	// ByPosition says the values fill the target's columns by position: a
	// created table or view without a column list, an INSERT without one.
	ByPosition bool `json:"by_position"`
	// AnyColumn says which target column takes which value is unknown
	// (a multi-table INSERT, a column list the values do not match): any
	// column of the target may carry any of the sources in Columns.
	AnyColumn bool `json:"any_column"`
	// Source, for CLONE, RENAME and SWAP, is the object whose every column
	// carries over, by name, into Target.
	Source *Object `json:"source,omitempty"`
	// Reads are the tables and views the statement reads: a column whose
	// lineage is untraced may carry any of their columns.
	Reads []Object `json:"reads"`

	query int   // 1 + the index of the query whose outputs are the values, 0 for none
	slots []int // per output of that query, the index in Columns it fills, -1 for none
	named bool  // ByPosition without Columns: the query's output names are the target's
}

// DerivedColumn is one written column and where its values come from.
type DerivedColumn struct {
	Name      string    `json:"name"`
	Sources   []Column  `json:"sources"`
	Transform Transform `json:"transform"`
	// Traced is false when the value's sources could not be determined;
	// it may then carry any column of the derivation's Reads.
	Traced bool `json:"traced"`
}

// deriver reads the targets and column lists of a write from its tokens.
type deriver struct {
	ctx  context.Context
	t    []Token
	env  Env
	r    *reading
	out  []Derivation
	read []Object
}

// derivations lists what the statement writes where, before the syntax
// tree's reading fills in the values' sources (fillDerived).
func derivations(ctx context.Context, toks []Token, r *reading, env Env) []Derivation {
	if len(toks) == 0 {
		return []Derivation{}
	}
	segs := pipeSegments(toks)
	block := toks[0].Kind == TokIdent && (r.flags.Scripting || toks[0].Value == "EXECUTE")
	if segs == nil && !block && !(toks[0].Kind == TokIdent && writeVerbs[toks[0].Value]) {
		return []Derivation{}
	}
	d := &deriver{ctx: ctx, t: toks, env: env, r: r, read: []Object{}}
	for _, o := range r.objects {
		if o.Access == AccessRead && (o.Type == "table" || o.Type == "view") {
			o.Access = ""
			d.read = append(d.read, o)
		}
	}
	switch {
	case block:
		// A scripting block or EXECUTE IMMEDIATE: the statements inside
		// are not read one by one here, so every table or view it creates
		// or writes may carry any column it reads.
		for _, o := range r.objects {
			if (o.Access == AccessCreate || o.Access == AccessWrite) && (o.Type == "table" || o.Type == "view") {
				sub := &deriver{ctx: ctx, t: toks, env: env, r: &reading{}, read: d.read}
				sub.add(o, nil, false, nil)
				d.out = append(d.out, sub.out...)
			}
		}
	case segs == nil:
		d.dispatch()
	default:
		// A pipe (->>) writes what an earlier statement returned: its
		// values are untraced and may carry any column the pipe reads.
		for _, seg := range segs {
			sub := &deriver{ctx: ctx, t: seg, env: env, r: &reading{}, read: d.read}
			if len(seg) > 0 && writeVerbs[seg[0].Value] {
				sub.dispatch()
			}
			d.out = append(d.out, sub.out...)
		}
	}
	if d.out == nil {
		return []Derivation{}
	}
	return d.out
}

func (d *deriver) dispatch() {
	switch d.t[0].Value {
	case "CREATE":
		d.create()
	case "INSERT":
		d.insert()
	case "UPDATE":
		d.update()
	case "MERGE":
		d.merge()
	case "COPY":
		d.copyInto()
	case "ALTER":
		d.alter()
	}
}

// writeVerbs start the statements that can derive data.
var writeVerbs = map[string]bool{"CREATE": true, "INSERT": true, "UPDATE": true, "MERGE": true, "COPY": true, "ALTER": true}

// fillDerived gives the derivations fed by query qi their values' lineage.
func fillDerived(st *Statement, qi int, outs []relCol) {
	for i := range st.Derived {
		dv := &st.Derived[i]
		if dv.query != qi+1 {
			continue
		}
		switch {
		case dv.AnyColumn:
			dv.anyColumn(outs)
		case dv.ByPosition && len(dv.Columns) == 0:
			for _, o := range outs {
				name := ""
				if dv.named {
					name = o.name
				}
				dv.Columns = append(dv.Columns, DerivedColumn{Name: name, Sources: nonNil(o.sources), Transform: o.transform, Traced: o.traced})
			}
		case dv.ByPosition && len(dv.Columns) == len(outs):
			for k, o := range outs {
				c := &dv.Columns[k]
				c.Sources, c.Transform, c.Traced = nonNil(o.sources), o.transform, o.traced
			}
		case !dv.ByPosition && len(dv.slots) == len(outs):
			for k, o := range outs {
				if s := dv.slots[k]; s >= 0 && s < len(dv.Columns) {
					c := &dv.Columns[s]
					c.Sources = addColumns(c.Sources, o.sources...)
					c.Transform = strongerTransform(c.Transform, o.transform)
					c.Traced = c.Traced && o.traced
				}
			}
		default:
			dv.anyColumn(outs)
		}
		dv.query, dv.slots = 0, nil
	}
}

// anyColumn folds every value into one column entry: any column of the
// target may carry any of them.
func (dv *Derivation) anyColumn(outs []relCol) {
	all := DerivedColumn{Sources: []Column{}, Transform: TransformCopy, Traced: true}
	for _, c := range dv.Columns {
		if c.Traced && len(c.Sources) > 0 {
			all.Sources = addColumns(all.Sources, c.Sources...)
			all.Transform = strongerTransform(all.Transform, c.Transform)
		}
	}
	for _, o := range outs {
		all.Sources = addColumns(all.Sources, o.sources...)
		all.Transform = strongerTransform(all.Transform, o.transform)
		all.Traced = all.Traced && o.traced
	}
	dv.AnyColumn, dv.ByPosition = true, false
	dv.Columns = []DerivedColumn{all}
	dv.query, dv.slots = 0, nil
}

func strongerTransform(a, b Transform) Transform {
	rank := map[Transform]int{TransformCopy: 0, TransformExpression: 1, TransformAggregate: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func nonNil(cs []Column) []Column {
	if cs == nil {
		return []Column{}
	}
	return cs
}

// add records a derivation fed by the statement's query. names and slots
// say which value fills which column (slots[k] is the column that value k
// fills); with byPosition the values fill names, or the target's columns
// as they come out of the query when names is nil, in order.
func (d *deriver) add(target Object, names []string, byPosition bool, slots []int) *Derivation {
	target.Access = ""
	dv := Derivation{Target: target, ByPosition: byPosition, Reads: d.read, Columns: []DerivedColumn{}, slots: slots}
	for _, n := range names {
		dv.Columns = append(dv.Columns, DerivedColumn{Name: n, Sources: []Column{}, Transform: TransformCopy, Traced: true})
	}
	switch len(d.r.queries) {
	case 0:
		// Values without a query (INSERT ... VALUES) are literals, unless
		// the statement reads a table (a subquery among the values), whose
		// columns may then land anywhere.
		if len(d.read) == 0 {
			return nil
		}
		dv.anyColumn(nil)
		dv.Columns[0].Traced, dv.Columns[0].Transform = false, TransformExpression
	case 1:
		dv.query = 1
	default:
		// Several queries: every value of each may land anywhere.
		for qi := range d.r.queries {
			cp := dv
			cp.AnyColumn, cp.query = true, qi+1
			d.out = append(d.out, cp)
		}
		return &d.out[len(d.out)-1]
	}
	d.out = append(d.out, dv)
	return &d.out[len(d.out)-1]
}

// name reads an object name at t[i] as typ.
func (d *deriver) name(i int, typ string) (Object, int, bool) {
	q, end, ok := parseName(d.t, i)
	if !ok || q.dynamic != "" {
		return Object{}, i, false
	}
	o := q.object(typ, "", d.env)
	return o, end, true
}

// columnNames reads "(a, b INT, c COMMENT 'x')" at t[i]: the first name of
// each item. It returns the index after the list.
func (d *deriver) columnNames(i int) ([]string, int) {
	t := d.t
	end := skipParens(t, i)
	var names []string
	depth, first := 0, true
	for k := i + 1; k < end-1; k++ {
		switch {
		case t[k].isOp("(") || t[k].isOp("["):
			depth++
			continue
		case t[k].isOp(")") || t[k].isOp("]"):
			depth--
			continue
		case depth == 0 && t[k].isOp(","):
			first = true
			continue
		}
		if depth == 0 && first {
			first = false
			if t[k].Kind == TokIdent && constraintWords[t[k].Value] {
				continue
			}
			if v, ok := nameValue(t[k]); ok {
				names = append(names, v)
			}
		}
	}
	return names, end
}

// constraintWords start an out-of-line constraint in a column list.
var constraintWords = map[string]bool{"CONSTRAINT": true, "PRIMARY": true, "UNIQUE": true, "FOREIGN": true, "CHECK": true}

// catalogColumns asks the catalog for a table's columns, in order.
func (d *deriver) catalogColumns(o Object) []string {
	if d.env.Catalog == nil || o.Name == "" {
		return nil
	}
	cols, err := d.env.Catalog.Columns(d.ctx, o.Database, o.Schema, o.Name)
	if err != nil {
		return nil
	}
	return cols
}

// positional maps n values onto the target's columns in order: slot k
// fills column k.
func positional(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// listSlots maps the values onto a written column list: value k fills
// column k, when there are as many of each.
func listSlots(names []string) []int { return positional(len(names)) }

// isQueryStart reports whether a query starts at t[i].
func isQueryStart(t []Token, i int) bool {
	if i >= len(t) {
		return false
	}
	if t[i].is("SELECT") || t[i].is("WITH") || t[i].is("VALUES") || t[i].is("FROM") || t[i].is("TABLE") {
		return true
	}
	return t[i].isOp("(") && isQueryStart(t, i+1)
}

func (d *deriver) create() {
	t := d.t
	i := 1
	if i+1 < len(t) && t[i].is("OR") && (t[i+1].is("REPLACE") || t[i+1].is("ALTER")) {
		i += 2
	}
	for i < len(t) && t[i].Kind == TokIdent && createModifiers[t[i].Value] {
		if typ, _, ok := objectType(t, i); ok && typ != "table" {
			break
		}
		i++
	}
	typ, i, ok := objectType(t, i)
	if !ok || (typ != "table" && typ != "view" && typ != "schema" && typ != "database") {
		return
	}
	i = skipIfExists(t, i)
	target, end, ok := d.name(i, typ)
	if !ok {
		return
	}
	var names []string
	listed := false
	depth := 0
	for k := end; k < len(t); k++ {
		switch {
		case t[k].isOp("("):
			if depth == 0 && k == end && !isQueryStart(t, k) {
				names, _ = d.columnNames(k)
				listed = true
			}
			depth++
			continue
		case t[k].isOp(")"):
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		switch {
		case t[k].is("CLONE"):
			if src, _, ok := d.name(k+1, typ); ok {
				d.whole(target, src)
			}
			return
		case t[k].is("LIKE"), t[k].is("USING") && typ == "table": // structure only; USING TEMPLATE reads a file
			return
		case t[k].is("AS") && isQueryStart(t, k+1):
			if typ != "table" && typ != "view" {
				return
			}
			if listed {
				d.add(target, names, false, listSlots(names))
			} else if dv := d.add(target, nil, true, nil); dv != nil {
				dv.named = true
			}
			return
		}
	}
}

// whole records that every column of src carries over into target.
func (d *deriver) whole(target, src Object) {
	target.Access, src.Access = "", ""
	s := src
	d.out = append(d.out, Derivation{Target: target, Columns: []DerivedColumn{}, Source: &s, Reads: d.read})
}

func (d *deriver) insert() {
	t := d.t
	i := 1
	overwrite := false
	if i < len(t) && t[i].is("OVERWRITE") {
		overwrite = true
		i++
	}
	if i < len(t) && (t[i].is("ALL") || t[i].is("FIRST")) {
		for k := i + 1; k < len(t); k++ {
			if t[k].is("INTO") {
				if o, _, ok := d.name(k+1, "table"); ok {
					if dv := d.add(o, nil, false, nil); dv != nil {
						dv.AnyColumn = true
					}
				}
			}
		}
		return
	}
	if i >= len(t) || !(t[i].is("INTO") || overwrite && t[i].is("TABLE")) {
		return
	}
	target, end, ok := d.name(i+1, "table")
	if !ok {
		return
	}
	d.values(target, end)
}

// values reads the optional column list at t[end] of a write whose values
// come from the statement's query.
func (d *deriver) values(target Object, end int) {
	t := d.t
	if end < len(t) && t[end].isOp("(") && !isQueryStart(t, end) {
		names, _ := d.columnNames(end)
		d.add(target, names, false, listSlots(names))
		return
	}
	d.add(target, d.catalogColumns(target), true, nil)
}

func (d *deriver) copyInto() {
	t := d.t
	if len(t) < 3 || !t[1].is("INTO") || t[2].Kind == TokStage || t[2].Kind == TokString {
		return
	}
	target, end, ok := d.name(2, "table")
	if !ok {
		return
	}
	if len(d.r.queries) == 0 {
		return // from a stage or location: nothing the gateway classified
	}
	d.values(target, end)
}

// topLevel finds the first keyword among words at depth 0 at or after from.
func topLevel(t []Token, from int, words ...string) int {
	depth := 0
	for k := from; k < len(t); k++ {
		switch {
		case t[k].isOp("("):
			depth++
		case t[k].isOp(")"):
			depth--
		case depth == 0 && t[k].Kind == TokIdent:
			for _, w := range words {
				if t[k].Value == w {
					return k
				}
			}
		}
	}
	return len(t)
}

// assignments reads "a = e, b = f" in t[from:to]: the assigned names, and
// whether every item was an assignment.
func assignments(t []Token, from, to int) ([]string, bool) {
	var names []string
	depth, start := 0, from
	ok := true
	flush := func(end int) {
		if end <= start {
			return
		}
		q, n, good := parseName(t, start)
		if !good || len(q.parts) == 0 || n >= end || !t[n].isOp("=") {
			ok = false
			return
		}
		names = append(names, q.parts[len(q.parts)-1])
	}
	for k := from; k < to; k++ {
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
	flush(to)
	return names, ok
}

func (d *deriver) update() {
	t := d.t
	target, end, ok := d.name(1, "table")
	if !ok {
		return
	}
	set := topLevel(t, end, "SET")
	if set >= len(t) {
		return
	}
	stop := topLevel(t, set, "FROM", "WHERE")
	names, good := assignments(t, set+1, stop)
	if !good || len(names) == 0 {
		if dv := d.add(target, nil, false, nil); dv != nil {
			dv.AnyColumn = true
		}
		return
	}
	d.add(target, names, false, listSlots(names))
}

// merge maps the values of the query the classifier assembles for a MERGE
// (see mergeQuery: WHEN conditions, UPDATE SET values and INSERT VALUES, in
// order) onto the target's columns.
func (d *deriver) merge() {
	t := d.t
	if len(t) < 3 || !t[1].is("INTO") {
		return
	}
	target, end, ok := d.name(2, "table")
	if !ok {
		return
	}
	using := topLevel(t, end, "USING")
	on := topLevel(t, using, "ON")
	when := topLevel(t, on, "WHEN")
	if using >= len(t) || on >= len(t) {
		return
	}
	var names []string
	var slots []int
	col := func(n string) {
		for k, x := range names {
			if x == n {
				slots = append(slots, k)
				return
			}
		}
		names = append(names, n)
		slots = append(slots, len(names)-1)
	}
	good := true
	var catalog []string
	for w := when; w < len(t); {
		next := topLevel(t, w+1, "WHEN")
		then := topLevel(t, w, "THEN")
		if then > next {
			then = next
		}
		for k := w; k < then; k++ {
			if t[k].is("AND") {
				if k+1 < then {
					slots = append(slots, -1)
				}
				break
			}
		}
		switch {
		case then+1 < next && t[then+1].is("UPDATE"):
			assigned, ok := assignments(t, then+3, next)
			good = good && ok
			for _, n := range assigned {
				col(n)
			}
		case then+1 < next && t[then+1].is("INSERT"):
			var listed []string
			if k := then + 2; k < next && t[k].isOp("(") {
				listed, _ = d.columnNames(k)
			} else {
				if catalog == nil {
					catalog = d.catalogColumns(target)
				}
				listed = catalog
			}
			v := topLevel(t, then+1, "VALUES")
			if v < next && v+1 < len(t) && t[v+1].isOp("(") {
				n := countItems(t, v+1)
				if n != len(listed) {
					good = false
				}
				for k := 0; k < n; k++ {
					if k < len(listed) {
						col(listed[k])
					} else {
						slots = append(slots, -1)
					}
				}
			}
		}
		w = next
	}
	if !good {
		if dv := d.add(target, nil, false, nil); dv != nil {
			dv.AnyColumn = true
		}
		return
	}
	if len(slots) == 0 {
		slots = []int{-1} // the assembled query selects 1
	}
	d.add(target, names, false, slots)
}

// countItems counts the comma-separated items of the parenthesis at t[i].
func countItems(t []Token, i int) int {
	end := skipParens(t, i)
	if end-i <= 2 {
		return 0
	}
	n, depth := 1, 0
	for k := i + 1; k < end-1; k++ {
		switch {
		case t[k].isOp("(") || t[k].isOp("[") || t[k].isOp("{"):
			depth++
		case t[k].isOp(")") || t[k].isOp("]") || t[k].isOp("}"):
			depth--
		case t[k].isOp(",") && depth == 0:
			n++
		}
	}
	return n
}

func (d *deriver) alter() {
	t := d.t
	i := 1
	for i < len(t) && t[i].Kind == TokIdent && (createModifiers[t[i].Value] || t[i].is("MATERIALIZED")) {
		if _, _, ok := objectType(t, i); ok {
			break
		}
		i++
	}
	typ, i, ok := objectType(t, i)
	if !ok || (typ != "table" && typ != "view" && typ != "schema" && typ != "database") {
		return
	}
	i = skipIfExists(t, i)
	obj, end, ok := d.name(i, typ)
	if !ok {
		return
	}
	for k := end; k+1 < len(t); k++ {
		switch {
		case t[k].is("RENAME") && t[k+1].is("TO"):
			if to, _, ok := d.name(k+2, typ); ok {
				d.whole(to, obj)
			}
			return
		case t[k].is("SWAP") && t[k+1].is("WITH"):
			if other, _, ok := d.name(k+2, typ); ok {
				d.whole(other, obj)
				d.whole(obj, other)
			}
			return
		case t[k].is("RENAME") && t[k+1].is("COLUMN") && typ == "table":
			from, n, ok := parseName(t, k+2)
			if !ok || len(from.parts) == 0 || n+1 >= len(t) || !t[n].is("TO") {
				return
			}
			to, _, ok := parseName(t, n+1)
			if !ok || len(to.parts) == 0 {
				return
			}
			src := Column{Database: obj.Database, Schema: obj.Schema, Table: obj.Name, Name: from.parts[len(from.parts)-1]}
			obj.Access = ""
			d.out = append(d.out, Derivation{Target: obj, Reads: d.read, Columns: []DerivedColumn{
				{Name: to.parts[len(to.parts)-1], Sources: []Column{src}, Transform: TransformCopy, Traced: true}}})
			return
		}
	}
}
