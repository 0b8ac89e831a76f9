package rowset

import "testing"

// FuzzArrow: whatever a cell holds, encoding it as any column type either
// fails with an error or gives a stream a reader decodes, with the rows
// appended; it never panics.
func FuzzArrow(f *testing.F) {
	for _, s := range []string{"-7.25", "1.5", "NaN", "19782", "47655.123456", "-1.250000000", "1709212455.5 1560", "DEADBEEF", "", "1e400", "99999999999999999999999999999999999999999", ".", "-", "1 -5000"} {
		f.Add(s, uint8(0), uint8(3))
	}
	types := []string{"fixed", "real", "text", "boolean", "date", "time", "timestamp_ntz", "timestamp_ltz", "timestamp_tz", "binary", "variant"}
	f.Fuzz(func(t *testing.T, cell string, typ, scale uint8) {
		fl := Field{Name: "C", Type: types[int(typ)%len(types)], Precision: int64(scale%40) + 1, Scale: int64(scale % 10)}
		if fl.Scale > fl.Precision {
			fl.Scale = fl.Precision
		}
		a, err := NewArrow([]Field{fl})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		if err := a.Append([]string{cell}, []bool{true}); err != nil {
			return
		}
		if err := a.Append([]string{""}, []bool{false}); err != nil {
			t.Fatalf("a NULL: %v", err)
		}
		r := encoded(t, a)
		defer r.Release()
		if !r.Next() || r.RecordBatch().NumRows() != 2 {
			t.Fatalf("%s %q: the stream does not hold the two rows (%v)", fl.Type, cell, r.Err())
		}
	})
}
