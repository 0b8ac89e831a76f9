package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkFormat checks v against a format tag (see config).
func checkFormat(format, v string, lookup func(string) (string, bool)) error {
	switch format {
	case "hostport":
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return errors.New("want host:port, e.g. 0.0.0.0:8765")
		}
		if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("port %q: want a number from 0 to 65535", port)
		}
	case "url":
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("want an http:// or https:// URL")
		}
	case "file", "dir":
		st, err := os.Stat(v)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("no such %s", map[string]string{"file": "file", "dir": "directory"}[format])
		case err != nil:
			return err
		case format == "file" && st.IsDir():
			return errors.New("is a directory, want a file")
		case format == "dir" && !st.IsDir():
			return errors.New("is not a directory")
		}
	case "env":
		if !isEnvName(v) {
			return errors.New("want the name of an environment variable")
		}
		if _, ok := lookup(v); !ok {
			return fmt.Errorf("environment variable %s is not set", v)
		}
	case "store", "dsn":
		if isPostgres(v) {
			if u, err := url.Parse(v); err != nil || u.Host == "" {
				return errors.New("want postgres://user@host/database")
			}
			return nil
		}
		if format == "dsn" {
			v = strings.TrimPrefix(v, "sqlite://")
		}
		if strings.Contains(v, "://") {
			return errors.New("want a file path or a postgres:// URL")
		}
		if st, err := os.Stat(filepath.Dir(v)); err != nil || !st.IsDir() {
			return fmt.Errorf("directory %s does not exist", filepath.Dir(v))
		}
	}
	return nil
}

func parseRange(r string) (lo, hi int, ok bool) {
	a, b, found := strings.Cut(r, "..")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	return lo, hi, err1 == nil && err2 == nil
}

func orList(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// suggest names the closest known key, or lists them.
func suggest(key string, names []string, section string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(key, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	where := "here"
	if section != "" {
		where = "in " + keyPattern(section)
	}
	return fmt.Sprintf(" (known %s: %s)", where, strings.Join(names, ", "))
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// redactURL hides the password of a URL.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return u.Redacted()
}

var (
	yamlLine   = regexp.MustCompile(`^yaml: line (\d+): `)
	decodeLine = regexp.MustCompile(`^line (\d+): `)
)

// syntaxProblem places a YAML syntax error. The parser reports a line,
// not a column.
func syntaxProblem(err error) problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return problem{Line: line, Column: 1, Msg: "YAML: " + msg[len(m[0]):]}
	}
	return problem{Msg: strings.Replace(msg, "yaml: ", "YAML: ", 1)}
}

// decodeProblem is a decoding error the walk did not foresee.
func decodeProblem(err error) problem {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := err.Error()
	if m := decodeLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return problem{Line: line, Column: 1, Msg: msg[len(m[0]):]}
	}
	return problem{Line: 1, Column: 1, Msg: msg}
}
