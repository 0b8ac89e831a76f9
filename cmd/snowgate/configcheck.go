package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// problem is one thing wrong with a config file, and where.
type problem struct {
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Key    string `json:"key,omitempty"` // the key path, e.g. issuers[0].url
	Msg    string `json:"message"`
}

// format is the problem as file:line:column: key: message.
func (p problem) format(file string) string {
	s := fmt.Sprintf("%s:%d:%d: ", file, p.Line, p.Column)
	if p.Line == 0 { // a YAML syntax error without a position
		s = file + ": "
	}
	if p.Key != "" {
		s += p.Key + ": "
	}
	return s + p.Msg
}

// configError is an invalid config file: every problem, in file order.
type configError struct {
	File     string
	Problems []problem
}

func (e *configError) Error() string {
	lines := e.Lines()
	noun := "problems"
	if len(lines) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("config %s: %d %s:\n%s", e.File, len(lines), noun, strings.Join(lines, "\n"))
}

// Lines are the problems, one a line.
func (e *configError) Lines() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.format(e.File)
	}
	return out
}

// loadedConfig is a valid config and what the validator learnt reading it.
type loadedConfig struct {
	*config
	file    string
	written map[string]string // key path → the value as written, where it had ${…}
	vars    []string          // the environment variables it reads, sorted
}

// shown is the value at path as it may be printed: as written in the file
// when it came from the environment, and without a URL's password.
func (l *loadedConfig) shown(path, value string) string {
	if w, ok := l.written[path]; ok {
		return w
	}
	return redactURL(value)
}

// checkConfig reads the config file at path, expands its environment
// variables, decodes it and checks every key. It returns a *configError
// listing every problem, or the config with its defaults filled in.
func checkConfig(path string, lookup func(string) (string, bool)) (*loadedConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := &checker{lookup: lookup, values: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{},
		written: map[string]string{}, vars: map[string]bool{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, &configError{File: path, Problems: []problem{syntaxProblem(err)}}
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if doc.Kind == 0 || isNull(root) {
		root = nil // an empty file: every required key is reported missing
	}
	c.walk(root, reflect.TypeFor[config](), "")
	var cfg config
	decoded := true
	if root != nil {
		if err := root.Decode(&cfg); err != nil {
			decoded = false
			if len(c.problems) == 0 {
				c.problems = append(c.problems, decodeProblem(err))
			}
		}
	}
	l := &loadedConfig{config: &cfg, file: path, written: c.written}
	for v := range c.vars {
		l.vars = append(l.vars, v)
	}
	slices.Sort(l.vars)
	if decoded { // cross-checks need well-typed values
		applyDefaults(&cfg)
		c.crossCheck(l)
	}
	if len(c.problems) > 0 {
		slices.SortStableFunc(c.problems, func(a, b problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		return nil, &configError{File: path, Problems: c.problems}
	}
	return l, nil
}

// applyDefaults fills in the defaults that depend on other keys or on the
// host; the rest are the zero values' meaning where the config is used.
func applyDefaults(c *config) {
	if c.Listen == "" {
		c.Listen = defaultAddr
	}
	if c.AdminListen == "" {
		c.AdminListen = defaultAdminAddr
	}
	if c.Approvals.Store == "" {
		c.Approvals.Store = "approvals.db"
	}
	if c.Classifications.Store == "" {
		c.Classifications.Store = c.Approvals.Store // one PostgreSQL database for the shared state
		if !isPostgres(c.Approvals.Store) {
			c.Classifications.Store = filepath.Join(filepath.Dir(c.Approvals.Store), "classifications.db")
		}
	}
	if c.Quotas.Store == "" {
		c.Quotas.Store = c.Approvals.Store
		if !isPostgres(c.Approvals.Store) {
			c.Quotas.Store = filepath.Join(filepath.Dir(c.Approvals.Store), "quotas.db")
		}
	}
	if c.Audit.DSN == "" {
		c.Audit.DSN = "audit.db"
	}
	if c.Audit.Replica == "" {
		c.Audit.Replica, _ = os.Hostname()
	}
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// checker walks a config file's YAML nodes beside the config's Go types.
type checker struct {
	lookup   func(string) (string, bool)
	problems []problem
	values   map[string]*yaml.Node // key path → its value
	keys     map[string]*yaml.Node // key path → its key
	written  map[string]string     // key path → the value as written, where it had ${…}
	vars     map[string]bool
}

// reported reports whether there is a problem with path already.
func (c *checker) reported(path string) bool {
	return slices.ContainsFunc(c.problems, func(p problem) bool { return p.Key == path })
}

func (c *checker) add(n *yaml.Node, path, format string, args ...any) {
	p := problem{Line: 1, Column: 1, Key: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	c.problems = append(c.problems, p)
}

// at is the node to report a problem of path at: its value, or the key of
// its nearest ancestor in the file (nil: the top of the file).
func (c *checker) at(path string) *yaml.Node {
	if n := c.values[path]; n != nil && n.Kind == yaml.ScalarNode {
		return n
	}
	if n := c.keys[path]; n != nil {
		return n
	}
	if n := c.values[path]; n != nil { // a list item
		return n
	}
	for p := path; p != ""; {
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
		if n := c.keys[p]; n != nil {
			return n
		}
		if n := c.values[p]; n != nil { // a list item
			return n
		}
	}
	return nil
}

// has reports whether path is set (to something other than null).
func (c *checker) has(path string) bool { return c.values[path] != nil }

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// walk checks n against t. n is nil for an absent key: only sections are
// walked then, for their required keys.
func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && isNull(n) {
		n = nil
	}
	t = deref(t)
	info := keyInfo{}
	if path != "" {
		info = c.infoAt(path)
	}
	switch {
	case isSection(t):
		c.section(n, t, path)
	case n == nil:
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.add(n, path, "want a list, got %s", kindName(n))
			return
		}
		if len(n.Content) == 0 && info.Required == "yes" {
			c.add(n, path, "is required: give at least one")
		}
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			c.values[p] = item
			if item.Kind == yaml.AliasNode {
				item = item.Alias
			}
			if isSection(t.Elem()) {
				c.walk(item, t.Elem(), p)
			} else {
				c.scalar(item, t.Elem(), p, info)
			}
		}
	default:
		c.scalar(n, t, path, info)
	}
}

// keyInfos is the key info of every key pattern.
var keyInfos = sync.OnceValue(func() map[string]keyInfo {
	m := map[string]keyInfo{}
	for _, k := range configKeys() {
		m[k.Pattern] = k.Info
	}
	return m
})

// infoAt is the key info of the key at path.
func (c *checker) infoAt(path string) keyInfo { return keyInfos()[keyPattern(path)] }

// section checks a mapping of keys against the struct t.
func (c *checker) section(n *yaml.Node, t reflect.Type, path string) {
	fields := map[string]reflect.StructField{}
	var names []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			fields[k] = t.Field(i)
			names = append(names, k)
		}
	}
	seen := map[string]bool{}
	if n != nil {
		if n.Kind != yaml.MappingNode {
			c.add(n, path, "want a mapping of keys (%s), got %s", strings.Join(names, ", "), kindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			f, ok := fields[k.Value]
			switch {
			case k.Tag == "!!merge":
				c.add(k, path, "merge keys (<<) are not supported")
				continue
			case !ok:
				c.add(k, p, "unknown key%s", suggest(k.Value, names, path))
				continue
			case seen[k.Value]:
				c.add(k, p, "set twice (first at line %d)", c.keys[p].Line)
				continue
			}
			seen[k.Value] = true
			c.keys[p] = k
			if !isNull(v) {
				c.values[p] = v
			}
			c.walk(v, f.Type, p)
		}
	}
	for _, name := range names {
		p := join(path, name)
		f := fields[name]
		switch {
		case c.has(p):
		case c.infoAt(p).Required == "yes":
			c.add(c.at(p), p, "is required")
		case f.Type.Kind() != reflect.Pointer && isSection(f.Type):
			c.walk(nil, f.Type, p) // an absent section's required keys
		}
	}
}

// scalar checks one value of type t (a string, number, boolean or duration).
func (c *checker) scalar(n *yaml.Node, t reflect.Type, path string, info keyInfo) {
	if n.Kind != yaml.ScalarNode {
		c.add(n, path, "want a single value, got %s", kindName(n))
		return
	}
	raw := n.Value
	hint := ""
	if strings.Contains(raw, "${") {
		hint = " (environment variables are expanded in strings only)"
	}
	switch {
	case isDuration(t):
		d, err := time.ParseDuration(raw)
		switch {
		case err != nil:
			c.add(n, path, "%q is not a duration like 90s, 5m or 4h%s", raw, hint)
		case d < 0:
			c.add(n, path, "%q: must not be negative", raw)
		}
	case t.Kind() == reflect.Bool:
		var b bool
		if n.Decode(&b) != nil {
			c.add(n, path, "%q is not true or false%s", raw, hint)
		}
	case t.Kind() == reflect.Int:
		var i int
		if n.Decode(&i) != nil {
			c.add(n, path, "%q is not a whole number%s", raw, hint)
			return
		}
		if lo, hi, ok := parseRange(info.Range); ok && (i < lo || i > hi) {
			c.add(n, path, "%d is out of range: want %d to %d", i, lo, hi)
		}
	case t.Kind() == reflect.String:
		v, used, unset, err := expandEnv(raw, c.lookup)
		for _, name := range used {
			c.vars[name] = true
		}
		if err != nil {
			c.add(n, path, "%v", err)
			return
		}
		if len(unset) > 0 {
			c.add(n, path, "environment variable %s is not set", strings.Join(unset, ", "))
			return
		}
		if len(used) > 0 {
			c.written[path] = raw
			n.Value, n.Tag = v, "!!str"
		}
		c.str(n, path, v, info)
	default:
		c.add(n, path, "unsupported type %s", t)
	}
}

// str checks a string value against its key's enum and format.
func (c *checker) str(n *yaml.Node, path, v string, info keyInfo) {
	shown := v
	if w, ok := c.written[path]; ok {
		shown = w
	}
	shown = strconv.Quote(redactURL(shown))
	if v == "" {
		if info.Required == "yes" {
			c.add(n, path, "is required")
		}
		return
	}
	if e := info.enum(); e != nil && !slices.Contains(e, v) {
		c.add(n, path, "%s: want %s", shown, orList(e))
		return
	}
	if info.Format == "env" {
		c.vars[v] = true
	}
	if err := checkFormat(info.Format, v, c.lookup); err != nil {
		c.add(n, path, "%s: %v", shown, err)
	}
}
