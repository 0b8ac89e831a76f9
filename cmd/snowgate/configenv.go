package main

import (
	"fmt"
	"os"
	"strings"
)

// lookupEnv is how config files read the environment.
var lookupEnv = os.LookupEnv

// expandEnv replaces ${NAME} in s with the value of the environment
// variable NAME, and ${NAME:-default} with default when NAME is unset or
// empty; $${ is a literal ${. Any other $ is kept as it is. It returns the
// names it read and those that were unset (with no default); their values
// are never part of an error.
func expandEnv(s string, lookup func(string) (string, bool)) (out string, used, unset []string, err error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // $${ → ${
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", used, unset, fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !isEnvName(name) {
			return "", used, unset, fmt.Errorf("${%s}: %q is not an environment variable name", ref, name)
		}
		used = append(used, name)
		v, ok := lookup(name)
		switch {
		case hasDef && v == "":
			v = def
		case !ok:
			unset = append(unset, name)
		}
		b.WriteString(v)
	}
	return b.String(), used, unset, nil
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
