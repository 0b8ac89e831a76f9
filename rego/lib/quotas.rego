# METADATA
# title: Quotas
# description: |
#   The limits of config.quotas that apply to the caller, each with its
#   counts from input.usage (the gateway's quota counters): subjects for
#   every human, agents for every agent (its counts across the humans it
#   acts for), groups.<name> for the members of a group. A limit of 0 or
#   absent is none. Used by rules/quotas.rego and, for sessions, by the
#   login decision.
package snowgate.lib.quotas

import data.snowgate.lib

default cfg := {}

cfg := lib.config.quotas

# enabled: some limit is set, for anyone. It reads no input, so where it
# is false every rule that starts with it is known not to apply before any
# statement comes, and the engine's memo of decisions leaves input.usage,
# which changes with every statement, out of its key (engine/memo.go).
enabled if {
	some lims in ({cfg.subjects, cfg.agents} - {null})
	some n in lims
	n > 0
}

enabled if {
	some lims in cfg.groups
	some n in lims
	n > 0
}

# scopes: what each applicable set of limits is called, its limits and
# the counts it is held to.
scopes contains {"name": "your", "limits": cfg.subjects, "counts": input.usage.subject} if {
	enabled
	cfg.subjects
	input.usage.subject
}

scopes contains {"name": sprintf("agent %s's", [input.identity.agent.id]), "limits": cfg.agents, "counts": input.usage.agent} if {
	enabled
	cfg.agents
	input.identity.agent
	input.usage.agent
}

scopes contains {"name": sprintf("group %s's", [g]), "limits": cfg.groups[g], "counts": input.usage.groups[g]} if {
	enabled
	some g in input.identity.groups
	cfg.groups[g]
	input.usage.groups[g]
}

limit(s, name) := n if {
	n := object.get(s.limits, name, 0)
	n > 0
}

# limited: some limit applies to the caller.
limited if {
	some lims in ({cfg.subjects, cfg.agents} - {null})
	some n in lims
	n > 0
}

limited if {
	some g in input.identity.groups
	some n in cfg.groups[g]
	n > 0
}

# unavailable: a limit applies and the counts cannot be read.
unavailable if {
	enabled
	limited
	input.usage.unavailable
}

unavailable if {
	enabled
	limited
	not input.usage
}
