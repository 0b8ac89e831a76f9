package proxy

import "testing"

// TestCanonicalName: names given at login resolve as Snowflake resolves
// them, and reach the upstream in a form it resolves the same way.
func TestCanonicalName(t *testing.T) {
	cases := []struct {
		in         string
		snowflake  string // canonical, Snowflake's rules
		upstream   string // what the upstream's login is sent
		foldQuoted string // canonical when quoted names ignore case too
	}{
		{"", "", "", ""},
		{"demo", "DEMO", "DEMO", "DEMO"},
		{"Demo_1$", "DEMO_1$", "DEMO_1$", "DEMO_1$"},
		{" public ", "PUBLIC", "PUBLIC", "PUBLIC"},
		{`"demo"`, "demo", `"demo"`, "DEMO"},
		{`"DEMO"`, "DEMO", "DEMO", "DEMO"},
		{`"My ""Db"""`, `My "Db"`, `"My ""Db"""`, `MY "DB"`},
		{`"1st"`, "1st", `"1st"`, "1ST"},
		{`"1ST"`, "1ST", `"1ST"`, "1ST"},
		{`"`, `"`, `""""`, `"`},
	}
	sf, fold := &Server{}, &Server{cfg: Config{FoldQuotedIdentifiers: true}}
	for _, c := range cases {
		if got := sf.canonicalName(c.in); got != c.snowflake {
			t.Errorf("canonicalName(%q) = %q, want %q", c.in, got, c.snowflake)
		}
		if got := sf.upstreamNames(OpenParams{Database: sf.canonicalName(c.in)}).Database; got != c.upstream {
			t.Errorf("upstream name of %q = %q, want %q", c.in, got, c.upstream)
		}
		if got := fold.canonicalName(c.in); got != c.foldQuoted {
			t.Errorf("canonicalName(%q) folding quoted names = %q, want %q", c.in, got, c.foldQuoted)
		}
		if got := fold.upstreamNames(OpenParams{Database: fold.canonicalName(c.in)}).Database; got != c.foldQuoted {
			t.Errorf("upstream name of %q folding quoted names = %q, want %q", c.in, got, c.foldQuoted)
		}
	}
}
