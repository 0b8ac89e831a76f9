package statement

import (
	"fmt"
	"strings"
)

// kindInfo gives each kind its category and its danger rank: when one
// statement carries several (a scripting block, EXECUTE IMMEDIATE of a
// literal, a ->> pipe), the most dangerous kind is reported.
var kindInfo = map[Kind]struct {
	cat  Category
	rank int
}{
	KindSelect:           {CategoryRead, 1},
	KindShow:             {CategoryRead, 1},
	KindDescribe:         {CategoryRead, 1},
	KindList:             {CategoryRead, 1},
	KindExplain:          {CategoryRead, 1},
	KindUse:              {CategorySession, 2},
	KindSet:              {CategorySession, 2},
	KindUnset:            {CategorySession, 2},
	KindBegin:            {CategoryTransaction, 2},
	KindCommit:           {CategoryTransaction, 2},
	KindRollback:         {CategoryTransaction, 2},
	KindComment:          {CategoryDDL, 3},
	KindInsert:           {CategoryWrite, 4},
	KindUpdate:           {CategoryWrite, 4},
	KindMerge:            {CategoryWrite, 4},
	KindCopy:             {CategoryWrite, 4},
	KindPut:              {CategoryWrite, 4},
	KindDelete:           {CategoryWrite, 5},
	KindTruncate:         {CategoryWrite, 5},
	KindRemove:           {CategoryWrite, 5},
	KindGet:              {CategoryAdmin, 5},
	KindCall:             {CategoryAdmin, 5},
	KindExecuteImmediate: {CategoryAdmin, 3},
	KindScripting:        {CategoryAdmin, 3},
	KindCreate:           {CategoryDDL, 6},
	KindAlter:            {CategoryDDL, 6},
	KindUndrop:           {CategoryDDL, 6},
	KindDrop:             {CategoryDDL, 7},
	KindGrant:            {CategoryDCL, 8},
	KindRevoke:           {CategoryDCL, 8},
	KindUnknown:          {CategoryUnknown, 9},
}

var categoryRank = map[Category]int{
	CategoryRead: 1, CategorySession: 2, CategoryTransaction: 2, CategoryWrite: 4,
	CategoryAdmin: 5, CategoryDDL: 6, CategoryDCL: 8, CategoryUnknown: 9,
}

// reading is the lexer-level classifier's account of one statement.
type reading struct {
	kind      Kind
	category  Category
	objects   []Object
	flags     Flags
	functions []string
	problems  []string        // why the reading is not complete
	queries   []query         // embedded queries the AST reading must check
	written   colSet          // columns named in INSERT column lists and SET clauses
	seen      map[string]bool // objects and functions already listed
	whereTrue bool            // a WHERE clause that is literally always true
	where     bool            // a top-level WHERE clause
	effects   []Effect        // what the statement can destroy
	estimate  *estimateSpan   // a single-table UPDATE or DELETE's target and predicate (estimate.go)
	moved     bool            // an absorbed reading changed the current database or schema
}

// query is a span of tokens holding a query (SELECT/WITH/VALUES) whose read
// objects the AST reading must confirm.
type query struct {
	toks []Token
	src  string           // the text the tokens' positions refer to
	base int              // index of toks[0] among the statement's tokens
	refs map[int]tableRef // table references the classifier found, by statement token index
	// synthetic marks a query the classifier assembled (UPDATE and DELETE
	// read as the SELECT of the same rows); its refs index its own tokens.
	synthetic bool
	// bounds is 1 + the index of the effect whose predicate is this
	// query's WHERE (UPDATE and DELETE), 0 for none.
	bounds int
}

// tableRef is a table (or stage) reference in a FROM list.
type tableRef struct {
	fn     bool // a table function: TABLE(f(...)), f(...)
	result bool // a previous result: FROM $1 after ->>
	end    int  // token index after the reference
	name   qname
	stage  *Object // set for @stage references
}

func (r *reading) setKind(k Kind) {
	r.kind = k
	r.category = kindInfo[k].cat
}

func (r *reading) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *reading) add(o Object) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if k := "o\x00" + objectKey(o); !r.seen[k] {
		r.seen[k] = true
		r.objects = append(r.objects, o)
	}
}

// objectKey identifies an object for deduplication.
func objectKey(o Object) string {
	return o.Type + "\x00" + o.Database + "\x00" + o.Schema + "\x00" + o.Name + "\x00" + string(o.Access)
}

// absorb merges an inner reading (a statement inside a block, a pipe, an
// EXECUTE IMMEDIATE body) into r, keeping the most dangerous kind.
func (r *reading) absorb(in *reading) {
	// Names are resolved against the session as the statement found it;
	// after a USE or CREATE of a database or schema inside the statement
	// they are the new one's, which the reading does not follow.
	if r.moved {
		r.problem("a statement after a change of the current database or schema in the same statement: its names cannot be placed")
	}
	r.moved = r.moved || in.moved || in.movesSession()
	if kindInfo[in.kind].rank > kindInfo[r.kind].rank {
		r.kind = in.kind
		r.category = in.category
	}
	if in.category == CategoryUnknown {
		r.category = CategoryUnknown
	}
	for _, o := range in.objects {
		r.add(o)
	}
	r.flags = orFlags(r.flags, in.flags)
	for _, f := range in.functions {
		r.addFunction(f)
	}
	r.problems = append(r.problems, in.problems...)
	for _, q := range in.queries {
		if q.bounds > 0 {
			q.bounds += len(r.effects)
		}
		r.queries = append(r.queries, q)
	}
	r.effects = append(r.effects, in.effects...)
	r.written.add(in.written.list...)
}

// movesSession reports whether the reading changes the session's current
// database or schema: USE DATABASE or SCHEMA, CREATE DATABASE or SCHEMA.
func (r *reading) movesSession() bool {
	for _, o := range r.objects {
		if (o.Type == "database" || o.Type == "schema") && (o.Access == AccessUse || o.Access == AccessCreate) {
			return true
		}
	}
	return false
}

func (r *reading) addFunction(name string) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen["f\x00"+name] {
		return
	}
	r.seen["f\x00"+name] = true
	r.functions = append(r.functions, name)
}

func orFlags(a, b Flags) Flags {
	return Flags{
		CreateOrReplace:  a.CreateOrReplace || b.CreateOrReplace,
		TimeTravel:       a.TimeTravel || b.TimeTravel,
		Clone:            a.Clone || b.Clone,
		ExternalLocation: a.ExternalLocation || b.ExternalLocation,
		Stage:            a.Stage || b.Stage,
		UserStage:        a.UserStage || b.UserStage,
		Identifier:       a.Identifier || b.Identifier,
		DynamicSQL:       a.DynamicSQL || b.DynamicSQL,
		SessionChange:    a.SessionChange || b.SessionChange,
		RoleChange:       a.RoleChange || b.RoleChange,
		NoWhere:          a.NoWhere || b.NoWhere,
		SystemFunction:   a.SystemFunction || b.SystemFunction,
		ExternalFunction: a.ExternalFunction || b.ExternalFunction,
		Scripting:        a.Scripting || b.Scripting,
		UntracedSource:   a.UntracedSource || b.UntracedSource,
	}
}

// maxNesting bounds recursion into EXECUTE IMMEDIATE bodies and blocks.
const maxNesting = 8

// classifier reads one statement's tokens.
type classifier struct {
	toks  []Token
	src   string
	env   Env
	r     *reading
	nest  int
	names map[int]bool // token indexes consumed as object names
	ctes  map[string]bool
	refs  map[int]tableRef
	last  Object // the object target() read last
}

// newQuery records the query spanning toks[from:to].
func (c *classifier) newQuery(from, to int) query {
	return query{toks: c.toks[from:to], src: c.src, base: from, refs: c.refs}
}

func newClassifier(toks []Token, src string, env Env, nest int) *classifier {
	c := &classifier{toks: toks, src: src, env: env, r: &reading{}, nest: nest, names: map[int]bool{}, ctes: map[string]bool{}, refs: map[int]tableRef{}}
	c.r.setKind(KindUnknown)
	return c
}

// classify is the lexer-level reading of one statement.
func classify(toks []Token, src string, env Env, nest int) *reading {
	c := newClassifier(toks, src, env, nest)
	if len(toks) == 0 {
		c.r.problem("empty statement")
		return c.r
	}
	if nest > maxNesting {
		c.r.problem("nesting deeper than %d", maxNesting)
		return c.r
	}
	if segs := pipeSegments(toks); len(segs) > 1 {
		c.pipe(segs)
		return c.r
	}
	c.dispatch()
	c.tokenFlags()
	if c.r.kind == KindUnknown && len(c.r.problems) == 0 {
		c.r.problem("statement form not recognised: %s", toks[0].Value)
	}
	return c.r
}

// pipeSegments cuts a statement at top-level ->> (Snowflake's pipe operator
// chains whole statements).
func pipeSegments(toks []Token) [][]Token {
	var segs [][]Token
	depth, from := 0, 0
	for i, t := range toks {
		switch {
		case t.isOp("(") || t.isOp("[") || t.isOp("{"):
			depth++
		case t.isOp(")") || t.isOp("]") || t.isOp("}"):
			depth--
		case t.isOp("->>") && depth <= 0:
			segs = append(segs, toks[from:i])
			from = i + 1
		}
	}
	if from == 0 {
		return nil
	}
	return append(segs, toks[from:])
}

func (c *classifier) pipe(segs [][]Token) {
	c.r.setKind(KindSelect)
	for _, s := range segs {
		in := classify(s, c.src, c.env, c.nest+1)
		c.r.absorb(in)
	}
}

// dispatch classifies by the leading keywords.
func (c *classifier) dispatch() {
	t := c.toks
	first := t[0]
	if first.isOp("(") {
		c.query(0)
		return
	}
	if first.Kind != TokIdent {
		c.r.problem("statement does not start with a keyword")
		return
	}
	switch first.Value {
	case "SELECT", "WITH", "VALUES", "FROM", "TABLE":
		c.query(0)
	case "INSERT":
		c.insert()
	case "UPDATE":
		c.update()
	case "DELETE":
		c.deleteFrom()
	case "MERGE":
		c.merge()
	case "COPY":
		c.copyInto()
	case "CREATE":
		c.create()
	case "ALTER":
		c.alter()
	case "DROP":
		c.drop(KindDrop, AccessDrop)
	case "UNDROP":
		c.drop(KindUndrop, AccessCreate)
	case "TRUNCATE":
		c.truncate()
	case "GRANT":
		c.grant(KindGrant)
	case "REVOKE":
		c.grant(KindRevoke)
	case "PUT":
		c.put()
	case "GET":
		c.get()
	case "LIST", "LS":
		c.listStage(KindList, AccessRead)
	case "REMOVE", "RM":
		c.listStage(KindRemove, AccessDelete)
	case "USE":
		c.use()
	case "SHOW":
		c.show()
	case "DESCRIBE", "DESC":
		c.describe()
	case "CALL":
		c.call()
	case "EXECUTE":
		c.execute()
	case "BEGIN", "DECLARE":
		if first.is("BEGIN") && txnBegin(t, 0) {
			c.r.setKind(KindBegin)
			return
		}
		c.block()
	case "START":
		if len(t) > 1 && t[1].is("TRANSACTION") {
			c.r.setKind(KindBegin)
		}
	case "COMMIT":
		c.r.setKind(KindCommit)
	case "ROLLBACK":
		c.r.setKind(KindRollback)
	case "SET":
		c.set()
	case "UNSET":
		c.r.setKind(KindUnset)
		c.r.flags.SessionChange = true
	case "EXPLAIN":
		c.explain()
	case "COMMENT":
		c.comment()
	}
}

// tokenFlags sets the flags that any token of the statement can raise, and
// collects the functions called.
func (c *classifier) tokenFlags() {
	t := c.toks
	for i, tok := range t {
		switch tok.Kind {
		case TokIllegal:
			c.r.setKind(KindUnknown)
			c.r.problem("unexpected character %q at offset %d", tok.Value, tok.Pos)
		case TokString:
			switch c.r.kind {
			case KindCreate, KindAlter, KindCopy, KindPut, KindGet:
				if isURL(tok.Value) {
					c.r.flags.ExternalLocation = true
				}
			}
		case TokStage:
			c.r.flags.Stage = true
			if strings.HasPrefix(tok.Value, "@~") {
				c.r.flags.UserStage = true
			}
		case TokIdent:
			if tok.Value == "EXTERNAL_ACCESS_INTEGRATIONS" { // a function or procedure that reaches the network
				c.r.flags.ExternalFunction = true
			}
			if i+1 >= len(t) || !t[i+1].isOp("(") {
				if tok.Value == "CLONE" && i > 0 {
					c.r.flags.Clone = true
				}
				continue
			}
			switch tok.Value {
			case "IDENTIFIER":
				c.r.flags.Identifier = true
				if i+2 < len(t) && (t[i+2].Kind == TokVariable || t[i+2].isOp(":") || t[i+2].isOp("?")) {
					c.r.flags.DynamicSQL = true
				}
				continue
			case "AT", "BEFORE":
				if i+3 < len(t) && (t[i+3].isOp("=>")) {
					c.r.flags.TimeTravel = true
				}
				continue
			case "CHANGES":
				c.r.flags.TimeTravel = true
			}
			if c.names[i] || notFunction[tok.Value] || (i > 0 && (t[i-1].isOp("::") || notFunctionAfter[t[i-1].Value] && t[i-1].Kind == TokIdent)) {
				continue
			}
			if i > 0 && t[i-1].isOp(".") { // qualified call: db.schema.fn(
				continue
			}
			name := tok.Value
			if strings.HasPrefix(name, "SYSTEM$") {
				c.r.flags.SystemFunction = true
			}
			c.r.addFunction(name)
		}
	}
}

// notFunction lists words that take a parenthesis without being a call.
var notFunction = map[string]bool{
	"IN": true, "VALUES": true, "AS": true, "ON": true, "USING": true, "EXISTS": true, "ANY": true,
	"ALL": true, "SOME": true, "OVER": true, "FROM": true, "JOIN": true, "WITHIN": true, "INTO": true,
	"AND": true, "OR": true, "NOT": true, "WHEN": true, "THEN": true, "ELSE": true, "SELECT": true,
	"WHERE": true, "IS": true, "BY": true, "TABLE": true, "LATERAL": true, "UNION": true, "EXCEPT": true,
	"INTERSECT": true, "MINUS": true, "HAVING": true, "QUALIFY": true, "WITH": true, "RETURNS": true,
	"PARTITION": true, "CLUSTER": true, "FILTER": true, "MATCH_CONDITION": true, "PIVOT": true,
	"UNPIVOT": true, "FOR": true, "SAMPLE": true, "TABLESAMPLE": true, "KEY": true, "UNIQUE": true,
	"CHECK": true, "REFERENCES": true, "IDENTITY": true, "AUTOINCREMENT": true,
	"LIKE": true, "ILIKE": true, "RLIKE": true, "CALL": true, "RECURSIVE": true, "ARRAY": true,
	"OBJECT": true, "MAP": true, "VECTOR": true, "NUMBER": true, "DECIMAL": true, "NUMERIC": true,
	"VARCHAR": true, "CHAR": true, "CHARACTER": true, "STRING": true, "TEXT": true, "BINARY": true,
	"VARBINARY": true, "TIMESTAMP_NTZ": true, "TIMESTAMP_LTZ": true, "TIMESTAMP_TZ": true,
	"FILE_FORMAT": true, "COPY_OPTIONS": true, "STAGE_FILE_FORMAT": true, "STAGE_COPY_OPTIONS": true,
	"CREDENTIALS": true, "ENCRYPTION": true, "DIRECTORY": true, "SET": true, "RETURN": true,
	"LANGUAGE": true, "BEGIN": true, "DO": true, "WHILE": true, "ELSEIF": true, "MATCH_RECOGNIZE": true,
	"MEASURES": true, "PATTERN": true, "DEFINE": true, "ROWS": true, "RANGE": true, "GROUPS": true,
	"CUBE": true, "ROLLUP": true, "SETS": true, "NULLS": true, "ORDER": true, "LIMIT": true, "TOP": true,
	"CONSTRAINT": true, "PRIMARY": true, "FOREIGN": true, "DEFAULT": true, "COLLATE": true, "TAG": true,
	"INCLUDE": true, "EXCLUDE": true, "RENAME": true, "ASOF": true, "NATURAL": true,
	"RESULTSET": true, "CURSOR": true, "DECLARE": true, "LET": true, "ROW": true,
	"BERNOULLI": true, "SYSTEM": true, "BLOCK": true, "SEED": true, "REPEATABLE": true, // SAMPLE BERNOULLI (10) SEED (7)
}

// notFunctionAfter lists words after which NAME( is an object or a type,
// not a call.
var notFunctionAfter = map[string]bool{
	"TABLE": true, "VIEW": true, "INTO": true, "FUNCTION": true, "PROCEDURE": true, "CALL": true,
	"EXISTS": true, "ROLE": true, "STAGE": true, "TASK": true, "ALERT": true,
}
