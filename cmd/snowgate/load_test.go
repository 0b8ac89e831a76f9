package main

import (
	"strings"
	"testing"

	"github.com/snowgate/snowgate/load"
)

func TestLoadMix(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		mix, err := loadMix("", nil)
		if err != nil {
			t.Fatal(err)
		}
		weights := map[string]int{}
		for _, s := range mix {
			weights[s.Class] = s.Weight
		}
		if len(mix) != 5 || weights["allowed"] != 60 || weights["masked"] != 20 || weights["denied"] != 10 || weights["approval"] != 5 || weights["large"] != 5 {
			t.Errorf("default weights %v", weights)
		}
	})
	t.Run("weights and statements", func(t *testing.T) {
		mix, err := loadMix("denied=0, large=7", []string{"masked=SELECT phone FROM customers LIMIT 1"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range mix {
			switch s.Class {
			case "denied":
				if s.Weight != 0 {
					t.Errorf("denied weight %d, want 0", s.Weight)
				}
			case "large":
				if s.Weight != 7 {
					t.Errorf("large weight %d, want 7", s.Weight)
				}
			case "masked":
				if s.SQL != "SELECT phone FROM customers LIMIT 1" || s.Check != nil || s.Weight != 20 {
					t.Errorf("masked: %q, check %v, weight %d: want the given SQL, no value check, the default weight", s.SQL, s.Check != nil, s.Weight)
				}
			}
		}
	})
	for _, tc := range []struct{ weights, sql, want string }{
		{weights: "nosuch=1", want: `statement class "nosuch"`},
		{weights: "allowed=-1", want: "weight of 0 or more"},
		{weights: "allowed=x", want: "weight of 0 or more"},
		{sql: "allowed", want: "want CLASS=SQL"},
		{sql: "nosuch=SELECT 1", want: `statement class "nosuch"`},
	} {
		t.Run("bad "+tc.weights+tc.sql, func(t *testing.T) {
			var sqls []string
			if tc.sql != "" {
				sqls = []string{tc.sql}
			}
			_, err := loadMix(tc.weights, sqls)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestSoakVerdict(t *testing.T) {
	if err := soakVerdict(&load.Report{Unexpected: 3}); err != nil {
		t.Errorf("a run that is not a soak: %v, want no verdict", err)
	}
	flat := &load.Soak{OK: true}
	if err := soakVerdict(&load.Report{Sent: 10, Soak: flat}); err != nil {
		t.Errorf("a flat soak: %v", err)
	}
	for _, tc := range []struct {
		rep  load.Report
		want string
	}{
		{load.Report{Sent: 10, Unexpected: 2, Soak: flat}, "2 of 10 statements had an unexpected outcome"},
		{load.Report{Sent: 10, Logins: load.Class{Sent: 4, Outcomes: map[string]int64{load.Error: 1}}, Soak: flat}, "1 of 4 logins failed"},
		{load.Report{Sent: 10, Soak: &load.Soak{Problems: []string{"go_goroutines grew under constant load"}}}, "go_goroutines grew"},
	} {
		err := soakVerdict(&tc.rep)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "soak failed: "+tc.want) {
			t.Errorf("%+v: %v (exit %d), want exit 1 saying %q", tc.rep, err, exitCode(err), tc.want)
		}
	}
}
