package clients_test

import (
	"strings"
	"testing"
)

// TestSnowCLI_connectionTest: `snow connection test`, the first thing a
// user runs after adding a connection to config.toml, passes for the agent
// and for a person. It checks the session by using the role the login
// answered with.
func TestSnowCLI_connectionTest(t *testing.T) {
	s := startStack(t)
	cli := newSnowCLI(t, s, "agent", "analyst")
	for _, as := range []string{"agent", "analyst"} {
		if r := cli.run("connection", "test", "-c", as); r.err != nil || !strings.Contains(r.stdout, "OK") {
			t.Errorf("snow connection test -c %s:\n%s", as, r)
		}
	}
}
