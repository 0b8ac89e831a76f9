package proxy

// The REST API's answers (restapi.go): the rows of SHOW and DESCRIBE
// results, read back, and snowflake.core's models built from them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy/statement"
)

// catalogRow is a row of a SHOW or DESCRIBE result by lower-cased column
// name; nil is NULL.
type catalogRow map[string]*string

func (r catalogRow) str(col string) string {
	if v := r[col]; v != nil {
		return *v
	}
	return ""
}

// readRows reads a result's rows, inline and spooled.
func readRows(res *result) ([]catalogRow, error) {
	var rows []catalogRow
	add := func(part []byte) error {
		if len(part) == 0 {
			return nil
		}
		var cells [][]*string
		if err := json.Unmarshal(append(append([]byte{'['}, part...), ']'), &cells); err != nil {
			return fmt.Errorf("read result rows: %w", err)
		}
		for _, cs := range cells {
			row := make(catalogRow, len(res.columns))
			for i, col := range res.columns {
				if i < len(cs) {
					row[strings.ToLower(col.Name)] = cs[i]
				}
			}
			rows = append(rows, row)
		}
		return nil
	}
	if err := add(res.Inline); err != nil {
		return nil, err
	}
	if res.Chunks != nil {
		for i := range res.Chunks.Len() {
			sec, _ := res.Chunks.Section(i)
			if sec == nil {
				return nil, errors.New("read result rows: the spooled result is gone")
			}
			b, err := io.ReadAll(sec)
			if err != nil {
				return nil, fmt.Errorf("read result rows: %w", err)
			}
			if err := add(b); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// object is a model as JSON; its setters leave out what the row does not
// hold, as snowflake.core leaves out what is None.
type object map[string]any

func (o object) text(key, v string) {
	if v != "" {
		o[key] = v
	}
}

func (o object) integer(key, v string) {
	if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		o[key] = n
	}
}

// flag sets a boolean from Snowflake's spellings of one: Y/N, ON/OFF,
// true/false.
func (o object) flag(key, v string) {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "Y", "YES", "ON", "TRUE":
		o[key] = true
	case "N", "NO", "OFF", "FALSE":
		o[key] = false
	}
}

// timestamp sets a time from its result encoding (seconds since the epoch,
// then the time zone's offset for timestamp_tz) as RFC 3339.
func (o object) timestamp(key, v string) {
	secs, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	whole, frac, _ := strings.Cut(secs, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			o[key] = t.UTC().Format(time.RFC3339Nano)
		}
		return
	}
	var nsec int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return
		}
		if strings.HasPrefix(whole, "-") {
			nsec = -nsec
		}
	}
	o[key] = time.Unix(sec, nsec).UTC().Format(time.RFC3339Nano)
}

// common sets what every SHOW row of the four says the same way.
func (o object) common(r catalogRow) {
	o.timestamp("created_on", r.str("created_on"))
	o.timestamp("dropped_on", r.str("dropped_on"))
	o.text("comment", r.str("comment"))
	o.text("owner", r.str("owner"))
	o.text("owner_role_type", r.str("owner_role_type"))
	o.text("budget", r.str("budget"))
	if db := r.str("database_name"); db != "" {
		o["database_name"] = quoteName(db)
	}
	if sc := r.str("schema_name"); sc != "" {
		o["schema_name"] = quoteName(sc)
	}
}

// container sets what databases and schemas share: the common fields,
// whether they are the default and current, their options and retention.
func (o object) container(r catalogRow) {
	o.common(r)
	o.flag("is_default", r.str("is_default"))
	o.flag("is_current", r.str("is_current"))
	o.text("options", r.str("options"))
	o.integer("retention_time", r.str("retention_time"))
	o.integer("data_retention_time_in_days", r.str("retention_time"))
}

// databaseJSON is snowflake.core's Database from a SHOW DATABASES row.
func databaseJSON(r catalogRow) object {
	o := object{"name": quoteName(r.str("name")), "kind": "PERMANENT"}
	if strings.Contains(strings.ToUpper(r.str("options")), "TRANSIENT") || strings.EqualFold(r.str("kind"), "TRANSIENT") {
		o["kind"] = "TRANSIENT"
	}
	o.container(r)
	o.text("origin", r.str("origin"))
	return o
}

// schemaJSON is snowflake.core's Schema from a SHOW SCHEMAS row.
func schemaJSON(r catalogRow) object {
	opts := strings.ToUpper(r.str("options"))
	o := object{"name": quoteName(r.str("name")), "kind": "PERMANENT", "managed_access": strings.Contains(opts, "MANAGED ACCESS")}
	if strings.Contains(opts, "TRANSIENT") {
		o["kind"] = "TRANSIENT"
	}
	o.container(r)
	return o
}

// tableJSON is snowflake.core's Table from a SHOW TABLES row and, when
// described, the DESCRIBE TABLE rows: its columns and primary key.
func tableJSON(r catalogRow, cols []catalogRow, described bool) object {
	o := object{"name": quoteName(r.str("name"))}
	switch strings.ToUpper(r.str("kind")) {
	case "TRANSIENT":
		o["kind"] = "TRANSIENT"
	case "TEMPORARY", "LOCAL TEMPORARY", "GLOBAL TEMPORARY":
		o["kind"] = "TEMPORARY"
	default:
		o["kind"] = "PERMANENT"
	}
	o.common(r)
	if by := clusterBy(r.str("cluster_by")); len(by) > 0 {
		o["cluster_by"] = by
	}
	o.integer("rows", r.str("rows"))
	o.integer("bytes", r.str("bytes"))
	o.integer("data_retention_time_in_days", r.str("retention_time"))
	o.flag("change_tracking", r.str("change_tracking"))
	o.flag("enable_schema_evolution", r.str("enable_schema_evolution"))
	o.flag("automatic_clustering", r.str("automatic_clustering"))
	o.flag("search_optimization", r.str("search_optimization"))
	o.integer("search_optimization_progress", r.str("search_optimization_progress"))
	o.integer("search_optimization_bytes", r.str("search_optimization_bytes"))
	o["table_type"] = "NORMAL"
	for _, t := range []string{"external", "dynamic", "event", "hybrid", "iceberg", "immutable"} {
		if strings.EqualFold(r.str("is_"+t), "Y") {
			o["table_type"] = strings.ToUpper(t)
		}
	}
	if !described {
		return o
	}
	columns, key := []object{}, []string{}
	for _, c := range cols {
		col := object{"name": quoteName(c.str("name")), "datatype": c.str("type"), "nullable": !strings.EqualFold(c.str("null?"), "N")}
		col.text("default", c.str("default"))
		col.text("comment", c.str("comment"))
		columns = append(columns, col)
		if strings.EqualFold(c.str("primary key"), "Y") {
			key = append(key, quoteName(c.str("name")))
		}
	}
	o["columns"] = columns
	if len(key) > 0 {
		o["constraints"] = []object{{"constraint_type": "PRIMARY KEY", "column_names": key}}
	}
	return o
}

// viewJSON is snowflake.core's View from a SHOW VIEWS row and the DESCRIBE
// VIEW rows (columns and query are required: a list that is not deep
// gives no columns).
func viewJSON(r catalogRow, cols []catalogRow) object {
	o := object{"name": quoteName(r.str("name")), "kind": "PERMANENT", "query": viewQuery(r.str("text"))}
	if strings.Contains(strings.ToUpper(r.str("kind")), "TEMPORARY") {
		o["kind"] = "TEMPORARY"
	}
	o.common(r)
	o.flag("secure", r.str("is_secure"))
	columns := []object{}
	for _, c := range cols {
		col := object{"name": quoteName(c.str("name")), "datatype": c.str("type")}
		col.text("comment", c.str("comment"))
		columns = append(columns, col)
	}
	o["columns"] = columns
	return o
}

// clusterBy reads SHOW TABLES' cluster_by, LINEAR(a, b), as its keys.
func clusterBy(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if len(v) > 7 && strings.EqualFold(v[:7], "LINEAR(") && strings.HasSuffix(v, ")") {
		v = v[7 : len(v)-1]
	}
	var keys []string
	depth, start := 0, 0
	for i, ch := range v {
		switch ch {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				keys = append(keys, strings.TrimSpace(v[start:i]))
				start = i + 1
			}
		}
	}
	return append(keys, strings.TrimSpace(v[start:]))
}

// viewQuery is the query of a view's text (CREATE VIEW name [(columns)]
// [options] AS query): what follows the first AS outside parentheses
// after VIEW. A text it cannot read is given whole.
func viewQuery(text string) string {
	toks, err := statement.Lex(text)
	if err != nil {
		return text
	}
	depth, view := 0, false
	for _, t := range toks {
		switch {
		case t.Kind == statement.TokOp && t.Value == "(":
			depth++
		case t.Kind == statement.TokOp && t.Value == ")":
			depth--
		case t.Kind == statement.TokIdent && t.Value == "VIEW":
			view = true
		case view && depth == 0 && t.Kind == statement.TokIdent && t.Value == "AS":
			return strings.TrimSpace(text[t.End:])
		}
	}
	return text
}
