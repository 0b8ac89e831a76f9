# Every DELETE needs one approval from an approver, and the request expires
# after two seconds: for the approval-expiry test.
package snowgate

decision := {"action": "require_approval", "reasons": ["deletes need approval"], "approval": {"groups": ["approvers"], "count": 1, "ttl_seconds": 2, "why": "deletes need approval"}} if input.statement.kind == "delete"

else := {"action": "allow", "reasons": []}
