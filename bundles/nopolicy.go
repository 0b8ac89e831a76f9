package bundles

import (
	"github.com/open-policy-agent/opa/v1/bundle"
)

// NoPolicyRevision is the revision of the NoPolicy bundle.
const NoPolicyRevision = "none"

// NoPolicyReason is the reason every decision of NoPolicy gives.
const NoPolicyReason = "no trusted policy bundle is active"

// noPolicy denies every statement and every login.
const noPolicy = `package snowgate

decision := {"action": "deny", "reasons": ["` + NoPolicyReason + `"]}

connect.decision := {"action": "deny", "reasons": ["` + NoPolicyReason + `"]}
`

// NoPolicy returns a bundle that denies everything. A gateway that takes
// its policy from a registry starts its engine with it, so that until a
// trusted bundle is activated (restored or downloaded) nothing runs; the
// engine's own library must never stand in for a missing bundle.
func NoPolicy() *bundle.Bundle {
	roots := []string{"snowgate"}
	return &bundle.Bundle{
		Manifest: bundle.Manifest{Revision: NoPolicyRevision, Roots: &roots},
		Data:     map[string]any{},
		Modules:  []bundle.ModuleFile{{URL: "/nopolicy.rego", Path: "/nopolicy.rego", Raw: []byte(noPolicy)}},
	}
}
