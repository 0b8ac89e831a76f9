package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/snowgate/snowgate/bundles"
	"github.com/snowgate/snowgate/engine"
)

// crossCheck checks what depends on more than one key, and what is inside
// the files the config names (keys, the policy directory). It runs on a
// config whose every value has its type.
func (c *checker) crossCheck(l *loadedConfig) {
	cfg := l.config
	seen := map[string]int{}
	for i, is := range cfg.Issuers {
		p := fmt.Sprintf("issuers[%d].url", i)
		if j, dup := seen[is.URL]; dup {
			c.add(c.at(p), p, "%s is configured twice (also issuers[%d])", is.URL, j)
		}
		seen[is.URL] = i
	}

	cr := cfg.Credentials
	switch {
	case cr.Static == nil && cr.Vault == nil:
		c.add(c.at("credentials"), "credentials", "is required: configure static or vault")
	case cr.Static != nil && cr.Vault != nil:
		c.add(c.at("credentials.vault"), "credentials", "configure static or vault, not both")
	}
	if v := cr.Vault; v != nil {
		c.checkVault(v)
	}

	pol := cfg.Policy
	switch {
	case pol.Dir != "" && pol.Bundle != nil:
		c.add(c.at("policy.bundle"), "policy", "set dir or bundle, not both")
	case pol.Dir != "" && !c.reported("policy.dir"):
		for _, msg := range policyProblems(pol.Dir, checkPolicyDir(context.Background(), pol.Dir)) {
			c.add(c.at("policy.dir"), "policy.dir", "%s", msg)
		}
	case pol.Bundle != nil:
		c.checkBundle(pol.Bundle)
	}

	if f := cfg.Audit.SigningKeyFile; f != "" && !c.reported("audit.signing_key_file") {
		if _, err := readEd25519(f); err != nil {
			c.add(c.at("audit.signing_key_file"), "audit.signing_key_file", "%v: want an Ed25519 private key (PEM, PKCS#8)", err)
		}
	}
}

func (c *checker) checkVault(v *vaultConfig) {
	const auth = "credentials.vault.auth."
	need := func(key, value string) {
		if value == "" {
			c.add(c.at(auth+key), auth+key, "is required when method is %s", v.Auth.Method)
		}
	}
	switch v.Auth.Method {
	case "token":
		need("token_env", v.Auth.TokenEnv)
	case "approle":
		need("role_id", v.Auth.RoleID)
		need("secret_id_file", v.Auth.SecretIDFile)
	case "kubernetes":
		need("role", v.Auth.Role)
	}
	switch {
	case v.Database == nil && v.KV == nil:
		c.add(c.at("credentials.vault"), "credentials.vault", "configure database (dynamic credentials per session) or kv (a static secret)")
	case v.Database != nil && v.KV != nil:
		c.add(c.at("credentials.vault.kv"), "credentials.vault", "configure database or kv, not both")
	}
}

func (c *checker) checkBundle(b *bundles.Config) {
	const at = "policy.bundle"
	switch {
	case b.OCI != "" && b.URL != "":
		c.add(c.at(at+".url"), at, "set oci or url, not both")
	case b.OCI == "" && b.URL == "":
		c.add(c.at(at), at, "set oci (a registry reference) or url (a bundle server)")
	}
	if len(b.Keys) == 0 && !b.AllowUnsigned {
		c.add(c.at(at+".keys"), at+".keys", "at least one trusted key is required (allow_unsigned: true is for development only)")
	}
	var keys []bundles.PublicKey
	for i, k := range b.Keys {
		p := fmt.Sprintf("%s.keys[%d]", at, i)
		switch {
		case k.File != "" && k.PEM != "":
			c.add(c.at(p+".pem"), p, "set file or pem, not both")
		case k.File == "" && k.PEM == "":
			c.add(c.at(p), p, "set file or pem")
		case k.File != "":
			if c.reported(p + ".file") {
				continue
			}
			pk, err := bundles.ReadPublicKey(k.File, k.ID, k.Algorithm, k.Scope)
			if err != nil {
				c.add(c.at(p+".file"), p+".file", "%v", err)
				continue
			}
			keys = append(keys, pk)
		default:
			pk := bundles.PublicKey{ID: k.ID, PEM: k.PEM, Algorithm: k.Algorithm, Scope: k.Scope}
			if _, err := bundles.NewVerifier(pk); err != nil {
				c.add(c.at(p+".pem"), p+".pem", "%v", err)
				continue
			}
			keys = append(keys, pk)
		}
	}
	if len(keys) > 1 {
		if _, err := bundles.NewVerifier(keys...); err != nil {
			c.add(c.at(at+".keys"), at+".keys", "%v", err)
		}
	}
}

// checkPolicyDir reads and compiles the policy in dir the way the gateway
// will serve it.
func checkPolicyDir(ctx context.Context, dir string) error {
	_, err := engine.New(ctx, engine.Options{Dir: dir})
	return err
}

// policyProblems lists a policy's errors one by one, each with its file
// and position.
func policyProblems(dir string, err error) []string {
	if err == nil {
		return nil
	}
	var errs ast.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return []string{strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Message + " (" + e.Code + ")"
		switch l := e.Location; {
		case l == nil:
		case l.Col > 0:
			msg = fmt.Sprintf("%s:%d:%d: %s", filepath.Join(dir, l.File), l.Row, l.Col, msg)
		default:
			msg = fmt.Sprintf("%s:%d: %s", filepath.Join(dir, l.File), l.Row, msg)
		}
		out = append(out, msg)
	}
	return out
}
