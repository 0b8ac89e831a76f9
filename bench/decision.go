package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/snowgate/snowgate/engine"
)

// fixture is one policy input the analyser produced, from opa-tests/fixtures.
type fixture struct {
	name string
	in   engine.Input
	body []byte // {"input": ...} for the OPA server
}

// loadFixtures reads every input in dir: each file holds one, under its name.
func loadFixtures(dir string) ([]fixture, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no inputs in %s: %v", dir, err)
	}
	out := make([]fixture, 0, len(files))
	for _, f := range files {
		fx, err := readFixture(f)
		if err != nil {
			return nil, err
		}
		out = append(out, fx)
	}
	return out, nil
}

func readFixture(file string) (fixture, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fixture{}, err
	}
	name := strings.TrimSuffix(filepath.Base(file), ".json")
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fixture{}, fmt.Errorf("%s: %w", file, err)
	}
	in, ok := doc[name]
	if !ok {
		return fixture{}, fmt.Errorf("%s holds no input named %s", file, name)
	}
	fx := fixture{name: name}
	if err := json.Unmarshal(in, &fx.in); err != nil {
		return fixture{}, fmt.Errorf("%s: %w", file, err)
	}
	if fx.body, err = json.Marshal(map[string]json.RawMessage{"input": in}); err != nil {
		return fixture{}, err
	}
	return fx, nil
}

// decision measures the engine's decisions embedded, evaluated (every
// input's first decision: the engine's memo off) and remembered (a shape
// decided before: the memo's answer), and the same inputs' through a stock
// `opa run --server` on the same policy directory, input by input in
// turn, after checking that all decide the same action for each.
func (r *runner) decision(ctx context.Context) ([]Row, error) {
	dir := filepath.Join(r.cfg.Root, "rego")
	evaluated, err := engine.New(ctx, engine.Options{Dir: dir, MemoSize: -1})
	if err != nil {
		return nil, fmt.Errorf("engine on %s: %w", dir, err)
	}
	remembered, err := engine.New(ctx, engine.Options{Dir: dir})
	if err != nil {
		return nil, fmt.Errorf("engine on %s: %w", dir, err)
	}
	fxs, err := loadFixtures(filepath.Join(r.cfg.Root, "opa-tests", "fixtures"))
	if err != nil {
		return nil, err
	}
	deciders := []func(fixture) (string, error){decider(ctx, evaluated), decider(ctx, remembered)}
	rows := []Row{
		{Name: "decision", What: fmt.Sprintf("policy decision evaluated, %d inputs of opa-tests/fixtures: per decision", len(fxs))},
		{Name: "decision", What: "policy decision remembered (the same inputs again, engine's memo): per decision"},
	}
	opa := opaExists(r.cfg.OPA)
	if opa {
		srv, err := startOPA(ctx, r.cfg.OPA, dir)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		deciders = append(deciders, srv.decide)
	}
	// agree also gives the memo its one evaluation of each input.
	if err := agree(fxs, deciders...); err != nil {
		return nil, err
	}
	times, err := r.decideInTurn(fxs, deciders...)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		em := times[i]
		rows[i].Snowgate = fmt.Sprintf("embedded: p50 %s, p99 %s", fmtDur(em.median()), fmtDur(em.quantile(0.99)))
		rows[i].Figures = []float64{float64(em.median()), float64(em.quantile(0.99))}
		if !opa {
			rows[i].Baseline = "opa not found"
			rows[i].Note = "set SNOWGATE_OPA or put opa on PATH for the comparison"
			continue
		}
		ht := times[2]
		x, err := ratio(float64(ht.median()), float64(em.median()))
		if err != nil {
			return nil, err
		}
		rows[i].Baseline = fmt.Sprintf("`opa run --server`, POST over loopback: p50 %s, p99 %s", fmtDur(ht.median()), fmtDur(ht.quantile(0.99)))
		rows[i].Ratio = fmtRatio(x) + " (HTTP ÷ embedded, medians)"
		rows[i].Note = fmt.Sprintf("same action for each of the %d inputs; %s decisions each, in turn", len(fxs), fmtInt(int64(len(em))))
		rows[i].Figures = append(rows[i].Figures, float64(ht.median()), float64(ht.quantile(0.99)), x)
	}
	return rows, nil
}

func decider(ctx context.Context, e *engine.Engine) func(fixture) (string, error) {
	return func(fx fixture) (string, error) { return string(e.Decide(ctx, fx.in).Action), nil }
}

// agree checks that every decider decides the same action for each input.
func agree(fxs []fixture, deciders ...func(fixture) (string, error)) error {
	var differ []string
	for _, fx := range fxs {
		var actions []string
		for _, d := range deciders {
			a, err := d(fx)
			if err != nil {
				return fmt.Errorf("decide %s: %w", fx.name, err)
			}
			actions = append(actions, a)
		}
		if len(slices.Compact(slices.Clone(actions))) != 1 {
			differ = append(differ, fmt.Sprintf("%s (%s)", fx.name, strings.Join(actions, " vs ")))
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("embedded and opa server decide differently: %s", strings.Join(differ, ", "))
	}
	return nil
}

// decideInTurn decides every input with each decider in turn, round after
// round, until the measurement's time has passed.
func (r *runner) decideInTurn(fxs []fixture, deciders ...func(fixture) (string, error)) ([]latencies, error) {
	out := make([]latencies, len(deciders))
	end := time.Now().Add(r.cfg.Time)
	for len(out[0]) == 0 || time.Now().Before(end) {
		for _, fx := range fxs {
			for i, d := range deciders {
				start := time.Now()
				if _, err := d(fx); err != nil {
					return nil, fmt.Errorf("decide %s: %w", fx.name, err)
				}
				out[i] = append(out[i], time.Since(start))
			}
		}
	}
	return out, nil
}

// opaServer is a running `opa run --server`.
type opaServer struct {
	url  string
	http *httpClient
	stop func()
}

func (s *opaServer) decide(fx fixture) (string, error) {
	var out struct {
		Result struct {
			Action string `json:"action"`
		} `json:"result"`
	}
	if err := s.http.postJSON(s.url+"/v1/data/snowgate/decision", bytes.NewReader(fx.body), &out); err != nil {
		return "", err
	}
	if out.Result.Action == "" {
		return "", fmt.Errorf("opa server: no decision for %s", fx.name)
	}
	return out.Result.Action, nil
}
