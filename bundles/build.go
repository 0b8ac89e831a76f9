package bundles

import (
	"errors"
	"fmt"
	"maps"
	"os"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/snowgate/snowgate/engine"
)

// BuildOptions say what Build puts into a bundle.
type BuildOptions struct {
	// Dir is the policy directory, laid out as for `opa build -b`: *.rego
	// files (tests, *_test.rego, are left out), data.json or data.yaml files
	// placed by their directory, an optional .manifest. Required.
	Dir string
	// Revision, when set, replaces the .manifest's revision. Default: the
	// .manifest's, or else "sha256:" and a digest of the content.
	Revision string
	// Roots, when set, replace the .manifest's roots. Default: the
	// .manifest's, or else [""] (the bundle owns all of data).
	Roots []string
	// Metadata is merged into the manifest's metadata.
	Metadata map[string]any
}

// Build reads a policy directory into a bundle, checks that its modules
// compile and that its data and packages lie inside its roots. Sign signs
// the result; Encode writes it.
func Build(opts BuildOptions) (*bundle.Bundle, error) {
	if opts.Dir == "" {
		return nil, errors.New("build: no policy directory given")
	}
	if fi, err := os.Stat(opts.Dir); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("build: %s is not a directory", opts.Dir)
	}
	b, err := engine.LoadFS(os.DirFS(opts.Dir))
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", opts.Dir, err)
	}
	if opts.Revision != "" {
		b.Manifest.Revision = opts.Revision
	}
	if len(opts.Roots) > 0 {
		roots := append([]string(nil), opts.Roots...)
		b.Manifest.Roots = &roots
	}
	if len(opts.Metadata) > 0 {
		if b.Manifest.Metadata == nil {
			b.Manifest.Metadata = map[string]any{}
		}
		maps.Copy(b.Manifest.Metadata, opts.Metadata)
	}
	if err := check(b); err != nil {
		return nil, fmt.Errorf("build %s: %w", opts.Dir, err)
	}
	return b, nil
}

// check compiles b's modules and round-trips b through OPA's writer and
// reader, which rejects data or packages outside the manifest's roots.
func check(b *bundle.Bundle) error {
	c := ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(b.ParsedModules("bundle")); c.Failed() {
		return fmt.Errorf("compile: %w", c.Errors)
	}
	raw, err := Encode(b)
	if err != nil {
		return err
	}
	_, err = ReadUnverified(raw)
	return err
}
