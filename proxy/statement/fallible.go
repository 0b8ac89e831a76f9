package statement

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// Fallible expressions: an output computed by something that can raise an
// error for some values (a cast to a number or a date, arithmetic that can
// overflow or divide by zero, a parse, a regular expression built from
// data, any function not known to be total) fails or not by the values it
// reads. Over a masked column that is an oracle however the result is
// masked: IFF(ssn LIKE '1%', 1/0, 0) errors exactly when the SSN starts
// with 1, and IFF(ssn LIKE '1%', (SELECT ... a slow query), 0) takes long
// exactly then. The list of total functions errs on the side of leaving names
// out: a function missing here makes an output fallible, never safe.

// fallible reports whether the node itself can raise an error at run time.
func fallible(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.FuncCastExpr:
		return !textType(x.Tp.GetType())
	case *ast.BinaryOperationExpr:
		switch x.Op {
		case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
			if isConst(x) { // 1 + 1 is safe wherever it stands; 1/0 fails when evaluated
				_, ok := constant(x)
				return !ok
			}
			return true
		}
	case *ast.FuncCallExpr:
		return !totalFunctions[x.FnName.L]
	case *ast.AggregateFuncExpr:
		return !total(x.F)
	case *ast.WindowFuncExpr:
		return !total(x.Name)
	case *ast.PatternRegexpExpr:
		return !isConst(x.Pattern)
	}
	return false
}

// branching reports whether n evaluates some of its operands only for
// some values of the others (CASE, IFF, COALESCE, AND/OR, ...): a subquery
// there runs, or not, by the values read, and it can be made slow or made
// to fail, so the time or the outcome tells which branch was taken.
func branching(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.CaseExpr:
		return true
	case *ast.FuncCallExpr:
		switch x.FnName.L {
		case "if", "iff", "coalesce", "nvl", "nvl2", "ifnull", "nullif", "decode", "zeroifnull", "nullifzero":
			return true
		}
	case *ast.BinaryOperationExpr:
		return x.Op == opcode.LogicAnd || x.Op == opcode.LogicOr
	}
	return false
}

func textType(t byte) bool {
	switch t {
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString, mysql.TypeBlob, mysql.TypeTinyBlob,
		mysql.TypeMediumBlob, mysql.TypeLongBlob, mysql.TypeJSON:
		return true
	}
	return false
}

// total looks a function name up as written (aggregate and window names
// keep the statement's case): upper and lower case without a copy.
func total(name string) bool {
	return totalFunctions[name] || totalFunctions[strings.ToLower(name)]
}

// totalFunctions never raise an error for arguments of the right type:
// string functions that only move or compare characters, conditionals,
// hashes, and the aggregates and window functions that only pick or count
// values. Lower case, as the parser's FnName.L gives them, and upper case.
var totalFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`
		UPPER LOWER INITCAP TRIM LTRIM RTRIM LENGTH LEN CHAR_LENGTH CHARACTER_LENGTH OCTET_LENGTH BIT_LENGTH
		CONCAT CONCAT_WS SUBSTR SUBSTRING LEFT RIGHT REPLACE REVERSE TRANSLATE SPLIT_PART STARTSWITH ENDSWITH
		CONTAINS POSITION CHARINDEX LOCATE INSTR SOUNDEX EDITDISTANCE JAROWINKLER_SIMILARITY ASCII UNICODE
		MD5 MD5_HEX SHA1 SHA1_HEX SHA2 SHA2_HEX HASH BASE64_ENCODE HEX_ENCODE COLLATE
		COALESCE IFNULL NVL NVL2 NULLIF IFF IF DECODE EQUAL_NULL ZEROIFNULL NULLIFZERO
		TO_VARCHAR TO_CHAR TO_VARIANT TYPEOF IS_NULL_VALUE
		TRY_CAST TRY_TO_NUMBER TRY_TO_DECIMAL TRY_TO_NUMERIC TRY_TO_DOUBLE TRY_TO_DATE TRY_TO_TIME
		TRY_TO_TIMESTAMP TRY_TO_TIMESTAMP_LTZ TRY_TO_TIMESTAMP_NTZ TRY_TO_TIMESTAMP_TZ TRY_TO_BOOLEAN
		TRY_TO_BINARY TRY_PARSE_JSON TRY_BASE64_DECODE_STRING TRY_BASE64_DECODE_BINARY TRY_HEX_DECODE_STRING
		TRY_HEX_DECODE_BINARY
		ARRAY_CONSTRUCT ARRAY_CONSTRUCT_COMPACT OBJECT_CONSTRUCT OBJECT_CONSTRUCT_KEEP_NULL ARRAY_SIZE
		GET GET_PATH GET_IGNORE_CASE JSON_EXTRACT_PATH_TEXT
		COUNT COUNT_IF MIN MAX ANY_VALUE ARRAY_AGG ARRAYAGG LISTAGG GROUP_CONCAT APPROX_COUNT_DISTINCT
		HASH_AGG BOOLAND_AGG BOOLOR_AGG MODE
		ROW_NUMBER RANK DENSE_RANK PERCENT_RANK CUME_DIST NTILE LEAD LAG FIRST_VALUE LAST_VALUE NTH_VALUE
		CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_ROLE CURRENT_DATABASE CURRENT_SCHEMA
		CURRENT_WAREHOUSE CURRENT_ACCOUNT CURRENT_REGION CURRENT_SESSION CURRENT_VERSION
	`) {
		totalFunctions[f], totalFunctions[strings.ToLower(f)] = true, true
	}
}
