package proxy

import (
	"strings"
	"testing"
)

// TestRedactValues runs upstream error messages, as DuckDB (the stand-in)
// and Snowflake word them, through the redaction applied to failures of
// statements that read masked columns: what is left keeps the wording up to
// the first word that could be data, and no value.
func TestRedactValues(t *testing.T) {
	cases := []struct {
		msg    string
		values []string // must not survive, nor any of their digits
		want   string
	}{
		// DuckDB, through the stand-in
		{"SQL execution error: Conversion Error: Could not convert string '429-41-1007' to INT32 when casting from source column SSN",
			[]string{"429-41-1007"},
			"SQL execution error: Conversion Error: Could not convert string '***' to INT32 when casting from source column [the rest is withheld: the statement reads columns masked for you]"},
		{"SQL execution error: Conversion Error: Could not convert string '429411007' to INT8",
			[]string{"429411007"},
			"SQL execution error: Conversion Error: Could not convert string '***' to INT8"},
		{`SQL execution error: Conversion Error: Could not convert string "429-41-1007" to DECIMAL(4,2) when casting from source column SSN`,
			[]string{"429-41-1007"},
			"SQL execution error: Conversion Error: Could not convert string '***' to DECIMAL(#,#) when casting from source column [the rest is withheld: the statement reads columns masked for you]"},
		{`SQL execution error: Conversion Error: invalid date field format: "429-41-1007", expected format is (YYYY-MM-DD) when casting from source column SSN`,
			[]string{"429-41-1007"},
			"SQL execution error: Conversion Error: invalid date field format: '***', expected format is ( [the rest is withheld: the statement reads columns masked for you]"},
		{`SQL execution error: Conversion Error: invalid timestamp field format: "grace.1@mail.test", expected format is (YYYY-MM-DD HH:MM:SS[.US][±HH[:MM[:SS]]| ZONE]) when casting from source column EMAIL`,
			[]string{"grace", "mail.test"},
			"SQL execution error: Conversion Error: invalid timestamp field format: '***', expected format is ( [the rest is withheld: the statement reads columns masked for you]"},
		{`SQL execution error: Invalid Input Error: Malformed JSON at byte 3 of input: unexpected content after document.  Input: "429-41-1007"`,
			[]string{"429-41-1007"},
			"SQL execution error: Invalid Input Error: Malformed JSON at byte # of input: unexpected content after document.  Input: '***'"},
		{"SQL execution error: Out of Range Error: Overflow in multiplication of INT64 (429411007 * 1000000000000)!",
			[]string{"429411007"},
			"SQL execution error: Out of Range Error: Overflow in multiplication of INT64 (# * #)!"},
		{"SQL execution error: Invalid Input Error: missing ): grace.1@mail.test(",
			[]string{"grace", "mail"},
			"SQL execution error: Invalid Input Error: missing ): [the rest is withheld: the statement reads columns masked for you]"},
		{"SQL execution error: Invalid Input Error: missing ): 429-41-1007(",
			[]string{"429", "1007"},
			"SQL execution error: Invalid Input Error: missing ): #-#-#("},
		// a value holding quotes cannot break out of the redaction
		{"SQL execution error: Conversion Error: Could not convert string 'x' O'Brien 'y' to INT32",
			[]string{"Brien"},
			"SQL execution error: Conversion Error: Could not convert string '***' to INT32"},
		{"SQL execution error: Conversion Error: Could not convert string 'O'Brien",
			[]string{"Brien"},
			"SQL execution error: Conversion Error: Could not convert string '***'"},
		// Snowflake (texts as its users report them)
		{"Numeric value 'one' is not recognized", []string{"one"}, "Numeric value '***' is not recognized"},
		{"Numeric value '' is not recognized", nil, "Numeric value '***' is not recognized"},
		{"Timestamp '20107-05-10' is not recognized", []string{"20107"}, "Timestamp '***' is not recognized"},
		{"Date '2021-04-07' is not recognized", []string{"2021"}, "Date '***' is not recognized"},
		{"Can't parse '9999-12-31 23:59:59.999999' as timestamp with format 'AUTO'", []string{"9999"}, "Can't parse '***'"},
		{"String 'my string here ...' is too long and would be truncated", []string{"my string here"}, "String '***' is too long and would be truncated"},
		{"01aa153d-0606-b80e-0000-682122c74986: Numeric value 'id' is not recognized", nil,
			"#-#-#-#-#: Numeric value '***' is not recognized"},
		{"Numeric value '2021-01-16 09:03:43.1983+00:00' is not recognized\n  File '@TMP_DD0B756A/159158ca.gz', line 25930, character 96\n  Row 25930, column \"TMP_DD0B756A\"[\"ID\":2]\n" +
			"  If you would like to continue loading when an error is encountered, use other values such as 'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option.",
			[]string{"2021", "25930"},
			"Numeric value '***' for the [the rest is withheld: the statement reads columns masked for you]"},
		{"Numeric value 845123456 is not recognized", []string{"845123456"}, "Numeric value # is not recognized"},
	}
	for _, c := range cases {
		got := redactValues(c.msg)
		if got != c.want {
			t.Errorf("redactValues(%q)\n got %q\nwant %q", c.msg, got, c.want)
		}
		for _, v := range c.values {
			if strings.Contains(got, v) {
				t.Errorf("redactValues(%q) = %q: still holds %q", c.msg, got, v)
			}
		}
		if strings.ContainsAny(strings.NewReplacer("INT32", "", "INT64", "", "INT8", "").Replace(got), "0123456789") {
			t.Errorf("redactValues(%q) = %q: holds a digit", c.msg, got)
		}
	}
}
