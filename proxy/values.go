package proxy

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/snowgate/snowgate/proxy/rowset"
)

// Column describes one result column as Snowflake's rowtype does. Type is
// Snowflake's lower-case type name: fixed, real, text, boolean, date, time,
// timestamp_ntz, timestamp_ltz, timestamp_tz, binary, variant, object, array.
type Column struct {
	Name      string
	Type      string
	Precision int64 // fixed only
	Scale     int64 // fixed, time and timestamps
	Length    int64 // text and binary; 0 when unknown
	Nullable  bool
	Database  string
	Schema    string
	Table     string
}

// Fixed is an exact decimal: Unscaled × 10^-Scale. Upstreams hand exact
// numbers over as Fixed (or int64, or their decimal text) so they never pass
// through a float.
type Fixed struct {
	Unscaled *big.Int
	Scale    int
}

func (f Fixed) String() string {
	var s string
	if f.Unscaled.IsInt64() { // the common case, without big's division
		s = strconv.FormatInt(f.Unscaled.Int64(), 10)
	} else {
		s = f.Unscaled.String()
	}
	if f.Scale <= 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= f.Scale {
		s = strings.Repeat("0", f.Scale-len(s)+1) + s
	}
	s = s[:len(s)-f.Scale] + "." + s[len(s)-f.Scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// encodeValue renders a Go value as the string Snowflake's JSON result format
// carries for a column of type col.Type. nil is SQL NULL.
func encodeValue(col *Column, v any) (string, bool, error) {
	if v == nil {
		return "", false, nil
	}
	switch col.Type {
	case "fixed":
		s, err := fixedText(v, col.Scale)
		return s, true, err
	case "real":
		f, err := realValue(v)
		return string(rowset.AppendReal(nil, f)), true, err // as all three drivers parse it, non-finite values too
	case "boolean":
		switch b := v.(type) {
		case bool:
			if b {
				return "1", true, nil
			}
			return "0", true, nil
		case string:
			return b, true, nil
		}
	case "date":
		if t, ok := v.(time.Time); ok {
			d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			return strconv.FormatInt(d.Unix()/86400, 10), true, nil // midnight: a whole number of days
		}
	case "time":
		if t, ok := v.(time.Time); ok {
			secs := int64(t.Hour()*3600 + t.Minute()*60 + t.Second())
			return epochText(secs, int64(t.Nanosecond()), col.Scale), true, nil
		}
	case "timestamp_ntz":
		if t, ok := v.(time.Time); ok {
			w := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			return epochText(w.Unix(), int64(w.Nanosecond()), col.Scale), true, nil
		}
	case "timestamp_ltz":
		if t, ok := v.(time.Time); ok {
			return epochText(t.Unix(), int64(t.Nanosecond()), col.Scale), true, nil
		}
	case "timestamp_tz":
		if t, ok := v.(time.Time); ok {
			_, off := t.Zone()
			return epochText(t.Unix(), int64(t.Nanosecond()), col.Scale) + " " + strconv.Itoa(off/60+1440), true, nil
		}
	case "binary":
		switch b := v.(type) {
		case []byte:
			return strings.ToUpper(hex.EncodeToString(b)), true, nil
		case string:
			return strings.ToUpper(hex.EncodeToString([]byte(b))), true, nil
		}
	case "variant", "object", "array":
		switch x := v.(type) {
		case string:
			return x, true, nil
		case []byte:
			return string(x), true, nil
		default:
			b, err := json.Marshal(jsonable(x))
			return string(b), true, err
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, true, nil
		case []byte:
			return string(x), true, nil
		case time.Time:
			return x.Format(time.RFC3339Nano), true, nil
		case fmt.Stringer:
			return x.String(), true, nil
		default:
			return fmt.Sprint(x), true, nil
		}
	}
	return "", false, fmt.Errorf("column %q of type %s: cannot encode a %T", col.Name, col.Type, v)
}

func fixedText(v any, scale int64) (string, error) {
	switch n := v.(type) {
	case int64:
		if scale <= 0 {
			return strconv.FormatInt(n, 10), nil
		}
		return strconv.FormatInt(n, 10) + "." + strings.Repeat("0", int(scale)), nil
	case int32:
		return fixedText(int64(n), scale)
	case int16:
		return fixedText(int64(n), scale)
	case int8:
		return fixedText(int64(n), scale)
	case int:
		return fixedText(int64(n), scale)
	case uint8:
		return fixedText(int64(n), scale)
	case uint16:
		return fixedText(int64(n), scale)
	case uint32:
		return fixedText(int64(n), scale)
	case uint64:
		return new(big.Int).SetUint64(n).String(), nil
	case *big.Int:
		return n.String(), nil
	case Fixed:
		return n.String(), nil
	case string:
		return n, nil
	case float64:
		return strconv.FormatFloat(n, 'f', int(scale), 64), nil
	}
	return "", fmt.Errorf("cannot encode a %T as fixed", v)
}

func realValue(v any) (float64, error) {
	switch n := v.(type) {
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case int32:
		return float64(n), nil
	case string:
		return strconv.ParseFloat(n, 64)
	}
	return 0, fmt.Errorf("cannot encode a %T as real", v)
}

// epochText renders seconds and nanoseconds as "seconds.fraction" with
// exactly scale fraction digits (rowset.AppendEpoch).
func epochText(secs, nanos, scale int64) string {
	return string(rowset.AppendEpoch(nil, secs, nanos, scale))
}

// jsonable turns the maps and lists an upstream returns for semi-structured
// values into something encoding/json can write.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = jsonable(e)
		}
		return l
	case []byte:
		return strings.ToUpper(hex.EncodeToString(x))
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case *big.Int:
		return json.Number(x.String())
	case Fixed:
		return json.Number(x.String())
	case fmt.Stringer:
		return x.String()
	}
	return v
}
