package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/snowgate/snowgate/bundles"
)

func init() {
	commands["bundle"] = command{summary: "build, sign, verify, push, pull or inspect policy bundles", run: runBundle}
}

// bundleVerbs are the bundle subcommands.
var bundleVerbs = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"build":   runBundleBuild,
	"sign":    runBundleSign,
	"verify":  runBundleVerify,
	"push":    runBundlePush,
	"pull":    runBundlePull,
	"inspect": runBundleInspect,
}

const bundleUsage = "usage: snowgate bundle build|sign|verify|push|pull|inspect [flags]"

func runBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(bundleUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, bundleUsage)
		return nil
	}
	run, ok := bundleVerbs[args[0]]
	if !ok {
		return fmt.Errorf("unknown bundle command %q; %s", args[0], bundleUsage)
	}
	return run(ctx, args[1:], stdout, stderr)
}

// parseWithArgs parses flags that may come before or after the positional
// arguments (push REF --bundle x) and returns the positional arguments.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// signingFlags are the flags of build and sign.
type signingFlags struct {
	key, alg, keyID, scope *string
}

func addSigningFlags(fs *flag.FlagSet) signingFlags {
	return signingFlags{
		key:   fs.String("signing-key", "", "PEM private key to sign with (RSA or EC)"),
		alg:   fs.String("signing-alg", "", "RS256, ES256, … (default: from the key)"),
		keyID: fs.String("key-id", bundles.DefaultKeyID, "key id written into the signature (opa: --verification-key-id)"),
		scope: fs.String("scope", "", "scope claim written into the signature"),
	}
}

func (f signingFlags) signingKey() (bundles.SigningKey, error) {
	return bundles.ReadSigningKey(*f.key, *f.alg, *f.keyID, *f.scope)
}

// verifyFlags are the flags that name trusted keys.
type verifyFlags struct {
	keys   multiFlag
	keyID  *string
	alg    *string
	scope  *string
	output *string
}

func addVerifyFlags(fs *flag.FlagSet) *verifyFlags {
	v := &verifyFlags{}
	fs.Var(&v.keys, "verification-key", "PEM public key to trust, as FILE or KEYID=FILE; repeatable")
	v.keyID = fs.String("key-id", bundles.DefaultKeyID, "key id of a --verification-key given without KEYID=")
	v.alg = fs.String("verification-alg", "", "algorithm of the keys (default: from each key)")
	v.scope = fs.String("scope", "", "scope the signature must carry")
	return v
}

func (v *verifyFlags) verifier() (*bundles.Verifier, error) {
	if len(v.keys) == 0 {
		return nil, errors.New("--verification-key is required")
	}
	keys := make([]bundles.PublicKey, 0, len(v.keys))
	for _, k := range v.keys {
		id, file := *v.keyID, k
		if before, after, ok := strings.Cut(k, "="); ok {
			id, file = before, after
		}
		pk, err := bundles.ReadPublicKey(file, id, *v.alg, *v.scope)
		if err != nil {
			return nil, err
		}
		keys = append(keys, pk)
	}
	return bundles.NewVerifier(keys...)
}

// registryFlags are the flags of commands that talk to an OCI registry.
type registryFlags struct {
	username, passwordEnv *string
	plainHTTP             *bool
}

func addRegistryFlags(fs *flag.FlagSet) registryFlags {
	return registryFlags{
		username:    fs.String("username", "", "registry user (Basic auth)"),
		passwordEnv: fs.String("password-env", "SNOWGATE_REGISTRY_PASSWORD", "environment variable holding the registry password"),
		plainHTTP:   fs.Bool("plain-http", false, "use http:// (always on for loopback registries)"),
	}
}

func (r registryFlags) oci(ref string) (*bundles.OCI, error) {
	o := &bundles.OCI{Reference: ref, Username: *r.username, PlainHTTP: *r.plainHTTP}
	if o.Username != "" {
		pw, ok := os.LookupEnv(*r.passwordEnv)
		if !ok {
			return nil, fmt.Errorf("--username given but %s is not set", *r.passwordEnv)
		}
		o.Password = pw
	}
	return o, nil
}

func runBundleBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle build", "bundle build [--dir DIR] [--revision REV] [--root R]... [--signing-key KEY [--key-id ID]] [--out FILE]", stderr)
	dir := fs.String("dir", "rego", "policy directory (rego/ + data.json, optional .manifest)")
	rev := fs.String("revision", "", "manifest revision (default: .manifest's, else a content digest)")
	var roots multiFlag
	fs.Var(&roots, "root", "manifest root; repeatable (default: .manifest's)")
	sf := addSigningFlags(fs)
	out := fs.String("out", "bundle.tar.gz", "where to write the bundle")
	output := fs.String("output", "text", "text or json")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	b, err := bundles.Build(bundles.BuildOptions{Dir: *dir, Revision: *rev, Roots: roots})
	if err != nil {
		return err
	}
	if *sf.key != "" {
		key, err := sf.signingKey()
		if err != nil {
			return err
		}
		if err := bundles.Sign(b, key); err != nil {
			return err
		}
	}
	raw, err := bundles.Encode(b)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return printBundleInfo(stdout, *output, raw, "wrote "+*out)
}

func runBundleSign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle sign", "bundle sign --bundle FILE --signing-key KEY [--key-id ID] [--scope S] [--out FILE]", stderr)
	in := fs.String("bundle", "", "bundle tarball to sign (any existing signature is replaced)")
	sf := addSigningFlags(fs)
	out := fs.String("out", "", "where to write the signed bundle (default: --bundle, in place)")
	output := fs.String("output", "text", "text or json")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if *in == "" && len(pos) == 1 {
		*in = pos[0]
	}
	if *in == "" || *sf.key == "" {
		return errors.New("--bundle and --signing-key are required")
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	b, err := bundles.ReadUnverified(raw)
	if err != nil {
		return err
	}
	key, err := sf.signingKey()
	if err != nil {
		return err
	}
	if err := bundles.Sign(b, key); err != nil {
		return err
	}
	if raw, err = bundles.Encode(b); err != nil {
		return err
	}
	if *out == "" {
		*out = *in
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return printBundleInfo(stdout, *output, raw, "signed "+*out)
}

func runBundleVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle verify", "bundle verify FILE|REF --verification-key [KEYID=]FILE... [--output json]", stderr)
	vf := addVerifyFlags(fs)
	rf := addRegistryFlags(fs)
	output := fs.String("output", "text", "text or json")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("verify needs one bundle file or OCI reference")
	}
	v, err := vf.verifier()
	if err != nil {
		return err
	}
	raw, err := readBundleArg(ctx, pos[0], rf)
	if err != nil {
		return err
	}
	if _, err := v.Verify(raw); err != nil {
		return &exitError{code: 1, err: err}
	}
	if *output == "json" {
		info, err := bundles.Inspect(raw)
		if err != nil {
			return err
		}
		return bundleJSON(stdout, struct {
			Verified bool `json:"verified"`
			*bundles.Info
		}{true, info})
	}
	return printBundleInfo(stdout, *output, raw, "verified "+pos[0])
}

func runBundlePush(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle push", "bundle push REF --bundle FILE [--username U --password-env VAR] [--verification-key [KEYID=]FILE]", stderr)
	in := fs.String("bundle", "bundle.tar.gz", "bundle tarball to push")
	vf := addVerifyFlags(fs)
	rf := addRegistryFlags(fs)
	output := fs.String("output", "text", "text or json")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("push needs one OCI reference, e.g. 127.0.0.1:5000/snowgate/policy:v2")
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	if len(vf.keys) > 0 { // refuse to publish what the gateways would refuse
		v, err := vf.verifier()
		if err != nil {
			return err
		}
		if _, err := v.Verify(raw); err != nil {
			return err
		}
	}
	o, err := rf.oci(pos[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	p, err := o.Push(ctx, raw)
	if err != nil {
		return err
	}
	if *output == "json" {
		return bundleJSON(stdout, p)
	}
	fmt.Fprintf(stdout, "pushed revision %q to %s\n  manifest %s\n  layer    %s\n", p.Revision, pos[0], p.Manifest, p.Layer)
	return nil
}

func runBundlePull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle pull", "bundle pull REF --verification-key [KEYID=]FILE... [--out FILE] | --no-verify", stderr)
	vf := addVerifyFlags(fs)
	rf := addRegistryFlags(fs)
	noVerify := fs.Bool("no-verify", false, "write the bundle without checking its signature")
	out := fs.String("out", "bundle.tar.gz", "where to write the bundle")
	output := fs.String("output", "text", "text or json")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("pull needs one OCI reference, e.g. 127.0.0.1:5000/snowgate/policy:v2")
	}
	var v *bundles.Verifier
	if !*noVerify {
		if v, err = vf.verifier(); err != nil {
			return fmt.Errorf("%w (or pass --no-verify)", err)
		}
	}
	o, err := rf.oci(pos[0])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	dl, err := o.Fetch(ctx, "")
	if err != nil {
		return err
	}
	if v != nil {
		if _, err := v.Verify(dl.Raw); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	if err := os.WriteFile(*out, dl.Raw, 0o644); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return printBundleInfo(stdout, *output, dl.Raw, fmt.Sprintf("pulled %s (manifest %s) to %s", pos[0], dl.Version, *out))
}

func runBundleInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bundle inspect", "bundle inspect FILE|REF [--output json]", stderr)
	rf := addRegistryFlags(fs)
	output := fs.String("output", "text", "text or json")
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("inspect needs one bundle file or OCI reference")
	}
	raw, err := readBundleArg(ctx, pos[0], rf)
	if err != nil {
		return err
	}
	return printBundleInfo(stdout, *output, raw, pos[0]+" (signature not verified)")
}

// readBundleArg reads a bundle from a file, or else from an OCI reference.
func readBundleArg(ctx context.Context, arg string, rf registryFlags) ([]byte, error) {
	if _, err := os.Stat(arg); err == nil || !strings.Contains(arg, "/") {
		raw, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("read bundle: %w", err)
		}
		return raw, nil
	}
	o, err := rf.oci(arg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	dl, err := o.Fetch(ctx, "")
	if err != nil {
		return nil, err
	}
	return dl.Raw, nil
}

func printBundleInfo(w io.Writer, output string, raw []byte, headline string) error {
	info, err := bundles.Inspect(raw)
	if err != nil {
		return err
	}
	if output == "json" {
		return bundleJSON(w, info)
	}
	fmt.Fprintln(w, headline)
	fmt.Fprintf(w, "  revision  %s\n  roots     %s\n  digest    %s\n  size      %d bytes\n  modules   %d\n",
		orDefault(info.Revision, "(none)"), strings.Join(info.Roots, ", "), info.Digest, info.Size, len(info.Modules))
	if s := info.Signature; s != nil {
		fmt.Fprintf(w, "  signature kid=%s alg=%s files=%d", s.KeyID, s.Algorithm, s.Files)
		if s.Scope != "" {
			fmt.Fprintf(w, " scope=%s", s.Scope)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "  signature none")
	}
	return nil
}

func bundleJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
