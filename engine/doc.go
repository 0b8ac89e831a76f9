// Package engine turns a statement into a decision: it embeds OPA, evaluates
// data.snowgate.decision (and data.snowgate.connect.decision at login) with
// prepared queries, and returns typed decisions that always fail closed.
//
// The input and decision documents are the contract between the gateway and
// the security team's policy. They are described by the Go types in this
// package and by the JSON Schemas in engine/schema.
//
// Benchmarks:
//
//	go test ./engine -run '^$' -bench BenchmarkDecide -benchmem
package engine
