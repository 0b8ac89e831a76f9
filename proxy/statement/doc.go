// The analysis has two readings, cross-checked.
//
// The lexer-level classifier (lexer.go, split.go, classify*.go, objects.go)
// reads every statement form: kind, category, objects with their access and
// flags. It never under-classifies: a scripting block, an EXECUTE IMMEDIATE
// of a literal or a ->> pipe takes the most dangerous kind of what it holds,
// and whatever it does not understand is KindUnknown.
//
// The syntax-tree reading (lower*.go, tree.go, lineage*.go) lowers the
// statement's queries onto the TiDB grammar — names encoded so they cannot
// collide, Snowflake-only syntax rewritten with a side record of lossy
// rewrites (Parse.Rewrites) — and walks the tree for column lineage. Its
// tables must agree with the classifier's objects. Statement forms without a
// query (GRANT, USE, PUT, most DDL) have no tree reading: for them the
// classifier's grammar of the form is the only reading.
//
// Parse.Complete is true only when the readings succeed and agree.
//
// Tests: go test ./proxy/statement/... runs the unit tests, the labelled
// corpus in conformance/statements (conformance_test.go), the ratchet over
// the shared sqlglot corpus (ratchet_test.go) and the property tests.
// Fuzzing: go test ./proxy/statement -run '^$' -fuzz FuzzAnalyze.
// Benchmarks: go test ./proxy/statement -run '^$' -bench . -benchmem.
package statement
