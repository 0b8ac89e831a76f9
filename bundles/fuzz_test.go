package bundles

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// FuzzBundle feeds arbitrary bytes to the bundle readers. Nothing panics;
// Inspect describes only what it read; and the verifier, which trusts one
// key, accepts nothing but the contents that key signed: no bundle that is
// unsigned, signed by another key (even under the trusted key's id), or
// changed after signing. Run:
// go test ./bundles -run '^$' -fuzz '^FuzzBundle$' -fuzztime 30s
func FuzzBundle(f *testing.F) {
	trusted := newKey(f, "ec", "trusted")
	impostor := newKey(f, "ec", "trusted") // another key under the trusted id
	other := newKey(f, "ec", "other")
	v := verifier(f, trusted)

	signed := signedBundle(f, "allow", "r1", trusted)
	genuine := mustRead(f, signed)
	if _, err := v.Verify(signed); err != nil {
		f.Fatalf("the genuine bundle does not verify: %v", err)
	}
	f.Add(signed)
	f.Add(signedBundle(f, "allow", "r1", impostor))
	f.Add(signedBundle(f, "deny", "r2", other))
	b, err := Build(BuildOptions{Dir: policyDir(f, "allow"), Revision: "r1"})
	if err != nil {
		f.Fatal(err)
	}
	unsigned, err := Encode(b)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(unsigned)
	f.Add(rewriteTar(f, signed, func(name string, data []byte) []byte {
		if name == "/decision.rego" {
			return bytes.ReplaceAll(data, []byte("allow"), []byte("deny!"))
		}
		return data
	}, nil))
	f.Add(rewriteTar(f, signed, nil, map[string]string{"/extra.rego": "package snowgate\n\nx := 1\n"}))
	f.Add(rewriteTar(f, signed, func(name string, data []byte) []byte {
		if name == "/.signatures.json" {
			return nil
		}
		return data
	}, nil))
	f.Add(rewriteTar(f, unsigned, nil, map[string]string{"/.signatures.json": `{"signatures":["e30.e30.e30"]}`}))
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("not a tarball"))
	zw.Close()
	f.Add(gz.Bytes())

	f.Fuzz(func(t *testing.T, raw []byte) {
		info, inspectErr := Inspect(raw)
		if inspectErr == nil {
			if info.Size != len(raw) || info.Digest != Digest(raw) {
				t.Fatalf("Inspect: size %d digest %s for %d bytes", info.Size, info.Digest, len(raw))
			}
			if !sort.SliceIsSorted(info.Files, func(i, j int) bool { return info.Files[i].Name < info.Files[j].Name }) || !sort.StringsAreSorted(info.Modules) {
				t.Fatalf("Inspect: files or modules not sorted")
			}
			for _, fl := range info.Files {
				if fl.Size < 0 || fl.Size > DefaultMaxSize {
					t.Fatalf("Inspect: file %q of %d bytes", fl.Name, fl.Size)
				}
			}
		}
		_, readErr := ReadUnverified(raw)
		got, err := v.Verify(raw)
		if err != nil {
			if readErr == nil && !errors.Is(err, ErrUnverified) {
				t.Fatalf("a readable bundle failed verification without ErrUnverified: %v", err)
			}
			return
		}
		if readErr != nil {
			t.Fatalf("verified a bundle ReadUnverified refuses: %v", readErr)
		}
		if inspectErr != nil || info.Signature == nil {
			t.Fatalf("verified a bundle Inspect calls unsigned (%v)", inspectErr)
		}
		if len(got.Signatures.Signatures) == 0 {
			t.Fatalf("verified a bundle with no signature")
		}
		// Only what the trusted key signed is accepted.
		if !sameContents(got, genuine) {
			t.Fatalf("verified contents the trusted key did not sign: revision %q, modules %d", got.Manifest.Revision, len(got.Modules))
		}
	})
}

// sameContents compares what a bundle would enforce: manifest, modules and data.
func sameContents(a, b *bundle.Bundle) bool {
	if !a.Manifest.Equal(b.Manifest) || !reflect.DeepEqual(a.Data, b.Data) || len(a.Modules) != len(b.Modules) {
		return false
	}
	mods := map[string][]byte{}
	for _, m := range b.Modules {
		mods[m.Path] = m.Raw
	}
	for _, m := range a.Modules {
		if raw, ok := mods[m.Path]; !ok || !bytes.Equal(raw, m.Raw) {
			return false
		}
	}
	return true
}
