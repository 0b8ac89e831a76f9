# Shared test data: demo identities as the gateway builds them, and
# builders for column lineage (for statements whose lineage is spelled out
# in the test).
package snowgate.test.helpers

analyst := {"subject": "u-1001", "email": "ana.lyst@example.com", "name": "Ana Lyst", "issuer": "test", "groups": ["analysts"], "claims": {}}

agent := object.union(analyst, {"agent": {"id": "sql-agent", "source": "act"}})

approver := {"subject": "u-2001", "email": "sam.approver@example.com", "name": "Sam Approver", "issuer": "test", "groups": ["data-stewards", "approvers"], "claims": {}}

admin := {"subject": "u-3001", "email": "ada.admin@example.com", "name": "Ada Admin", "issuer": "test", "groups": ["platform-admins", "pii-readers"], "claims": {}}

admin_agent := object.union(admin, {"agent": {"id": "sql-agent", "source": "act"}})

engineer := {"subject": "u-4001", "email": "eng.ineer@example.com", "name": "Eng Ineer", "issuer": "test", "groups": ["data-engineers"], "claims": {}}

complete := {"complete": true}

# col(t, c) is column c of DEMO.PUBLIC table t.
col(t, c) := {"database": "DEMO", "schema": "PUBLIC", "table": t, "name": c}

# out(t, c) is a result column copied from DEMO.PUBLIC t.c.
out(t, c) := {"name": c, "sources": [col(t, c)], "transform": "copy", "traced": true}

no_columns := {"read": [], "written": [], "filtered": [], "grouped": []}
