package engine

import (
	"crypto/sha256"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// valueKey is what the memo's key must tell apart: the parts of the input
// as Rego reads it (the converted value) at the memo's paths, each as
// canonical Rego text or absent, or the whole input.
func valueKey(m *memo, in *Input) memoKey {
	v := inputValue(in)
	var b []byte
	if m.paths == nil {
		b, _ = ast.NewTerm(v).AppendText(b)
	}
	for _, p := range m.paths {
		x, err := v.(ast.Object).Find(p)
		if err != nil || x == nil {
			b = append(b, 0)
			continue
		}
		b, _ = ast.NewTerm(x).AppendText(b)
		b = append(b, '\n')
	}
	return sha256.Sum256(b)
}

func mustKey(t *testing.T, m *memo, in *Input) memoKey {
	t.Helper()
	k, ok := m.key(in)
	if !ok {
		t.Fatal("no key")
	}
	return k
}

// TestMemoKey_tellsApart: for every input of opa-tests/fixtures and every
// change of one of its values (each string, number, bool, time, pointer,
// list and map, at any depth), two inputs whose converted values differ
// where a memo reads have different keys: the key taken from the Go input
// tells apart whatever the policy could. Memos: the default library's
// paths, the whole input, and every object path of the input down to its
// lists.
func TestMemoKey_tellsApart(t *testing.T) {
	library := newTestEngine(t, Options{}).active.Load().memo.Load()
	if library == nil || len(library.paths) < 10 {
		t.Fatalf("the default library's memo: %+v", library)
	}
	var changes, differ, spare int
	for _, name := range fixtureNames(t) {
		base := fixture(t, name)
		base.Estimate = &Estimate{Object: "D.S.T", Rows: 1, Total: 2, Share: 0.5, Method: EstimateCount, Scans: []Scan{{Object: "D.S.T"}}}
		base.Usage = &Usage{Groups: map[string]Counts{"analysts": {Sessions: 1}}, Agent: &Counts{}}
		memos := []*memo{library, {}, everyPath(&base)}
		base.Identity.Claims = map[string]any{"sub": "u-1", "n": 1.5, "list": []any{"a", true}, "obj": map[string]any{"k": "v"}}
		values, keys := make([]memoKey, len(memos)), make([]memoKey, len(memos))
		for mi, m := range memos {
			values[mi], keys[mi] = valueKey(m, &base), mustKey(t, m, &base)
		}
		for i := 0; ; i++ {
			in := deepCopy(base)
			if !mutate(reflect.ValueOf(&in).Elem(), i) {
				break
			}
			changes++
			for mi, m := range memos {
				same := mustKey(t, m, &in) == keys[mi]
				if valueKey(m, &in) == values[mi] {
					if same {
						spare++
					}
					continue
				}
				differ++
				if same {
					t.Errorf("%s, change %d, memo %d: the inputs differ where it reads, the keys do not", name, i, mi)
				}
			}
		}
	}
	if changes < 1000 || differ < changes {
		t.Errorf("%d changes, %d differing where a memo reads: the test changed too little", changes, differ)
	}
	t.Logf("%d changes; %d memo and change pairs differ where the memo reads, all with different keys; %d share a key and the value read", changes, differ, spare)
}

// everyPath is a memo that reads every object path of in's converted
// value, down to (and not into) lists.
func everyPath(in *Input) *memo {
	var paths []ast.Ref
	var walk func(ast.Ref, ast.Value)
	walk = func(p ast.Ref, v ast.Value) {
		paths = append(paths, p)
		if o, ok := v.(ast.Object); ok {
			o.Foreach(func(k, x *ast.Term) { walk(p.Append(k), x.Value) })
		}
	}
	walk(ast.Ref{}, inputValue(in))
	return &memo{paths: paths[1:]}
}

// deepCopy copies in through its values, so that a change to the copy
// leaves in as it was.
func deepCopy(in Input) Input {
	var out Input
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(in))
	return out
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			dst.Set(reflect.New(src.Type().Elem()))
			copyValue(dst.Elem(), src.Elem())
		}
	case reflect.Interface:
		if !src.IsNil() {
			e := reflect.New(src.Elem().Type()).Elem()
			copyValue(e, src.Elem())
			dst.Set(e)
		}
	case reflect.Slice:
		if !src.IsNil() {
			dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
			for i := range src.Len() {
				copyValue(dst.Index(i), src.Index(i))
			}
		}
	case reflect.Map:
		if !src.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
			for _, k := range src.MapKeys() {
				e := reflect.New(src.Type().Elem()).Elem()
				copyValue(e, src.MapIndex(k))
				dst.SetMapIndex(k, e)
			}
		}
	case reflect.Struct:
		if src.Type() == reflect.TypeFor[time.Time]() {
			dst.Set(src)
			return
		}
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	default:
		dst.Set(src)
	}
}

// mutate makes the n-th change of v's values (in a fixed order) and
// reports whether v had an n-th to make.
func mutate(v reflect.Value, n int) bool {
	k := n
	return change(v, &k)
}

// change walks v, counting down *n at each change it could make, and makes
// the one where *n reaches zero.
func change(v reflect.Value, n *int) bool {
	now := func() bool { *n--; return *n < 0 }
	switch v.Kind() {
	case reflect.String:
		if now() {
			v.SetString(v.String() + "x")
			return true
		}
	case reflect.Bool:
		if now() {
			v.SetBool(!v.Bool())
			return true
		}
	case reflect.Int, reflect.Int64:
		if now() {
			v.SetInt(v.Int() + 1)
			return true
		}
	case reflect.Float64:
		if now() {
			v.SetFloat(v.Float() + 0.25)
			return true
		}
	case reflect.Pointer:
		if now() { // absent ↔ present
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			} else {
				v.Set(reflect.Zero(v.Type()))
			}
			return true
		}
		if !v.IsNil() {
			return change(v.Elem(), n)
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			if change(e, n) {
				v.Set(e)
				return true
			}
		}
	case reflect.Slice:
		if now() { // one more element
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
			return true
		}
		if v.Len() > 0 && now() { // one fewer
			v.Set(v.Slice(0, v.Len()-1))
			return true
		}
		for i := range v.Len() {
			if change(v.Index(i), n) {
				return true
			}
		}
	case reflect.Map:
		if now() { // one more key
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			v.SetMapIndex(reflect.ValueOf("added").Convert(v.Type().Key()), reflect.Zero(v.Type().Elem()))
			return true
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if now() { // one fewer
				v.SetMapIndex(k, reflect.Value{})
				return true
			}
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			if change(e, n) {
				v.SetMapIndex(k, e)
				return true
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if now() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Millisecond)))
				return true
			}
			return false
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && change(v.Field(i), n) {
				return true
			}
		}
	}
	return false
}

// TestMemoKey_times: times are written as the input's conversion writes
// them, including those JSON cannot marshal (years past 9999), so two that
// convert differently have different keys.
func TestMemoKey_times(t *testing.T) {
	whole := &memo{}
	a := input(analyst(), selectOrders())
	a.Request.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	b := a
	b.Request.Time = a.Request.Time.Add(time.Second)
	if valueKey(whole, &a) == valueKey(whole, &b) {
		t.Fatal("the converted inputs do not differ")
	}
	if mustKey(t, whole, &a) == mustKey(t, whole, &b) {
		t.Error("two times past year 9999 share a key")
	}
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("marshal") }

// TestMemoKey_panic: a value whose marshaling panics leaves the input
// without a key (the decision is evaluated, not remembered) instead of
// unwinding into the caller.
func TestMemoKey_panic(t *testing.T) {
	in := input(analyst(), selectOrders())
	in.Identity.Claims = map[string]any{"x": panicky{}}
	if _, ok := (&memo{}).key(&in); ok {
		t.Error("a key for an input whose reading panicked")
	}
	in.Identity.Claims = map[string]any{"x": "y"}
	if _, ok := (&memo{}).key(&in); !ok {
		t.Error("no key for a plain input")
	}
}
