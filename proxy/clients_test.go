package proxy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snowgate/snowgate/proxy"
)

// The Python and Node drivers run from the environment `make test`
// prepares: SNOWGATE_PYTHON is a Python with snowflake-connector-python,
// SNOWGATE_NODE_PATH a node_modules folder with snowflake-sdk.

func TestPythonConnector(t *testing.T) {
	py := os.Getenv("SNOWGATE_PYTHON")
	if py == "" {
		t.Fatal("SNOWGATE_PYTHON is not set: run the tests with `make test`, which installs snowflake-connector-python")
	}
	for _, format := range []string{"ARROW", "JSON"} {
		t.Run(format, func(t *testing.T) {
			runClient(t, py, "testdata/clients/python_client.py", []string{"SNOWGATE_RESULT_FORMAT=" + format})
		})
	}
}

func TestNodeSDK(t *testing.T) {
	mods := os.Getenv("SNOWGATE_NODE_PATH")
	if mods == "" {
		t.Fatal("SNOWGATE_NODE_PATH is not set: run the tests with `make test`, which installs snowflake-sdk")
	}
	runClient(t, "node", "testdata/clients/node_client.js", []string{"NODE_PATH=" + mods})
}

func runClient(t *testing.T, interpreter, script string, env []string, flags ...string) {
	for _, chained := range []bool{false, true} {
		t.Run(map[bool]string{false: "stand-in", true: "chained"}[chained], func(t *testing.T) {
			runClientOn(t, chained, interpreter, script, env, flags...)
		})
	}
}

// runClientOn runs a client script against a dev stack's gateway or, when
// chained, against a gateway whose upstream is that stack's stand-in
// reached with gosnowflake (the chained upstream, as Snowflake would be).
func runClientOn(t *testing.T, chained bool, interpreter, script string, env []string, flags ...string) {
	st := startStack(t, allowAll, proxy.Config{})
	tok, err := st.Issuer.Token("analyst")
	if err != nil {
		t.Fatal(err)
	}
	addr := st.GatewayAddr
	if chained {
		shost, sport, _ := net.SplitHostPort(st.StandinAddr)
		sp, _ := strconv.Atoi(sport)
		addr = chainGateway(t, st, shost, sp, "ADMIN", "snowgate-dev", "DEMO", "PUBLIC")
	}
	host, port, _ := net.SplitHostPort(addr)
	abs, _ := filepath.Abs(script)
	cmd := exec.Command(interpreter, append(flags, abs)...)
	cmd.Env = append(os.Environ(), append(env, "SNOWGATE_HOST="+host, "SNOWGATE_PORT="+port, "SNOWGATE_TOKEN="+tok)...)
	out, err := cmd.CombinedOutput()
	t.Logf("%s output:\n%s", filepath.Base(script), out)
	if err != nil {
		t.Fatalf("%s failed: %v", script, err)
	}
	if !strings.Contains(string(out), "all checks passed") {
		t.Fatalf("%s did not finish its checks", script)
	}
}

func TestJDBC(t *testing.T) {
	jar := os.Getenv("SNOWGATE_JDBC_JAR")
	if jar == "" {
		t.Fatal("SNOWGATE_JDBC_JAR is not set: run the tests with `make test`, which fetches snowflake-jdbc from Maven Central")
	}
	// Both result formats: Arrow, Snowflake's default for JDBC (its reader
	// needs the JVM flag on Java 16 and later), and JSON.
	for _, format := range []string{"ARROW", "JSON"} {
		t.Run(format, func(t *testing.T) {
			runClient(t, "java", "testdata/clients/JdbcClient.java", []string{"SNOWGATE_JDBC_FORMAT=" + format}, "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", jar)
		})
	}
}
