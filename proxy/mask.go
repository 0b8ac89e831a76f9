package proxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/snowgate/snowgate/engine"
	"github.com/snowgate/snowgate/proxy/statement"
)

// maskFn rewrites one encoded cell; valid is false for NULL.
type maskFn func(cell string, valid bool) (string, bool)

// maskPlan is the mask of each result column; nil entries pass through.
type maskPlan []maskFn

// strength orders strategies when several masked sources feed one output:
// the strongest wins.
var strength = map[string]int{
	engine.MaskEmailDomain: 1, engine.MaskPartial: 2, engine.MaskHash: 3, engine.MaskRedact: 4, engine.MaskNull: 5,
}

// planMasks maps the decision's masks, keyed by source column, onto the
// statement's output columns through their lineage. It fails when a mask
// cannot be guaranteed: an output whose lineage is untraced, a strategy the
// gateway does not know, or outputs that do not line up with the result.
func planMasks(masks map[string]string, stmt statement.Statement, key []byte) (map[int]string, error) {
	for col, s := range masks {
		if _, ok := strength[s]; !ok {
			return nil, fmt.Errorf("unknown mask strategy %q for %s", s, col)
		}
	}
	plan := map[int]string{}
	for i, out := range stmt.Outputs {
		if !out.Traced {
			return nil, fmt.Errorf("result column %q cannot be traced to its sources, so masking cannot be guaranteed", out.Name)
		}
		for _, src := range out.Sources {
			s, ok := masks[columnKey(src)]
			if !ok {
				continue
			}
			// partial, email_domain and hash show something of the value
			// they mask. Of a plain copy that is what the policy chose; of
			// anything derived it can be an oracle: part of an expression
			// mixing columns or of an aggregate listing many values, or the
			// hash of a value with a handful of possible results (a CASE
			// yielding 1 or NULL hashes to one of two tokens). Only redact
			// and null show nothing.
			if out.Transform != statement.TransformCopy && s != engine.MaskNull {
				s = engine.MaskRedact
			}
			if strength[s] > strength[plan[i]] {
				plan[i] = s
			}
		}
	}
	if len(plan) == 0 && len(masks) > 0 && len(stmt.Outputs) == 0 {
		return nil, fmt.Errorf("the statement's result columns are unknown, so masking cannot be guaranteed")
	}
	return plan, nil
}

// columnKey is a source column as the policy names it: DB.SCHEMA.TABLE.COLUMN.
func columnKey(c statement.Column) string {
	return strings.Join([]string{c.Database, c.Schema, c.Table, c.Name}, ".")
}

// apply turns the strategy plan into per-column functions, and changes the
// masked columns' types so that every masked value stays valid for the type
// the drivers decode: the original type for null (every value is NULL),
// text that is never NULL for the other strategies.
func (p maskPlanSpec) apply(cols []Column) (maskPlan, error) {
	// Checked even when no output is masked: a result column the analysis
	// did not see could carry a masked source.
	if p.outputs != len(cols) {
		return nil, fmt.Errorf("the statement has %d result columns by analysis but %d upstream, so masking cannot be guaranteed", p.outputs, len(cols))
	}
	if len(p.byOutput) == 0 {
		return nil, nil
	}
	plan := make(maskPlan, len(cols))
	for i, strategy := range p.byOutput {
		if strategy == engine.MaskNull {
			cols[i].Nullable = true
		} else {
			cols[i] = Column{Name: cols[i].Name, Type: "text", Database: cols[i].Database, Schema: cols[i].Schema, Table: cols[i].Table}
		}
		plan[i] = maskFunc(strategy, p.key)
	}
	return plan, nil
}

// maskPlanSpec is a plan before the result's columns are known.
type maskPlanSpec struct {
	byOutput map[int]string
	outputs  int
	key      []byte
}

// redacted is what a redacted cell shows, and what every masked NULL shows
// under the strategies other than null: were a NULL to pass through, whether
// a masked value is NULL would be visible, and a masked expression that is
// NULL or not by the value it hides (CASE WHEN SUBSTR(ssn, 1, 1) = '1' THEN 1
// END) would give that away one bit at a time.
const redacted = "********"

func maskFunc(strategy string, key []byte) maskFn {
	switch strategy {
	case engine.MaskNull:
		return func(string, bool) (string, bool) { return "", false }
	case engine.MaskHash:
		// One MAC per column of one result, which one goroutine encodes:
		// reset for each value rather than keyed anew.
		m := hmac.New(sha256.New, key)
		var sum [sha256.Size]byte
		return func(cell string, valid bool) (string, bool) {
			if !valid {
				return redacted, true
			}
			m.Reset()
			m.Write([]byte(cell))
			return hex.EncodeToString(m.Sum(sum[:0])[:16]), true
		}
	case engine.MaskPartial:
		return func(cell string, valid bool) (string, bool) {
			if !valid {
				return redacted, true
			}
			n := utf8.RuneCountInString(cell)
			if n <= 4 {
				return strings.Repeat("*", n), true
			}
			r := []rune(cell)
			return strings.Repeat("*", n-4) + string(r[n-4:]), true
		}
	case engine.MaskEmailDomain:
		return func(cell string, valid bool) (string, bool) {
			if !valid {
				return redacted, true
			}
			if at := strings.LastIndexByte(cell, '@'); at >= 0 {
				return "****" + cell[at:], true
			}
			return redacted, true
		}
	}
	return func(string, bool) (string, bool) { return redacted, true }
}
