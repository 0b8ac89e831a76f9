package proxy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
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
	CodeTooManyPending       = "390429"
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

// hideValues is an upstream failure of a statement that reads columns masked
// for the caller, as the client and the audit trail may see it: the code and
// SQLSTATE as they were, the message with nothing in it that could be a
// value (see redactValues). The upstream's own error is dropped, so that no
// log line holds the message it quoted either.
func hideValues(e *Error) *Error {
	return &Error{Code: e.Code, SQLState: e.SQLState, Message: redactValues(e.Message)}
}

// redactValues takes out of an upstream error message anything that could be
// a value it quotes (DuckDB's "Could not convert string '845-12-3456' to
// INT32", Snowflake's "Numeric value '845-12-3456' is not recognized"):
//
//   - everything from the first quote, single or double, to the last one,
//     quotes included, becomes '***'. Values are quoted either way (DuckDB
//     quotes some in double quotes, Snowflake those in variants), and a value
//     may itself hold quotes, so no quoted part is told from another; an
//     apostrophe inside a word (can't) is not a quote;
//   - every word holding a digit becomes #, unless it is a type name
//     (INT32): numbers are quoted by neither (Overflow in multiplication of
//     INT64 (845123456 * 1000)), and a number may be all a value is;
//   - the message stops at the first word left that is not one of the words
//     upstream messages are made of (errorWords): some messages echo a value
//     bare (DuckDB's regular expression errors, "missing ): ada@example.com(").
//
// What is left is the upstream's wording up to the first thing it could not
// vouch for: enough to tell what failed, never what the data holds.
func redactValues(msg string) string {
	quote := func(i int) bool {
		if msg[i] == '"' {
			return true
		}
		if msg[i] != '\'' {
			return false
		}
		before, _ := utf8.DecodeLastRuneInString(msg[:i])
		after, _ := utf8.DecodeRuneInString(msg[i+1:])
		return !unicode.IsLetter(before) || !unicode.IsLetter(after)
	}
	first, last := -1, -1
	for i := 0; i < len(msg); i++ {
		if quote(i) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	switch {
	case first < 0:
	case first == last: // unterminated: the rest may all be the value
		msg = msg[:first] + "'***'"
	default:
		msg = msg[:first] + "'***'" + msg[last+1:]
	}

	var b strings.Builder
	for i := 0; i < len(msg); {
		r, n := utf8.DecodeRuneInString(msg[i:])
		if !isWordRune(r) {
			b.WriteString(msg[i : i+n])
			i += n
			continue
		}
		j, digits := i, false
		for j < len(msg) {
			r, n := utf8.DecodeRuneInString(msg[j:])
			if r == '\'' && j > i && j+n < len(msg) {
				// an apostrophe within a word, as in can't
				if next, _ := utf8.DecodeRuneInString(msg[j+n:]); unicode.IsLetter(next) {
					j += n
					continue
				}
			}
			if !isWordRune(r) {
				break
			}
			digits = digits || unicode.IsDigit(r)
			j += n
		}
		word := msg[i:j]
		switch {
		case errorWords[strings.ToLower(word)]:
			b.WriteString(word)
		case digits:
			b.WriteByte('#')
		default:
			return strings.TrimRight(b.String(), " \t\n") + " [the rest is withheld: the statement reads columns masked for you]"
		}
		i = j
	}
	return b.String()
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '$'
}

// errorWords are the words DuckDB's and Snowflake's error messages are made
// of, besides the values they quote: what redactValues lets through.
var errorWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		sql execution compilation error errors conversion invalid input out of range binder parser catalog
		constraint not implemented internal unimplemented interrupt
		could convert string to when casting cast from source column field format expected is are was
		malformed at byte unexpected content after document overflow in multiplication addition
		subtraction division by zero type types with value values the a an for destination because can't
		cannot be and or on too long would truncated recognized parse as line position character row
		file if you like continue loading encountered use other such option options more information please
		run client does exist authorized identifier function functions argument arguments missing unsupported
		representable number numeric boolean date time timestamp interval year month day hour minute second
		auto no match matches given name explicit add might need candidate
		int integer bigint smallint tinyint hugeint uhugeint ubigint uinteger usmallint utinyint
		int8 int16 int32 int64 int128 uint8 uint16 uint32 uint64 uint128 float float4 float8 double real
		decimal fixed varchar char text blob binary bool uuid json variant object array list struct map
		timestamptz timestamp_ntz timestamp_ltz timestamp_tz utf8`) {
		m[w] = true
	}
	return m
}()
