// Package statement turns Snowflake SQL text into the statement model that the
// policy reads: statement splitting, kind and category, the objects touched and
// how, column lineage for queries, a normalised fingerprint and the flags a
// reviewer needs.
//
// The model is part of the decision contract (input.statement): fields may be
// added, their meaning may not shrink.
package statement

// Statement is the analysis of one SQL statement.
type Statement struct {
	SQL         string `json:"sql"`
	Fingerprint string `json:"fingerprint"`
	Index       int    `json:"index"` // position in a multi-statement request, from 0
	Count       int    `json:"count"` // statements in the request

	Kind     Kind     `json:"kind"`
	Category Category `json:"category"`
	Parse    Parse    `json:"parse"`

	Objects   []Object `json:"objects"`
	Columns   Columns  `json:"columns"`
	Outputs   []Output `json:"outputs"`
	Where     Where    `json:"where"`
	Limit     *int64   `json:"limit,omitempty"`
	Star      bool     `json:"star"`
	Functions []string `json:"functions"` // upper-case names of every function called
	Flags     Flags    `json:"flags"`
	// Effects lists what the statement can destroy or overwrite: rows
	// removed or replaced, objects replaced, swapped or dropped, protections
	// removed, each with whether a predicate bounds it.
	Effects []Effect `json:"effects"`
	// Derived lists what the statement writes into the tables and views it
	// creates or fills, per target column with the columns the values come
	// from, so that classifications follow copies (derive.go).
	Derived []Derivation `json:"derived"`
	// ResultScans lists the RESULT_SCAN calls of the statement's queries
	// that name an earlier result in a form Env.Results can answer, for the
	// gateway to send the upstream's own query id in place of the
	// argument. Not part of the policy input.
	ResultScans []ResultScan `json:"-"`
	// Estimate is set for a single-table UPDATE or DELETE whose WHERE
	// clause bounds it and can run without effects: the gateway may ask
	// the upstream how many rows it selects before the policy decides
	// (estimate.go). Not part of the policy input.
	Estimate *EstimateQuery `json:"-"`

	tableReads []Object // every base-table reference of the syntax tree (rowfilter.go)
}

// Kind is what the statement does, e.g. "select" or "grant".
type Kind string

// The statement kinds.
const (
	KindSelect           Kind = "select"
	KindInsert           Kind = "insert"
	KindUpdate           Kind = "update"
	KindDelete           Kind = "delete"
	KindMerge            Kind = "merge"
	KindCreate           Kind = "create"
	KindDrop             Kind = "drop"
	KindAlter            Kind = "alter"
	KindTruncate         Kind = "truncate"
	KindUndrop           Kind = "undrop"
	KindGrant            Kind = "grant"
	KindRevoke           Kind = "revoke"
	KindCopy             Kind = "copy"
	KindPut              Kind = "put"
	KindGet              Kind = "get"
	KindRemove           Kind = "remove"
	KindList             Kind = "list"
	KindUse              Kind = "use"
	KindShow             Kind = "show"
	KindDescribe         Kind = "describe"
	KindCall             Kind = "call"
	KindExecuteImmediate Kind = "execute_immediate"
	KindBegin            Kind = "begin"
	KindCommit           Kind = "commit"
	KindRollback         Kind = "rollback"
	KindSet              Kind = "set"
	KindUnset            Kind = "unset"
	KindExplain          Kind = "explain"
	KindComment          Kind = "comment"
	KindUnknown          Kind = "unknown"
	// KindScripting is an anonymous Snowflake Scripting block (BEGIN ... END,
	// DECLARE ... BEGIN ... END) holding nothing more dangerous than reads;
	// a block holding e.g. a DROP takes the kind drop (Flags.Scripting set).
	KindScripting Kind = "scripting"
)

// Category groups kinds by their risk.
type Category string

// The categories.
const (
	CategoryRead        Category = "read"
	CategoryWrite       Category = "write"
	CategoryDDL         Category = "ddl"
	CategoryDCL         Category = "dcl"
	CategoryTransaction Category = "transaction"
	CategorySession     Category = "session"
	CategoryAdmin       Category = "admin"
	CategoryUnknown     Category = "unknown"
)

// Parse says how far the analysis got. Complete is true only when the
// lexer-level classifier and the syntax tree agree on kind and objects.
type Parse struct {
	Complete bool   `json:"complete"`
	Error    string `json:"error,omitempty"`
	// Rewrites lists the lossy rewrites the syntax-tree reading made to fit
	// Snowflake syntax onto its grammar (e.g. "QUALIFY read as HAVING");
	// the lineage accounts for them.
	Rewrites []string `json:"rewrites,omitempty"`
}

// Object is a database object the statement touches.
type Object struct {
	Type     string `json:"type"` // table, view, database, schema, stage, user, role, warehouse, function, procedure, integration, ...
	Database string `json:"database,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Name     string `json:"name"`
	Access   Access `json:"access"`
}

// Access is what the statement does to an object.
type Access string

// The accesses.
const (
	AccessRead   Access = "read"
	AccessWrite  Access = "write"
	AccessCreate Access = "create"
	AccessDrop   Access = "drop"
	AccessAlter  Access = "alter"
	AccessGrant  Access = "grant"
	AccessUse    Access = "use"
	AccessCall   Access = "call"
	AccessDelete Access = "delete" // rows removed (DELETE, TRUNCATE)
)

// Column is a fully qualified column reference.
type Column struct {
	Database string `json:"database,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Table    string `json:"table"`
	Name     string `json:"name"`
}

// Columns lists the columns a statement reads, writes, and uses to filter,
// group, join or order rows.
type Columns struct {
	Read     []Column `json:"read"`
	Written  []Column `json:"written"`
	Filtered []Column `json:"filtered"` // in WHERE, JOIN ON, HAVING, QUALIFY
	Grouped  []Column `json:"grouped"`  // in GROUP BY, PARTITION BY, ORDER BY, DISTINCT
}

// Output is one column of a query's result.
type Output struct {
	Name      string    `json:"name"`
	Sources   []Column  `json:"sources"`
	Transform Transform `json:"transform"`
	// Traced is false when the output's sources could not be determined
	// (e.g. SELECT * over a table the catalog does not know).
	Traced bool `json:"traced"`
	// MayFail is true when computing the output can raise an error (a
	// cast, arithmetic, a parse or conversion function, a function not
	// known to be total): over a masked column, whether the statement fails
	// would tell something of the value the mask hides.
	MayFail bool `json:"may_fail"`
}

// Transform says how an output derives from its sources.
type Transform string

// The transforms.
const (
	TransformCopy       Transform = "copy"       // the source value unchanged
	TransformExpression Transform = "expression" // a function of the sources, row by row
	TransformAggregate  Transform = "aggregate"  // an aggregate over the sources
)

// Where describes the statement's WHERE clause.
type Where struct {
	Present    bool `json:"present"`
	AlwaysTrue bool `json:"always_true"`
}

// Flags are the facts a reviewer wants to know about.
type Flags struct {
	CreateOrReplace  bool `json:"create_or_replace"`
	TimeTravel       bool `json:"time_travel"`
	Clone            bool `json:"clone"`
	ExternalLocation bool `json:"external_location"` // s3://, gcs://, azure://, external stage, URL
	Stage            bool `json:"stage"`             // any @stage reference
	UserStage        bool `json:"user_stage"`        // @~
	Identifier       bool `json:"identifier"`        // IDENTIFIER(...)
	DynamicSQL       bool `json:"dynamic_sql"`       // EXECUTE IMMEDIATE, IDENTIFIER with a variable, scripting blocks
	SessionChange    bool `json:"session_change"`    // USE, ALTER SESSION, SET
	RoleChange       bool `json:"role_change"`       // USE ROLE / USE SECONDARY ROLES
	NoWhere          bool `json:"no_where"`          // UPDATE/DELETE without WHERE
	SystemFunction   bool `json:"system_function"`   // SYSTEM$... called
	ExternalFunction bool `json:"external_function"` // CREATE EXTERNAL FUNCTION or a call to one
	Scripting        bool `json:"scripting"`         // a Snowflake Scripting block
	// UntracedSource is set when the statement reads data whose lineage
	// cannot be traced, anywhere in it: a function that is not a known
	// built-in (user-defined, external, qualified, system), a table function
	// other than FLATTEN/SPLIT_TO_TABLE/STRTOK_SPLIT_TO_TABLE/GENERATOR
	// (history and metadata functions, RESULT_SCAN of a result Env.Results
	// does not know), a stage, a session variable, Snowflake's own usage
	// and history views (tables and views of the SNOWFLAKE database).
	UntracedSource bool `json:"untraced_source"`
}
