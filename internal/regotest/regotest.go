// Package regotest gives tests a copy of the default policy library with
// one data.json setting changed.
package regotest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// With copies the library in dir (the repository's rego/) into a new
// temporary directory whose data.json has the setting off, as written
// there, replaced by on, and returns that directory.
func With(t testing.TB, dir, off, on string) string {
	t.Helper()
	out := t.TempDir()
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "data.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(off)) {
		t.Fatalf("data.json has no %s", off)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(off), []byte(on), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
