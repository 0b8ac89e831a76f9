package engine

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// fill sets every field reachable from v to a non-zero value, so that a
// field the hand-written converter misses shows up as a difference.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x-" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.25)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		if e := v.Type().Elem(); e.Kind() == reflect.Interface {
			m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf(any("v")))
		} else {
			val := reflect.New(e).Elem()
			fill(val, depth+1)
			m.SetMapIndex(reflect.ValueOf("k"), val)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth)
			}
		}
	}
}

// viaJSON is what OPA would get from encoding/json and its generic conversion.
func viaJSON(t *testing.T, v any) ast.Value {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	val, err := ast.InterfaceToValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	return val
}

func TestInputValue_matchesJSON(t *testing.T) {
	var full Input
	fill(reflect.ValueOf(&full).Elem(), 0)
	zero := Input{}
	agentOnly := input(agent(), selectCustomers())
	for name, in := range map[string]Input{"every field set": full, "zero": zero, "typical": agentOnly} {
		t.Run(name, func(t *testing.T) {
			got, want := inputValue(&in), viaJSON(t, in)
			if got.Compare(want) != 0 {
				t.Errorf("inputValue differs from the JSON encoding:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestConnectValue_matchesJSON(t *testing.T) {
	var full ConnectInput
	fill(reflect.ValueOf(&full).Elem(), 0)
	if got, want := connectValue(&full), viaJSON(t, full); got.Compare(want) != 0 {
		t.Errorf("connectValue differs from the JSON encoding:\n got %v\nwant %v", got, want)
	}
}

func TestItoa(t *testing.T) {
	for _, n := range []int64{0, 7, -7, 1234567890, -9223372036854775807} {
		if got, want := itoa(n), json.Number(func() string { b, _ := json.Marshal(n); return string(b) }()); got != string(want) {
			t.Errorf("itoa(%d) = %s, want %s", n, got, want)
		}
	}
}
