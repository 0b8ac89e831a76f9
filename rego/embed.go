// Package rego embeds snowgate's default policy library: the Rego packages
// under snowgate.* and their data.json, so that a gateway started without a
// bundle (e.g. `snowgate dev`) has a policy.
package rego

import "embed"

// FS holds the library's policy and data files, laid out as on disk.
//
//go:embed .manifest data.json *.rego lib/*.rego rules/*.rego
var FS embed.FS
