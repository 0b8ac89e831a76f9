package proxy

import (
	"errors"
	"fmt"
)

// Error is a failure shown to a Snowflake client: a numeric code the drivers
// parse, a SQLSTATE and a message that is safe to show. The wrapped cause is
// logged, never sent.
type Error struct {
	Code     string // six digits, e.g. "003001"
	SQLState string // five characters, e.g. "42501"
	Message  string // shown to the client
	Err      error  // the internal cause, for the log
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %s: %v", e.Message, e.Code, e.SQLState, e.Err)
	}
	return fmt.Sprintf("%s (%s): %s", e.Message, e.Code, e.SQLState)
}

func (e *Error) Unwrap() error { return e.Err }

// The codes snowgate answers with. Snowflake's own codes where a driver
// reacts to them; the 39xxxx range for login and session; 003001 for
// access control (policy) failures.
const (
	CodeSessionExpired       = "390112" // drivers renew the session and retry
	CodeSessionGone          = "390111"
	CodeSessionInvalid       = "390104"
	CodeMasterExpired        = "390114"
	CodeBadCredentials       = "390100"
	CodeOAuthInvalid         = "390303"
	CodeOAuthExpired         = "390318"
	CodeLoginRefused         = "390101"
	CodeQueryInProgress      = "333333"
	CodeAsyncInProgress      = "333334"
	CodeNotExecuting         = "000605"
	CodeCanceled             = "000604"
	CodeCountMismatch        = "000008"
	CodeCompilation          = "001003"
	CodeAccessDenied         = "003001"
	CodeApprovalRequired     = "003002"
	CodePolicyUnavailable    = "003003"
	CodeUpstream             = "100001"
	CodeBadRequest           = "390400"
	CodeNotFound             = "390404"
	CodeQueryNotFound        = "000709"
	CodeInternal             = "390500"
	CodeUnsupported          = "002099"
	CodeCredentials          = "390190"
	CodeStatementTooLarge    = "390413"
	CodeUnknownAuthenticator = "390102"
)

func newError(code, sqlState, msg string, cause error) *Error {
	return &Error{Code: code, SQLState: sqlState, Message: msg, Err: cause}
}

// asError shapes any error as a client error, hiding internal causes.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeInternal, "XX000", "internal error in snowgate; see the gateway log", err)
}
