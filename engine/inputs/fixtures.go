package inputs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FixtureSource is one sample statement the Rego tests run on: who sends
// it and the SQL, the way an agent or a person wrote it.
type FixtureSource struct {
	Name      string `yaml:"name"`
	As        string `yaml:"as"` // a demo identity
	SQL       string `yaml:"sql"`
	Database  string `yaml:"database,omitempty"`
	Schema    string `yaml:"schema,omitempty"`
	NoCatalog bool   `yaml:"no_catalog,omitempty"`
	Note      string `yaml:"note,omitempty"`
}

// SourcesFile is the name of the fixture list inside a fixtures directory.
const SourcesFile = "sources.yaml"

var fixtureName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ReadFixtureSources reads and checks a sources.yaml.
func ReadFixtureSources(path string) ([]FixtureSource, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixture sources: %w", err)
	}
	// A map at the top, so that OPA, which loads every YAML file under
	// opa-tests as data, sees data.fixtures.sources and no conflict.
	var doc struct {
		Sources []FixtureSource `yaml:"sources"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fixture sources %s: %w", path, err)
	}
	srcs := doc.Sources
	seen := map[string]bool{}
	for i, s := range srcs {
		switch {
		case !fixtureName.MatchString(s.Name):
			return nil, fmt.Errorf("fixture sources %s: entry %d: name %q is not a Rego-friendly identifier", path, i, s.Name)
		case s.Name == "sources":
			return nil, fmt.Errorf("fixture sources %s: entry %d: the name sources is taken by the list itself", path, i)
		case seen[s.Name]:
			return nil, fmt.Errorf("fixture sources %s: duplicate name %q", path, s.Name)
		case strings.TrimSpace(s.SQL) == "":
			return nil, fmt.Errorf("fixture sources %s: %s has no sql", path, s.Name)
		}
		seen[s.Name] = true
	}
	return srcs, nil
}

// Fixture renders one fixture file: {"<name>": <input>}, so that OPA loads
// it as data.fixtures.<name>.
func Fixture(ctx context.Context, src FixtureSource) ([]byte, error) {
	as := src.As
	if as == "" {
		as = "analyst"
	}
	id, err := Demo(as)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", src.Name, err)
	}
	ins, err := Build(ctx, src.SQL, id, Options{Database: src.Database, Schema: src.Schema, NoCatalog: src.NoCatalog})
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", src.Name, err)
	}
	if len(ins) != 1 {
		return nil, fmt.Errorf("fixture %s: %d statements, want exactly one", src.Name, len(ins))
	}
	b, err := json.MarshalIndent(map[string]any{src.Name: ins[0]}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", src.Name, err)
	}
	return append(b, '\n'), nil
}

// ErrStale reports fixtures that differ from what the analyser produces now.
var ErrStale = errors.New("fixtures are out of step with the analyser")

// SyncFixtures regenerates the fixtures of dir from dir/sources.yaml. With
// write it rewrites changed files and removes orphans; without, it only
// compares. It returns the names of the files that differ(ed), and ErrStale
// when comparing finds any.
func SyncFixtures(ctx context.Context, dir string, write bool) ([]string, error) {
	srcs, err := ReadFixtureSources(filepath.Join(dir, SourcesFile))
	if err != nil {
		return nil, err
	}
	want := map[string][]byte{}
	for _, s := range srcs {
		b, err := Fixture(ctx, s)
		if err != nil {
			return nil, err
		}
		want[s.Name+".json"] = b
	}
	var changed []string
	for name, b := range want {
		old, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && bytes.Equal(old, b) {
			continue
		}
		changed = append(changed, name)
		if write {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return nil, fmt.Errorf("write fixture: %w", err)
			}
		}
	}
	existing, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list fixtures: %w", err)
	}
	for _, path := range existing {
		name := filepath.Base(path)
		if _, ok := want[name]; ok {
			continue
		}
		changed = append(changed, name)
		if write {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("remove orphan fixture: %w", err)
			}
		}
	}
	slices.Sort(changed)
	if !write && len(changed) > 0 {
		return changed, fmt.Errorf("%w: %s (run `snowgate policy test` to regenerate)", ErrStale, strings.Join(changed, ", "))
	}
	return changed, nil
}
