package engine

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A memo's key is taken from the Input itself, not from the Rego value it
// is converted to: a remembered decision then costs no conversion, only
// the walk of what the policy reads. The conversion is a function of the
// Input (value.go, which mirrors encoding/json), so inputs whose keys are
// equal convert to values equal wherever the policy reads: each part is
// written so that different Go values write different bytes (a kind and a
// length before each value, map keys in order, nil apart from empty).

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// key digests what the policy reads of in: the value at each path, or that
// it is absent, or the whole input when the memo has no paths. It reports
// false, and the decision is then evaluated and not remembered, when there
// is no memo or reading the input panicked (a type's own marshaling).
func (m *memo) key(in *Input) (k memoKey, ok bool) {
	if m == nil {
		return k, false
	}
	defer func() {
		if recover() != nil {
			k, ok = memoKey{}, false
		}
	}()
	bp := keyBufs.Get().(*[]byte)
	b := (*bp)[:0]
	root := reflect.ValueOf(in).Elem()
	if m.paths == nil {
		b = appendKeyValue(b, root)
	}
	for _, p := range m.paths {
		v, ok := follow(root, p)
		if !ok {
			b = append(b, 'x') // absent
			continue
		}
		b = appendKeyValue(b, v)
	}
	k = sha256.Sum256(b)
	if cap(b) <= 64<<10 { // a large input's buffer is not kept
		*bp = b
		keyBufs.Put(bp)
	}
	return k, true
}

// follow walks v along p, a reference below input, by the JSON names of
// struct fields and the keys of maps. It stops early, at a value written
// whole, where a part of p is not a name (an array index) or a name does
// not lead into a struct or a map with string keys; it reports the value
// absent where JSON has nothing: a nil pointer, interface or map on the
// way, or a key the map lacks.
func follow(v reflect.Value, p ast.Ref) (reflect.Value, bool) {
	for _, t := range p {
		name, ok := t.Value.(ast.String)
		if !ok {
			return v, true
		}
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Struct:
			fs := jsonFields(v.Type())
			i, ok := fs.byName[string(name)]
			if fs.marshals || !ok {
				return v, true // not one of its JSON fields: all of it
			}
			v = v.Field(i)
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				return v, true
			}
			if v.IsNil() {
				return v, false
			}
			e := v.MapIndex(reflect.ValueOf(string(name)).Convert(v.Type().Key()))
			if !e.IsValid() {
				return e, false
			}
			v = e
		default:
			return v, true
		}
	}
	return v, true
}

// appendKeyValue writes v so that no other value writes the same bytes.
func appendKeyValue(b []byte, v reflect.Value) []byte {
	if !v.IsValid() {
		return append(b, 'n')
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, 'n')
		}
		return appendKeyValue(append(b, 'p'), v.Elem())
	case reflect.String:
		return appendBytes(append(b, 's'), v.String())
	case reflect.Bool:
		if v.Bool() {
			return append(b, 'T')
		}
		return append(b, 'F')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(append(b, 'i'), v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(append(b, 'u'), v.Uint())
	case reflect.Float32, reflect.Float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(v.Float()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return append(b, 'N')
		}
		b = binary.AppendUvarint(append(b, 'a'), uint64(v.Len()))
		for i := range v.Len() {
			b = appendKeyValue(b, v.Index(i))
		}
		return b
	case reflect.Map:
		if v.IsNil() {
			return append(b, 'M')
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(x, y reflect.Value) int { return strings.Compare(mapKey(x), mapKey(y)) })
		b = binary.AppendUvarint(append(b, 'm'), uint64(len(keys)))
		for _, k := range keys {
			b = appendKeyValue(b, k)
			b = appendKeyValue(b, v.MapIndex(k))
		}
		return b
	case reflect.Struct:
		fs := jsonFields(v.Type())
		if fs.marshals {
			return appendBytes(append(b, 'j'), marshal(v))
		}
		b = append(b, 'o')
		for _, i := range fs.order {
			b = appendKeyValue(b, v.Field(i))
		}
		return append(b, 'e')
	default:
		// channels, functions: no JSON form; write the type so two values
		// of different types differ, and nothing to tell two apart.
		return appendBytes(append(b, '?'), v.Type().String())
	}
}

func appendBytes[S string | []byte](b []byte, s S) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// mapKey orders map keys: strings by their text, other keys by their
// written form.
func mapKey(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return string(appendKeyValue(nil, k))
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// marshal is the JSON or text a struct that chooses its own gives: its
// fields are not what JSON shows, and may not be exported. A time.Time is
// written as value.go converts it; a value whose marshaling fails, with
// its fields (unexported ones too) after the error.
func marshal(v reflect.Value) []byte {
	if t, ok := v.Interface().(time.Time); ok {
		return t.AppendFormat(nil, time.RFC3339Nano)
	}
	p := reflect.New(v.Type()) // addressable, for methods on the pointer
	p.Elem().Set(v)
	var out []byte
	var err error
	switch x := p.Interface().(type) {
	case json.Marshaler:
		out, err = x.MarshalJSON()
	case encoding.TextMarshaler:
		out, err = x.MarshalText()
	}
	if err != nil {
		return fmt.Appendf(nil, "error %v: %#v", err, v.Interface())
	}
	return out
}

// fields are the exported fields of a struct type that JSON shows: their
// indexes by JSON name, and in declaration order; or, when the type
// marshals itself, none.
type fields struct {
	marshals bool
	byName   map[string]int
	order    []int
}

var fieldsOf sync.Map // reflect.Type → *fields

func jsonFields(t reflect.Type) *fields {
	if f, ok := fieldsOf.Load(t); ok {
		return f.(*fields)
	}
	pt := reflect.PointerTo(t)
	fs := &fields{marshals: pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler), byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		fs.byName[name] = i
		fs.order = append(fs.order, i)
	}
	fieldsOf.Store(t, fs)
	return fs
}
