// Package schema holds the JSON Schemas of the decision contract: the policy
// input (input.json), the statement decision (decision.json) and the login
// decision (connect.json).
package schema

import _ "embed"

// Input is the JSON Schema of the policy input.
//
//go:embed input.json
var Input []byte

// Decision is the JSON Schema of a statement decision.
//
//go:embed decision.json
var Decision []byte

// Connect is the JSON Schema of a login decision.
//
//go:embed connect.json
var Connect []byte
