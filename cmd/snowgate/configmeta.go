package main

import (
	"reflect"
	"regexp"
	"strings"
	"time"
)

// keyInfo is what the reference says about a key besides its description,
// and what the validator enforces (see the tags on config).
type keyInfo struct {
	Default  string
	Required string // "yes", or the condition under which it is
	Enum     string // a,b,c
	Format   string // hostport, url, file, dir, env, store, dsn
	Range    string // lo..hi
	Example  string
	// Doc describes a foreign key whose source has no comment.
	Doc string
}

func (k keyInfo) enum() []string {
	if k.Enum == "" {
		return nil
	}
	return strings.Split(k.Enum, ",")
}

// foreignKeys holds the tags of keys whose Go types are declared outside
// this package, by key pattern ("[]" for a list's items). Their
// descriptions are those types' field comments.
var foreignKeys = map[string]keyInfo{
	"issuers[].url":          {Required: "yes", Format: "url", Example: "https://login.example.com/realms/data"},
	"issuers[].audience":     {Required: "yes", Example: "snowgate"},
	"issuers[].algorithms":   {Default: "[RS256, ES256, PS256]", Enum: "RS256,RS384,RS512,ES256,ES384,ES512,PS256,PS384,PS512,EdDSA", Example: "[RS256]"},
	"issuers[].groups_claim": {Default: "groups", Example: "roles"},
	"issuers[].email_claim":  {Default: "email", Example: "upn"},
	"issuers[].name_claim":   {Default: "name", Example: "preferred_username"},
	"issuers[].agent_claim":  {Example: "azp"},

	"policy.bundle.oci":               {Required: "unless url is set", Example: "registry.example.com/snowgate/policy:prod"},
	"policy.bundle.url":               {Required: "unless oci is set", Format: "url", Example: "https://bundles.example.com/snowgate/bundle.tar.gz"},
	"policy.bundle.username":          {Example: "snowgate"},
	"policy.bundle.password_env":      {Format: "env", Example: "SNOWGATE_REGISTRY_PASSWORD", Doc: "The name of the environment variable holding the password that goes with `username`."},
	"policy.bundle.bearer_token_env":  {Format: "env", Example: "SNOWGATE_BUNDLE_TOKEN"},
	"policy.bundle.plain_http":        {Default: "false", Example: "true"},
	"policy.bundle.keys":              {Required: "unless allow_unsigned is true"},
	"policy.bundle.keys[].id":         {Default: "default", Example: "policy-2026"},
	"policy.bundle.keys[].file":       {Required: "unless pem is set", Format: "file", Example: "/etc/snowgate/policy-2026.pem"},
	"policy.bundle.keys[].pem":        {Required: "unless file is set", Example: "${SNOWGATE_POLICY_KEY}"},
	"policy.bundle.keys[].algorithm":  {Default: "from the key", Example: "ES256"},
	"policy.bundle.keys[].scope":      {Example: "prod"},
	"policy.bundle.allow_unsigned":    {Default: "false", Example: "true"},
	"policy.bundle.persist_dir":       {Example: "/var/lib/snowgate/bundles"},
	"policy.bundle.interval":          {Default: "10s", Example: "30s"},
	"policy.bundle.pin":               {Example: "2026-03-01.2"},
	"policy.bundle.history":           {Default: "5", Range: "0..1000", Example: "10"},
	"policy.bundle.long_poll_timeout": {Default: "0s (off)", Example: "60s"},
}

// listIndex matches a list index in a key path.
var listIndex = regexp.MustCompile(`\[\d+\]`)

// keyPattern is path with its list indexes as "[]": issuers[0].url →
// issuers[].url.
func keyPattern(path string) string { return listIndex.ReplaceAllString(path, "[]") }

// infoOf is the key info of field f at the key pattern.
func infoOf(pattern string, f reflect.StructField) keyInfo {
	if k, ok := foreignKeys[pattern]; ok {
		return k
	}
	return keyInfo{
		Default: f.Tag.Get("default"), Required: f.Tag.Get("required"), Enum: f.Tag.Get("enum"),
		Format: f.Tag.Get("format"), Range: f.Tag.Get("range"), Example: f.Tag.Get("example"),
	}
}

// yamlKey is the field's key in the file, "" for fields YAML ignores.
func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return strings.ToLower(f.Name)
	}
	return name
}

// isDuration reports whether t is read as a duration ("90s").
func isDuration(t reflect.Type) bool {
	return t == reflect.TypeFor[duration]() || t == reflect.TypeFor[time.Duration]()
}

// deref is t without its pointers.
func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isSection reports whether values of t are mappings of further keys.
func isSection(t reflect.Type) bool {
	t = deref(t)
	return t.Kind() == reflect.Struct && !isDuration(t)
}

// typeName is how the reference names a key's type.
func typeName(t reflect.Type) string {
	t = deref(t)
	switch {
	case isDuration(t):
		return "duration"
	case isSection(t):
		return "object"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Slice:
		if isSection(t.Elem()) {
			return "list of objects"
		}
		return "list of " + typeName(t.Elem()) + "s"
	}
	return t.String()
}

// configKey is one key of the config file.
type configKey struct {
	Pattern string // e.g. issuers[].url
	Field   reflect.StructField
	Owner   reflect.Type // the struct that declares Field
	Info    keyInfo
}

// configKeys lists every key of the config file, depth first in the
// order of the fields.
func configKeys() []configKey {
	var out []configKey
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		t = deref(t)
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlKey(f)
			if name == "" {
				continue
			}
			pattern := prefix + name
			out = append(out, configKey{Pattern: pattern, Field: f, Owner: t, Info: infoOf(pattern, f)})
			ft := deref(f.Type)
			switch {
			case isSection(ft):
				walk(ft, pattern+".")
			case ft.Kind() == reflect.Slice && isSection(ft.Elem()):
				walk(ft.Elem(), pattern+"[].")
			}
		}
	}
	walk(reflect.TypeFor[config](), "")
	return out
}
