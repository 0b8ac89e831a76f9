# A policy that allows every statement, for the protocol tests: they check
# that the gateway speaks Snowflake's protocol, not what the policy decides.
package snowgate

decision := {"action": "allow", "reasons": ["protocol tests allow every statement"]}
