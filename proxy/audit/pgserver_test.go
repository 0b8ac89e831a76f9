package audit

import (
	"os"
	"testing"

	"github.com/snowgate/snowgate/internal/pgtest"
)

// postgresDSN returns the URL of a new, empty database on the shared test
// server, failing the test when no server can be had.
func postgresDSN(t testing.TB) string { return pgtest.DSN(t, "audit") }

func TestMain(m *testing.M) {
	if dsn := os.Getenv(crashChildEnv); dsn != "" {
		crashChild(dsn) // never returns
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
