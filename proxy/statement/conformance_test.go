package statement

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The labelled statement corpus lives in conformance/statements/*.yaml. Each
// file is a list of cases:
//
//	- name: short description (optional)
//	  sql: the request text (one or more statements)
//	  kind: expected kind of the first statement (required)
//	  category: expected category (optional; checked when given)
//	  complete: expected Parse.Complete (optional, default true)
//	  objects: exact set, each "type access DATABASE.SCHEMA.NAME"
//	           (schema-less objects: "type access DATABASE.NAME" or "type access NAME")
//	  outputs: exact list, each "NAME <- SOURCE, SOURCE : transform",
//	           sources as DATABASE.SCHEMA.TABLE.COLUMN; "untraced" after the
//	           transform marks Traced false
//	  flags: exact set of true flags, by JSON name
//	  where: [present, always_true] subset that must be true (optional)
//	  limit: expected limit (optional)
//	  count: number of statements in the request (optional, default 1)
//	  kinds: kinds of all statements, for multi-statement requests (optional)
//
// Sessions run with database ANALYTICS, schema PUBLIC and the catalog in
// conformance/statements/catalog.yaml.

type confCase struct {
	Name     string   `yaml:"name"`
	SQL      string   `yaml:"sql"`
	Kind     string   `yaml:"kind"`
	Category string   `yaml:"category"`
	Complete *bool    `yaml:"complete"`
	Objects  []string `yaml:"objects"`
	Outputs  []string `yaml:"outputs"`
	Flags    []string `yaml:"flags"`
	Read     []string `yaml:"read"`
	Written  []string `yaml:"written"`
	Filtered []string `yaml:"filtered"`
	Where    []string `yaml:"where"`
	Limit    *int64   `yaml:"limit"`
	Count    int      `yaml:"count"`
	Kinds    []string `yaml:"kinds"`
}

type mapCatalog map[string][]string

func (m mapCatalog) Columns(_ context.Context, d, s, t string) ([]string, error) {
	return m[d+"."+s+"."+t], nil
}

const corpusDir = "../../conformance/statements"

func loadCorpus(t testing.TB) (map[string][]confCase, mapCatalog) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", corpusDir, err)
	}
	cases := map[string][]confCase{}
	cat := mapCatalog{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "catalog.yaml" {
			if err := yaml.Unmarshal(b, &cat); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			continue
		}
		var cs []confCase
		if err := yaml.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[filepath.Base(f)] = cs
	}
	return cases, cat
}

func TestConformance_Statements(t *testing.T) {
	files, cat := loadCorpus(t)
	env := Env{Database: "ANALYTICS", Schema: "PUBLIC", Catalog: cat}
	total := 0
	for file, cases := range files {
		for i, c := range cases {
			total++
			name := fmt.Sprintf("%s/%03d_%s", strings.TrimSuffix(file, ".yaml"), i, c.Name)
			t.Run(name, func(t *testing.T) { checkCase(t, c, env) })
		}
	}
	if total < 400 {
		t.Errorf("corpus has %d cases, want at least 400", total)
	}
}

func checkCase(t *testing.T, c confCase, env Env) {
	if c.Kind == "" || c.SQL == "" {
		t.Fatal("case asserts nothing: sql and kind are required")
	}
	sts, err := Analyze(context.Background(), c.SQL, env)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	want := c.Count
	if want == 0 {
		want = 1
	}
	if len(sts) != want {
		t.Fatalf("got %d statements, want %d", len(sts), want)
	}
	for i, k := range c.Kinds {
		if string(sts[i].Kind) != k {
			t.Errorf("statement %d kind = %s, want %s", i, sts[i].Kind, k)
		}
	}
	s := sts[0]
	if string(s.Kind) != c.Kind {
		t.Errorf("kind = %s, want %s (error %q)", s.Kind, c.Kind, s.Parse.Error)
	}
	if c.Category != "" && string(s.Category) != c.Category {
		t.Errorf("category = %s, want %s", s.Category, c.Category)
	}
	complete := c.Complete == nil || *c.Complete
	if s.Parse.Complete != complete {
		t.Errorf("complete = %v, want %v (error %q)", s.Parse.Complete, complete, s.Parse.Error)
	}
	if c.Objects != nil || complete {
		got := make([]string, 0, len(s.Objects))
		for _, o := range s.Objects {
			got = append(got, objectString(o))
		}
		diffSets(t, "objects", got, c.Objects)
	}
	if c.Outputs != nil {
		got := make([]string, 0, len(s.Outputs))
		for _, o := range s.Outputs {
			got = append(got, outputString(o))
		}
		if !slices.Equal(got, c.Outputs) {
			t.Errorf("outputs:\n got %q\nwant %q", got, c.Outputs)
		}
	}
	diffSets(t, "flags", flagNames(s.Flags), c.Flags)
	if c.Read != nil {
		diffSets(t, "read", columnStrings(s.Columns.Read), c.Read)
	}
	if c.Written != nil {
		diffSets(t, "written", columnStrings(s.Columns.Written), c.Written)
	}
	if c.Filtered != nil {
		diffSets(t, "filtered", columnStrings(s.Columns.Filtered), c.Filtered)
	}
	for _, w := range c.Where {
		switch w {
		case "present":
			if !s.Where.Present {
				t.Error("where.present = false")
			}
		case "always_true":
			if !s.Where.AlwaysTrue {
				t.Error("where.always_true = false")
			}
		}
	}
	if c.Limit != nil && (s.Limit == nil || *s.Limit != *c.Limit) {
		t.Errorf("limit = %v, want %d", s.Limit, *c.Limit)
	}
}

func diffSets(t *testing.T, what string, got, want []string) {
	t.Helper()
	g := slices.Clone(got)
	w := slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got %q\nwant %q", what, g, w)
	}
}

func objectString(o Object) string {
	parts := []string{}
	for _, p := range []string{o.Database, o.Schema, o.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return fmt.Sprintf("%s %s %s", o.Type, o.Access, strings.Join(parts, "."))
}

func columnString(c Column) string {
	parts := []string{}
	for _, p := range []string{c.Database, c.Schema, c.Table, c.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

func columnStrings(cs []Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = columnString(c)
	}
	return out
}

func outputString(o Output) string {
	src := make([]string, len(o.Sources))
	for i, c := range o.Sources {
		src[i] = columnString(c)
	}
	sort.Strings(src)
	s := o.Name + " <- " + strings.Join(src, ", ") + " : " + string(o.Transform)
	if !o.Traced {
		s += " untraced"
	}
	return s
}

func flagNames(f Flags) []string {
	var out []string
	add := func(b bool, n string) {
		if b {
			out = append(out, n)
		}
	}
	add(f.CreateOrReplace, "create_or_replace")
	add(f.TimeTravel, "time_travel")
	add(f.Clone, "clone")
	add(f.ExternalLocation, "external_location")
	add(f.Stage, "stage")
	add(f.UserStage, "user_stage")
	add(f.Identifier, "identifier")
	add(f.DynamicSQL, "dynamic_sql")
	add(f.SessionChange, "session_change")
	add(f.RoleChange, "role_change")
	add(f.NoWhere, "no_where")
	add(f.SystemFunction, "system_function")
	add(f.ExternalFunction, "external_function")
	add(f.Scripting, "scripting")
	add(f.UntracedSource, "untraced_source")
	return out
}
