package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// LoadFS reads the policy and data files of fsys into a bundle, the way
// `opa build -b` would: *.rego files anywhere, data.json placed by its
// directory, an optional .manifest. Test files (*_test.rego) are skipped.
// Without a manifest revision, the revision is a digest of the content.
func LoadFS(fsys fs.FS) (*bundle.Bundle, error) {
	loader, err := bundle.NewFSLoader(fsys)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	loader = loader.WithFilter(func(abspath string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return false
		}
		name := info.Name()
		switch {
		case strings.HasSuffix(name, "_test.rego"):
			return true
		case strings.HasSuffix(name, ".rego"), name == "data.json", name == "data.yaml", name == ".manifest":
			return false
		}
		return true // everything else, e.g. Go sources of an embedded library
	})
	b, err := bundle.NewCustomReader(loader).WithSkipBundleVerification(true).Read()
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	if len(b.Modules) == 0 {
		return nil, fmt.Errorf("load policy: no .rego files found")
	}
	if b.Manifest.Revision == "" {
		b.Manifest.Revision = contentRevision(&b)
	}
	return &b, nil
}

// contentRevision is "sha256:" and the first 12 hex digits of a digest over
// the bundle's modules and data.
func contentRevision(b *bundle.Bundle) string {
	h := sha256.New()
	mods := make([]bundle.ModuleFile, len(b.Modules))
	copy(mods, b.Modules)
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	for _, m := range mods {
		fmt.Fprintf(h, "%s\x00%d\x00", path.Clean(m.Path), len(m.Raw))
		h.Write(m.Raw)
	}
	data, _ := json.Marshal(b.Data) // map keys are sorted by encoding/json
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}
