// Package pgtest starts a throwaway PostgreSQL server for tests, from the
// binaries in SNOWGATE_PG_BIN (Debian: /usr/lib/postgresql/15/bin), once per
// test binary; call Stop from TestMain.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer is a throwaway PostgreSQL server from the binaries in
// SNOWGATE_PG_BIN, started once per test binary and stopped by TestMain.
type pgServer struct {
	bin, dir string
	port     int
	cred     *syscall.Credential // run as this user (initdb refuses root)
}

var (
	pgOnce sync.Once
	pgSrv  *pgServer
	pgErr  error
)

const pgBinHelp = "SNOWGATE_PG_BIN is not set: point it at the directory holding PostgreSQL's initdb and pg_ctl " +
	"(Debian: apt-get install -y postgresql, then SNOWGATE_PG_BIN=/usr/lib/postgresql/15/bin)"

// DSN returns the URL of a new, empty database on the shared test
// server, failing the test when no server can be had.
func DSN(t testing.TB, prefix string) string {
	t.Helper()
	bin := os.Getenv("SNOWGATE_PG_BIN")
	if bin == "" {
		if _, ok := t.(*testing.B); ok {
			t.Skip(pgBinHelp)
		}
		t.Fatal(pgBinHelp)
	}
	pgOnce.Do(func() { pgSrv, pgErr = startPostgres(bin) })
	if pgErr != nil {
		t.Fatalf("start PostgreSQL from %s: %v", bin, pgErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgSrv.url("postgres"))
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	return pgSrv.url(name)
}

func (s *pgServer) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

func startPostgres(bin string) (*pgServer, error) {
	for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			return nil, fmt.Errorf("SNOWGATE_PG_BIN=%s has no %s: %w", bin, tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "snowgate-pg-")
	if err != nil {
		return nil, err
	}
	s := &pgServer{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, and initdb refuses root: need a 'postgres' user (Debian's postgresql package creates it): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c max_connections=200", s.port, dir)
	if out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	return s, nil
}

func (s *pgServer) run(tool string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd.CombinedOutput()
}

func (s *pgServer) stop() {
	_, _ = s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(s.dir)
}

// Stop stops the server, if one was started.
func Stop() {
	if pgSrv != nil {
		pgSrv.stop()
	}
}
