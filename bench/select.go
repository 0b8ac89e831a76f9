package bench

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/snowgate/snowgate/proxy"
)

// smallSelect measures the small SELECT's median latency with gosnowflake,
// serially, through the gateway (default library, durable audit record)
// and straight to the same stand-in, the two in turn.
func (r *runner) smallSelect(ctx context.Context) ([]Row, error) {
	st, err := startStack(ctx, "", proxy.Config{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	gw, err := openGateway(st, "analyst")
	if err != nil {
		return nil, err
	}
	defer gw.Close()
	direct, err := openDirect(st)
	if err != nil {
		return nil, err
	}
	defer direct.Close()
	for name, db := range map[string]*sql.DB{"gateway": gw, "direct": direct} {
		if err := querySmall(ctx, db); err != nil { // log in and warm
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	times, err := alternate(r.cfg.Time,
		func() error { return querySmall(ctx, gw) },
		func() error { return querySmall(ctx, direct) })
	if err != nil {
		return nil, err
	}
	g, d := times[0].median(), times[1].median()
	x, err := ratio(float64(g), float64(d))
	if err != nil {
		return nil, err
	}
	return []Row{{
		Name:     "select",
		What:     "small SELECT, gosnowflake, serial: median per statement",
		Snowgate: fmt.Sprintf("through the gateway (durable audit): %s", fmtDur(g)),
		Baseline: fmt.Sprintf("direct to the stand-in: %s", fmtDur(d)),
		Ratio:    fmtRatio(x) + " (gateway ÷ direct)",
		Note:     fmt.Sprintf("%s; %s statements each, in turn", smallSelect, fmtInt(int64(len(times[0])))),
		Figures:  []float64{float64(g), float64(d), x},
	}}, nil
}
