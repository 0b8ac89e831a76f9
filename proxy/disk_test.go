package proxy_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snowgate/snowgate/internal/pgtest"
	"github.com/snowgate/snowgate/proxy"
	"github.com/snowgate/snowgate/proxy/audit"
)

// smallDisk mounts a tmpfs of size (e.g. "8m") for the test and returns
// its path: a real filesystem that fills up. Mounting needs root (CAP_SYS_ADMIN);
// without it the test is skipped, and says why.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "snowgate-disk-") // not under t.TempDir(): PostgreSQL's user must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mounting a %s tmpfs to fill needs root: %v %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until the filesystem is full, and returns a
// function that removes it.
func fill(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	for { // the last partial block
		if _, err := f.Write(block[:512]); err != nil {
			break
		}
	}
	f.Close()
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFault_auditDiskFull: the audit trail's filesystem fills up under
// load, on SQLite (the trail's own file) and on PostgreSQL (the
// tablespace holding the trail's database). Statements the trail cannot
// hold are refused with 003006 and none of them runs; once space is freed
// the gateway records again by itself.
func TestFault_auditDiskFull(t *testing.T) {
	// PostgreSQL moves the whole database, its catalogs (≈ 8 MB) too, into
	// the tablespace.
	for store, size := range map[string]string{"sqlite": "64m", "postgres": "64m"} {
		t.Run(store, func(t *testing.T) {
			disk := smallDisk(t, size)
			r := newFaultRun(t)
			ctx := context.Background()
			dsn := filepath.Join(disk, "audit.db")
			if store == "postgres" {
				dsn = tablespaceDSN(t, disk)
			}
			trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Replica: "fault", Logger: r.logger})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { trail.Close() })
			r.connect(faultGateway(t, r.st, r.st.StandinAddr, trail, r.logger))
			r.load("before", time.Second, 20*time.Second, false)

			free := fill(t, disk)
			refused := 0
			for _, op := range r.load("full", 3*time.Second, 20*time.Second, false) {
				switch {
				case op.code == 3006:
					refused++
				case !expected(op):
					t.Errorf("disk full: %s got %d (%s), want %d or 3006", op.kind, op.code, op.err, wantCode(op.kind))
				}
			}
			if refused == 0 {
				t.Errorf("the disk was full and no statement was refused with 003006: the fault did not reach the trail")
			}
			if !strings.Contains(r.logs.String(), "audit write failed") {
				t.Errorf("the gateway did not log the failed audit write")
			}

			free()
			t.Logf("space freed: first successful statement after %s", r.probe("freed", 30*time.Second))
			for _, op := range r.load("freed", 2*time.Second, 20*time.Second, false) {
				if !expected(op) {
					t.Errorf("space freed: %s got %d (%s), want %d", op.kind, op.code, op.err, wantCode(op.kind))
				}
			}
			r.check(trail.Store())
			if t.Failed() {
				var df syscall.Statfs_t
				syscall.Statfs(disk, &df)
				t.Logf("free on the disk: %d KiB; audit write failures logged:\n%s", df.Bavail*uint64(df.Bsize)>>10, lastLines(r.logs.String(), "audit write failed", 5))
			}
		})
	}
}

// tablespaceDSN returns a new database on the shared test PostgreSQL whose
// tables live in a tablespace in dir.
func tablespaceDSN(t *testing.T, dir string) string {
	t.Helper()
	dsn := pgtest.DSN(t, "full")
	if os.Geteuid() == 0 { // the server runs as postgres, which must own the tablespace
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	i := strings.LastIndex(dsn, "/")
	j := strings.Index(dsn[i:], "?")
	name := dsn[i+1 : i+j]
	admin, err := pgx.Connect(ctx, dsn[:i+1]+"postgres"+dsn[i+j:])
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		"CREATE TABLESPACE " + name + " LOCATION '" + dir + "'",
		"ALTER DATABASE " + name + " SET TABLESPACE " + name,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, dsn[:i+1]+"postgres"+dsn[i+j:])
		if err != nil {
			return
		}
		defer admin.Close(ctx)
		admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Exec(ctx, "DROP TABLESPACE IF EXISTS "+name)
	})
	return dsn
}

// lastLines returns the last n lines of s that contain sub.
func lastLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out[max(0, len(out)-n):], "\n")
}

// TestFault_auditReadOnly: a trail on a filesystem mounted read-only is
// refused when the gateway opens it, with the reason, so a gateway never
// starts without a trail it can write; once the filesystem is writable
// again the trail opens and verifies. (A filesystem cannot be remounted
// read-only under a file open for writing: the kernel refuses with EBUSY,
// so a trail turning read-only under a running gateway cannot be made
// here; the disk-full case covers writes failing under one.)
func TestFault_auditReadOnly(t *testing.T) {
	disk := smallDisk(t, "8m")
	ctx := context.Background()
	dsn := filepath.Join(disk, "audit.db")
	trail, err := audit.Open(ctx, audit.Config{DSN: dsn, Replica: "ro", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trail.Record(ctx, audit.Event{Type: audit.TypeSessionStart, SessionID: "1", Identity: &audit.Identity{Subject: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := trail.Close(); err != nil {
		t.Fatal(err)
	}
	remount := func(mode string) {
		t.Helper()
		if out, err := exec.Command("mount", "-o", "remount,"+mode, disk).CombinedOutput(); err != nil {
			t.Fatalf("remount %s: %v %s", mode, err, out)
		}
	}
	remount("ro")
	_, err = audit.Open(ctx, audit.Config{DSN: dsn, Replica: "ro", Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "read-only file system") || !strings.Contains(err.Error(), dsn) {
		t.Errorf("opening a trail on a read-only filesystem: %v; want an error naming the file and the read-only filesystem", err)
	}
	remount("rw")
	trail, err = audit.Open(ctx, audit.Config{DSN: dsn, Replica: "ro", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the trail once writable again: %v", err)
	}
	if _, err := trail.Record(ctx, audit.Event{Type: audit.TypeSessionEnd, SessionID: "1", Identity: &audit.Identity{Subject: "alice"}}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, trail.Store(), audit.VerifyOptions{})
	if err != nil || !rep.OK() || len(rep.Replicas) != 1 || rep.Replicas[0].Records != 2 {
		t.Errorf("verify: %v %+v", err, rep)
	}
	trail.Close()
}

// TestFault_spoolDiskFull: a result too large for the spool's filesystem
// fails with a clear error, whichever way its rows are read, and loses
// nothing else: a result that fits inline is served, and once there is
// room again the large one is too.
func TestFault_spoolDiskFull(t *testing.T) {
	dir := smallDisk(t, "16m")
	st := startStack(t, allowAll, proxy.Config{SpoolDir: dir, ChunkBytes: 64 << 10})
	db := openDB(t, st, "analyst")
	free := fill(t, dir)
	large := `SELECT range AS id, 'customer-' || range::VARCHAR AS name FROM range(200000)`
	var n int
	err := db.QueryRow(`SELECT count(*) FROM (` + large + `)`).Scan(&n)
	if err != nil || n != 200000 {
		t.Fatalf("a result that fits inline: %d, %v", n, err)
	}
	for _, q := range []string{large, large + ` UNION ALL SELECT 1, '{"a":1}'::VARIANT::VARCHAR`} {
		rows, err := db.Query(q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "could not") || !strings.Contains(err.Error(), "store the result") {
			t.Errorf("a result larger than the spool's room: %v", err)
		}
	}
	free()
	rows, err := db.Query(large)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n = 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 200000 {
		t.Errorf("with room again: %d rows, %v", n, err)
	}
}
