// How the statement analysis works (the package comment is in model.go).
//
// API: Split cuts a request into statements; Analyze returns one Statement
// per statement (see model.go for the model, which is the policy input's
// "statement"); Fingerprint hashes a statement's normalised tokens; Lex is
// the Snowflake lexer underneath. Env carries the session's database and
// schema and an optional Catalog (CachedCatalog caches one) used to expand
// '*'; without a catalog '*' over a table is untraced, never guessed.
//
// The analysis has two readings, cross-checked.
//
// The lexer-level classifier (lexer.go, split.go, classify*.go, objects.go)
// reads every statement form: kind, category, objects with their access,
// written columns and flags. It never under-classifies: a scripting block,
// an EXECUTE IMMEDIATE of a literal, a task's body or a ->> pipe takes the
// most dangerous kind of what it holds, and whatever it does not understand
// is KindUnknown with Parse.Complete false.
//
// The syntax-tree reading (lower*.go, tree.go, lineage*.go, dmlquery.go)
// lowers the statement's queries onto the TiDB grammar and walks the tree
// for column lineage. UPDATE, DELETE and MERGE are read as the query that
// selects the same rows. Names are encoded so they cannot collide (every
// real identifier becomes "_" + its Snowflake-folded value; generated names
// start with '#'), and Snowflake-only syntax is rewritten with a side record
// of lossy rewrites (Parse.Rewrites) that the lineage walk consults. The
// tables the tree reads must agree with the classifier's objects. Statement
// forms without a query part (GRANT, USE, PUT, most DDL) have no TiDB syntax:
// for them the classifier's reading of the form is the only one.
//
// Parse.Complete is true only when the readings succeed and agree; the
// default policy denies anything else.
//
// Limits: requests above MaxStatementBytes are refused; EXECUTE IMMEDIATE
// and nested blocks are read to a depth of 8; every pass is linear in the
// input (TestAnalyze_LargeInputsStayLinear).
//
// Tests: go test ./proxy/statement/... runs the unit tests, the labelled
// corpus in conformance/statements (conformance_test.go), the ratchet over
// the shared sqlglot corpus (ratchet_test.go) and the property tests.
// Fuzzing: go test ./proxy/statement -run '^$' -fuzz FuzzAnalyze.
// Benchmarks: go test ./proxy/statement -run '^$' -bench . -benchmem.

package statement
