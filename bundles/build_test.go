package bundles

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/engine"
)

func TestBuild(t *testing.T) {
	dir := policyDir(t, "allow")
	b, err := Build(BuildOptions{Dir: dir, Revision: "r7", Metadata: map[string]any{"git": "abc"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(raw)
	if err != nil {
		t.Fatal(err)
	}
	if info.Revision != "r7" || !slices.Equal(info.Roots, []string{"snowgate"}) || info.Metadata["git"] != "abc" {
		t.Errorf("manifest: revision %q roots %v metadata %v", info.Revision, info.Roots, info.Metadata)
	}
	if want := []string{"connect.rego", "decision.rego", "lib/helpers.rego"}; !slices.Equal(info.Modules, want) {
		t.Errorf("modules %v, want %v", info.Modules, want)
	}
	for _, f := range info.Files {
		if strings.Contains(f.Name, "_test") || strings.Contains(f.Name, "README") {
			t.Errorf("bundle contains %s", f.Name)
		}
	}
	if info.Signature != nil {
		t.Errorf("unsigned build has a signature: %+v", info.Signature)
	}
}

func TestBuild_Errors(t *testing.T) {
	for name, tc := range map[string]struct {
		files map[string]string
		opts  BuildOptions
		want  string
	}{
		"compile error": {files: map[string]string{"p.rego": "package snowgate\n\ndecision := undefined_fn(1)\n"}, want: "undefined function"},
		"outside roots": {files: map[string]string{"p.rego": "package other\n\nx := 1\n"}, opts: BuildOptions{Roots: []string{"snowgate"}}, want: "do not permit"},
		"no policy":     {files: map[string]string{"data.json": "{}"}, want: "no .rego files"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for n, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tc.opts.Dir = dir
			_, err := Build(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// The default library builds into a bundle the engine activates.
func TestBuild_DefaultLibrary(t *testing.T) {
	b, err := Build(BuildOptions{Dir: "../rego", Revision: "lib-1"})
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, "rsa", "lib")
	if err := Sign(b, key.signing); err != nil {
		t.Fatal(err)
	}
	raw, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := verifier(t, key).Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(context.Background(), engine.Options{Bundle: vb})
	if err != nil {
		t.Fatal(err)
	}
	if e.Revision() != "lib-1" {
		t.Errorf("revision %q", e.Revision())
	}
}

// Before any trusted bundle, the engine denies everything, logins too.
func TestNoPolicy(t *testing.T) {
	e := newEngine(t)
	if d := decide(e); d.Action != engine.ActionDeny || !slices.Contains(d.Reasons, NoPolicyReason) {
		t.Errorf("decision %+v, want a deny because no policy is active", d)
	}
	if d := e.Connect(context.Background(), engine.ConnectInput{}); d.Action != engine.ActionDeny {
		t.Errorf("connect %+v, want deny", d)
	}
	// The engine's own no-policy state (a zero Engine) also denies.
	var zero engine.Engine
	if d := zero.Decide(context.Background(), engine.Input{}); d.Action != engine.ActionDeny {
		t.Errorf("zero engine decision %+v, want deny", d)
	}
}
