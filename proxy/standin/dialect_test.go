package standin

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/statement"
)

// TestDateParts: DATEADD and its synonyms, DATEDIFF and DATE_TRUNC with the
// part written as Snowflake lets it be (a bare word, a synonym, any case, a
// string) compute what Snowflake computes.
func TestDateParts(t *testing.T) {
	_, c := openSession(t)
	ctx := context.Background()
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		expr string
		want any
	}{
		{"DATEADD(year, -2, '2024-03-01'::DATE)", day("2022-03-01 00:00:00")},
		{"dateadd(YY, 1, '2024-02-29'::DATE)", day("2025-02-28 00:00:00")},
		{"DATEADD('month', 1, '2024-01-31'::DATE)", day("2024-02-29 00:00:00")},
		{"DATEADD(qtr, 1, '2024-01-15'::DATE)", day("2024-04-15 00:00:00")},
		{"DATEADD(Week, 2, '2024-01-01'::DATE)", day("2024-01-15 00:00:00")},
		{"DATEADD(dd, -1, '2024-03-01'::DATE)", day("2024-02-29 00:00:00")},
		{"TIMEADD(hh, 5, '2024-01-01 22:00:00'::TIMESTAMP)", day("2024-01-02 03:00:00")},
		{"TIMESTAMPADD(mi, 90, '2024-01-01 00:00:00'::TIMESTAMP)", day("2024-01-01 01:30:00")},
		{"DATEADD(sec, 30, '2024-01-01 00:00:00'::TIMESTAMP)", day("2024-01-01 00:00:30")},
		{"DATEDIFF(day, '2024-01-01'::DATE, '2024-03-01'::DATE)", int64(60)},
		{"DATEDIFF(month, '2024-01-31'::DATE, '2024-02-01'::DATE)", int64(1)},
		{"TIMESTAMPDIFF(hour, '2024-01-01 00:00:00'::TIMESTAMP, '2024-01-02 06:00:00'::TIMESTAMP)", int64(30)},
	} {
		out, err := c.Run(ctx, proxy.Exec{SQL: "SELECT " + tc.expr, Kind: statement.KindSelect})
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		row := make([]any, 1)
		err = out.Rows.Next(row)
		out.Rows.Close()
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		got := row[0]
		if ts, ok := got.(time.Time); ok {
			got = ts.UTC()
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s = %v (%T), want %v", tc.expr, got, got, tc.want)
		}
	}
}
