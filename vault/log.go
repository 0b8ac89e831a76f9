package vault

// Log keys, defined once. Values logged under them are never secrets:
// tokens, passwords and private keys are not logged at all.
const (
	logRole   = "vault_role"
	logUser   = "upstream_user"
	logLease  = "lease_id"
	logTTL    = "ttl"
	logErr    = "err"
	logAuth   = "vault_auth"
	logMethod = "credential_type"
)
