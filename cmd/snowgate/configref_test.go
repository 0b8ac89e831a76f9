package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/config.md from the config types")

const referencePath = "../../docs/config.md"

// TestConfigReference fails when docs/config.md is not what the config
// types say, or when a key has no description or no example. Regenerate
// with `go generate ./cmd/snowgate` (which runs this test with -update).
func TestConfigReference(t *testing.T) {
	got, err := configReference()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("docs/config.md is out of step with the config types in cmd/snowgate/config.go (%v); regenerate it with `go generate ./cmd/snowgate`", err)
	}
}

// TestConfigReference_foreignKeys: every entry of foreignKeys names a key.
func TestConfigReference_foreignKeys(t *testing.T) {
	known := map[string]bool{}
	for _, k := range configKeys() {
		known[k.Pattern] = true
	}
	for p := range foreignKeys {
		if !known[p] {
			t.Errorf("foreignKeys[%q]: no such key", p)
		}
	}
}

const referenceIntro = `# Configuration reference

<!-- Generated from the config types (cmd/snowgate/config.go and the types it
embeds) by ` + "`go generate ./cmd/snowgate`" + `; TestConfigReference fails when it is
out of step. Do not edit by hand. -->

` + "`snowgate serve --config FILE`" + ` reads one YAML file, described key by key below.

- **Check it** with ` + "`snowgate config validate --config FILE`" + `: it prints a short
  summary and exits 0 when the file is valid; otherwise it prints every problem as
  ` + "`FILE:LINE:COLUMN: KEY: MESSAGE`" + ` and exits 1: unknown keys, values of the wrong
  type or out of range, files and directories the config names that do not exist
  (or keys that do not parse, or a policy that does not compile), missing required
  keys, and environment variables that are referenced but unset.
  ` + "`snowgate serve`" + ` runs the same checks before it starts and fails with the same
  messages. ` + "`--output json`" + ` prints the problems as JSON.
- **Environment variables**: in string values, ` + "`${NAME}`" + ` is replaced by the
  variable's value when the file is read, and ` + "`${NAME:-default}`" + ` by ` + "`default`" + `
  when the variable is unset or empty; ` + "`$${`" + ` is a literal ` + "`${`" + `. An unset
  variable without a default is a problem reported at its line. Messages, the
  summary and the logs name variables, never their values. Keys ending in
  ` + "`_env`" + ` take the name of a variable, which must be set.
- **Reload**: on SIGHUP, ` + "`snowgate serve`" + ` reads the file again and checks it. If
  it is valid, the policy source (` + "`policy`" + `: a directory is read again, a
  bundle source is polled at once, or replaced) and the issuers (` + "`issuers`" + `,
  ` + "`clock_skew`" + `) change without a restart, and the log says what changed. If it
  is not, nothing changes and the log lists every problem. Other keys are read
  only at start: the log names those that changed and need a restart.
- Relative paths are relative to the directory ` + "`snowgate serve`" + ` runs in.

`

// configReference renders docs/config.md.
func configReference() ([]byte, error) {
	docs := &docReader{fset: token.NewFileSet(), files: map[string][]*ast.File{}}
	var b bytes.Buffer
	b.WriteString(referenceIntro)
	keys := configKeys()
	b.WriteString("## Sections\n\n")
	for _, k := range keys {
		if !strings.Contains(k.Pattern, ".") && !strings.Contains(k.Pattern, "[]") {
			fmt.Fprintf(&b, "- [`%s`](#%s)\n", k.Pattern, anchor(k.Pattern))
		}
	}
	b.WriteString("\n## Keys\n")
	var problems []string
	for _, k := range keys {
		doc, err := docs.fieldDoc(k.Owner, k.Field.Name)
		if err != nil {
			return nil, err
		}
		if doc == "" {
			doc = k.Info.Doc
		}
		leaf := !isSection(k.Field.Type) && !(k.Field.Type.Kind() == reflect.Slice && isSection(k.Field.Type.Elem()))
		switch {
		case doc == "":
			problems = append(problems, k.Pattern+": no description (a comment on its field)")
		case leaf && k.Info.Example == "":
			problems = append(problems, k.Pattern+": no example (an example tag, or foreignKeys)")
		}
		fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", k.Pattern, doc)
		typ := typeName(k.Field.Type)
		if e := k.Info.enum(); e != nil {
			typ += ": " + codeList(e)
		}
		if lo, hi, ok := parseRange(k.Info.Range); ok {
			if hi == lo+1 {
				typ += fmt.Sprintf(", %d or %d", lo, hi)
			} else {
				typ += fmt.Sprintf(", %d to %d", lo, hi)
			}
		}
		if f := formatNames[k.Info.Format]; f != "" {
			typ += ", " + f
		}
		fmt.Fprintf(&b, "- type: %s\n", typ)
		if k.Info.Default != "" {
			fmt.Fprintf(&b, "- default: %s\n", codeIfValue(k.Info.Default))
		}
		req := "no"
		switch r := k.Info.Required; r {
		case "":
		case "yes":
			req = "yes"
		default:
			req = r
		}
		fmt.Fprintf(&b, "- required: %s\n", req)
		if reloadable(k.Pattern) {
			b.WriteString("- reload: on SIGHUP\n")
		} else {
			b.WriteString("- reload: needs a restart\n")
		}
		if k.Info.Example != "" {
			name := k.Pattern[strings.LastIndexAny(k.Pattern, ".]")+1:]
			fmt.Fprintf(&b, "- example: `%s: %s`\n", name, k.Info.Example)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("config keys without documentation:\n%s", strings.Join(problems, "\n"))
	}
	return b.Bytes(), nil
}

// formatNames say what a format tag asks of a value.
var formatNames = map[string]string{
	"hostport": "host:port",
	"url":      "an http(s) URL",
	"file":     "a file that must exist",
	"dir":      "a directory that must exist",
	"env":      "the name of an environment variable that must be set",
	"store":    "a postgres:// URL or an SQLite file path (its directory must exist)",
	"dsn":      "a postgres:// URL, or an SQLite file path or sqlite://PATH (its directory must exist)",
}

// reloadable reports whether a change of the key takes effect on SIGHUP
// (see restartKeys).
func reloadable(pattern string) bool {
	return pattern == "clock_skew" || pattern == "policy" || strings.HasPrefix(pattern, "policy.") || strings.HasPrefix(pattern, "issuers")
}

func anchor(pattern string) string {
	return strings.NewReplacer(".", "", "[]", "", "_", "_").Replace(pattern)
}

func codeList(vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = "`" + v + "`"
	}
	return strings.Join(out, ", ")
}

// codeIfValue sets a default in code unless it is prose ("the host name").
func codeIfValue(s string) string {
	if strings.Contains(s, " ") && !strings.HasPrefix(s, "[") {
		return s
	}
	return "`" + s + "`"
}

// docReader finds the comments on struct fields in the module's sources.
type docReader struct {
	fset  *token.FileSet
	files map[string][]*ast.File // by directory
}

// fieldDoc is the comment on field name of the struct type t, with Go
// field names replaced by their YAML keys.
func (d *docReader) fieldDoc(t reflect.Type, name string) (string, error) {
	dir, err := packageDir(t.PkgPath())
	if err != nil {
		return "", err
	}
	files, ok := d.files[dir]
	if !ok {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(d.fset, p, nil, parser.ParseComments)
			if err != nil {
				return "", err
			}
			files = append(files, f)
		}
		d.files[dir] = files
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok || ts.Name.Name != t.Name() {
					continue
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return "", fmt.Errorf("%s.%s is not a struct", t.PkgPath(), t.Name())
				}
				for _, fld := range st.Fields.List {
					for _, n := range fld.Names {
						if n.Name == name {
							return yamlNames(t, commentText(fld)), nil
						}
					}
				}
				return "", fmt.Errorf("%s.%s has no field %s", t.PkgPath(), t.Name(), name)
			}
		}
	}
	return "", fmt.Errorf("type %s.%s not found in %s", t.PkgPath(), t.Name(), dir)
}

func commentText(f *ast.Field) string {
	var parts []string
	for _, g := range []*ast.CommentGroup{f.Doc, f.Comment} {
		if g != nil {
			parts = append(parts, g.Text())
		}
	}
	s := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

var goIdent = regexp.MustCompile(`\b[A-Z][A-Za-z]*[a-z][A-Za-z]*\b`)

// yamlNames replaces the names of t's fields in a comment by their keys.
func yamlNames(t reflect.Type, s string) string {
	if t.PkgPath() == reflect.TypeFor[config]().PkgPath() {
		return s // written with the keys in mind
	}
	return goIdent.ReplaceAllStringFunc(s, func(w string) string {
		if f, ok := t.FieldByName(w); ok {
			if k := yamlKey(f); k != "" {
				return "`" + k + "`"
			}
		}
		return w
	})
}

// packageDir is the source directory of the package at pkgPath, found
// from the module's root.
func packageDir(pkgPath string) (string, error) {
	const module = "github.com/snowgate/snowgate"
	rest, ok := strings.CutPrefix(pkgPath, module)
	if !ok {
		return "", fmt.Errorf("config type from %s, outside the module: document it in foreignKeys", pkgPath)
	}
	return filepath.Join("..", "..", filepath.FromSlash(strings.TrimPrefix(rest, "/"))), nil
}
