package proxy

import (
	"sync/atomic"

	"github.com/snowgate/snowgate/engine"
)

// counters are the gateway's running totals, for /metrics.
type counters struct {
	logins, loginsRefused atomic.Int64
	allow, deny, approval atomic.Int64
	mask, failed          atomic.Int64
	abandoned             atomic.Int64
}

func (c *counters) decided(a engine.Action) {
	switch a {
	case engine.ActionAllow:
		c.allow.Add(1)
	case engine.ActionDeny:
		c.deny.Add(1)
	case engine.ActionRequireApproval:
		c.approval.Add(1)
	case engine.ActionMask:
		c.mask.Add(1)
	}
}

// Stats is a snapshot of the gateway's counters.
type Stats struct {
	Sessions      int
	Logins        int64
	LoginsRefused int64
	Decisions     map[string]int64 // by action
	Failed        int64            // statements that failed upstream or in the gateway
	Abandoned     int64            // statements whose client left while they were held or ran
}

// Stats returns the gateway's counters.
func (s *Server) Stats() Stats {
	c := &s.counters
	return Stats{
		Sessions: len(s.sessions.all()), Logins: c.logins.Load(), LoginsRefused: c.loginsRefused.Load(),
		Decisions: map[string]int64{
			string(engine.ActionAllow): c.allow.Load(), string(engine.ActionDeny): c.deny.Load(),
			string(engine.ActionRequireApproval): c.approval.Load(), string(engine.ActionMask): c.mask.Load(),
		},
		Failed: c.failed.Load(), Abandoned: c.abandoned.Load(),
	}
}
