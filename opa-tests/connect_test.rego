package snowgate.connect_test

import data.snowgate.connect
import data.snowgate.test.helpers as h

login(id) := {"version": "1", "identity": id, "session": {"database": "DEMO", "schema": "PUBLIC"}}

test_analyst if {
	connect.decision == {"action": "allow", "reasons": [], "role": "SNOWGATE_ANALYST", "warehouse": "ANALYTICS_WH", "vault_role": "snowgate-analyst"} with input as login(h.analyst)
}

test_first_matching_profile_wins if {
	connect.decision.role == "SNOWGATE_ADMIN" with input as login(h.admin)
}

test_agent_gets_agent_profile if {
	connect.decision == {"action": "allow", "reasons": [], "role": "SNOWGATE_AGENT", "warehouse": "AGENT_WH", "vault_role": "snowgate-agent"} with input as login(h.agent)
}

test_no_profile_denied if {
	connect.decision == {"action": "deny", "reasons": ["none of your groups may connect through the gateway"]} with input as login(object.union(h.analyst, {"groups": ["contractors"]}))
}

test_agent_without_human_profile_denied if {
	connect.decision.action == "deny" with input as login(object.union(h.agent, {"groups": []}))
}

test_no_subject_denied if {
	"the identity has no subject" in connect.decision.reasons with input as login(object.union(h.analyst, {"subject": ""}))
}

test_blocked_agent_denied if {
	d := connect.decision with input as login(h.agent) with data.snowgate.config.connect.blocked_agents as ["sql-agent"]
	d.reasons == ["agent sql-agent is blocked"]
}

test_profile_without_warehouse if {
	d := connect.decision with input as login(h.analyst)
		with data.snowgate.config.connect.profiles as [{"group": "analysts", "role": "R"}]
	d == {"action": "allow", "reasons": [], "role": "R", "warehouse": "", "vault_role": ""}
}
