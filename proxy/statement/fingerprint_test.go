package statement

import "testing"

func TestFingerprint(t *testing.T) {
	same := [][2]string{
		{"SELECT a FROM t WHERE id = 1", "select A from T where ID = 42"},
		{"SELECT a FROM t WHERE s = 'x'", "SELECT a FROM t /* c */ WHERE s = $$y$$ -- tail"},
		{`SELECT "A" FROM t`, "SELECT a FROM t"},
		{"SELECT a FROM t WHERE id IN (1, 2, 3)", "SELECT a FROM t WHERE id IN (7)"},
		{"PUT file:///a.csv @s", "PUT file:///b.csv @s"},
	}
	for _, p := range same {
		a, err := Fingerprint(p[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := Fingerprint(p[1])
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("Fingerprint(%q) != Fingerprint(%q)", p[0], p[1])
		}
		if len(a) != 32 {
			t.Errorf("fingerprint %q is not 16 hex bytes", a)
		}
	}
	differ := [][2]string{
		{`SELECT "a" FROM t`, "SELECT a FROM t"}, // "a" keeps its case, a folds to A
		{"SELECT a FROM t", "SELECT b FROM t"},
		{"SELECT a FROM t1", "SELECT a FROM t2"},
		{"DELETE FROM t WHERE a = 1", "DELETE FROM t"},
		{"SELECT a FROM t WHERE id IN (1, 2)", "SELECT a FROM t WHERE id IN (x, 2)"},
		{`SELECT "a b" FROM t`, `SELECT "a" b FROM t`},
	}
	for _, p := range differ {
		a, _ := Fingerprint(p[0])
		b, _ := Fingerprint(p[1])
		if a == b {
			t.Errorf("Fingerprint(%q) == Fingerprint(%q)", p[0], p[1])
		}
	}
}
