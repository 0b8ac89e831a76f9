# METADATA
# title: The login decision
# description: |
#   data.snowgate.connect.decision says whether a verified identity may open
#   a session and as what: the first profile of connect.profiles whose group
#   the human belongs to gives the upstream role, warehouse and Vault role.
#   An agent acting for that human gets connect.agent_profile instead.
#   Agents in connect.blocked_agents, identities without a subject and
#   humans without a profile are denied.
package snowgate.connect

import data.snowgate.lib.quotas

cfg := data.snowgate.config.connect

groups := {g | some g in input.identity.groups}

matching := [p | some p in cfg.profiles; p.group in groups]

profile := cfg.agent_profile if {
	input.identity.agent
	count(matching) > 0
} else := matching[0] if count(matching) > 0

deny_reasons contains "the identity has no subject" if object.get(input.identity, "subject", "") == ""

deny_reasons contains "none of your groups may connect through the gateway" if count(matching) == 0

deny_reasons contains sprintf("agent %s is blocked", [input.identity.agent.id]) if {
	input.identity.agent.id in cfg.blocked_agents
}

deny_reasons contains sprintf("%s limit of %d sessions at once is reached; close one first", [s.name, n]) if {
	some s in quotas.scopes
	n := quotas.limit(s, "sessions")
	s.counts.sessions >= n
}

deny_reasons contains "the quota counters cannot be read, and a quota applies to you; try again shortly" if quotas.unavailable

decision := {"action": "deny", "reasons": sort(deny_reasons)} if count(deny_reasons) > 0

else := {
	"action": "allow",
	"reasons": [],
	"role": profile.role,
	"warehouse": object.get(profile, "warehouse", ""),
	"vault_role": object.get(profile, "vault_role", ""),
}
