package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// storeKind is one backend the suites run against.
type storeKind struct {
	name string
	dsn  func(t testing.TB) string
	// exec runs SQL against the store behind the log's back, the way
	// someone with database access would; $1… placeholders.
	exec func(t testing.TB, s Store, query string, args ...any)
}

var storeKinds = []storeKind{
	{
		name: "sqlite",
		dsn:  func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "audit.db") },
		exec: func(t testing.TB, s Store, query string, args ...any) {
			t.Helper()
			for i := 9; i >= 1; i-- { // SQLite numbers parameters ?1, ?2…
				query = strings.ReplaceAll(query, fmt.Sprintf("$%d", i), fmt.Sprintf("?%d", i))
			}
			if _, err := s.(*SQLite).DB().ExecContext(context.Background(), query, args...); err != nil {
				t.Fatalf("tamper %q: %v", query, err)
			}
		},
	},
	{
		name: "postgres",
		dsn:  postgresDSN,
		exec: func(t testing.TB, s Store, query string, args ...any) {
			t.Helper()
			if _, err := s.(*Postgres).Pool().Exec(context.Background(), query, args...); err != nil {
				t.Fatalf("tamper %q: %v", query, err)
			}
		},
	},
}

// testKey is a fixed signing key, so failures reproduce.
func testKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte("snowgate audit test signing key!"))
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var baseTime = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// statementEvent is the i-th statement of session s.
func statementEvent(s string, i int) Event {
	return Event{
		Type: TypeStatement, Time: baseTime.Add(time.Duration(i) * time.Second),
		SessionID: s, RequestID: fmt.Sprintf("req-%d", i),
		Identity:  &Identity{Subject: "alice", Email: "alice@example.com", Issuer: "https://idp.example", Agent: "claude-code", Groups: []string{"analysts"}},
		Statement: &Statement{SQL: fmt.Sprintf("SELECT * FROM orders WHERE id = %d", i), Fingerprint: "f00d", Kind: "select", Category: "read", Objects: []string{"table DEMO.PUBLIC.ORDERS read"}},
		Decision:  &Decision{ID: fmt.Sprintf("dec-%d", i), Action: "allow", Reasons: []string{"read of non-sensitive table"}, Revision: "r1"},
	}
}

// openLog opens a log on dsn for replica with the test key.
func openLog(t testing.TB, dsn, replica string, every int) *Log {
	t.Helper()
	l, err := Open(context.Background(), Config{
		DSN: dsn, Replica: replica, SigningKey: testKey(),
		CheckpointEvery: every, CheckpointInterval: time.Hour, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	return l
}

// writeChain records n statements on replica and closes the log (which
// writes a final checkpoint).
func writeChain(t testing.TB, dsn, replica string, n, every int) {
	t.Helper()
	l := openLog(t, dsn, replica, every)
	for i := 1; i <= n; i++ {
		id, err := l.Record(context.Background(), statementEvent("s1", i))
		if err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
		if want := RecordID(replica, int64(i)); id != want {
			t.Fatalf("Record %d returned id %q, want %q", i, id, want)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func openStore(t testing.TB, dsn string) Store {
	t.Helper()
	s, err := OpenStore(context.Background(), dsn, StoreOptions{})
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func verify(t testing.TB, s Store, opts VerifyOptions) Report {
	t.Helper()
	rep, err := Verify(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

// recordAt reads the stored record at seq of replica.
func recordAt(t testing.TB, s Store, replica string, seq int64) Record {
	t.Helper()
	var out *Record
	err := s.Chain(context.Background(), replica, func(r Record) error {
		if r.Seq == seq {
			out = &r
		}
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("record %s:%d: %v", replica, seq, err)
	}
	return *out
}

func testPublicKeys() []ed25519.PublicKey {
	return []ed25519.PublicKey{testKey().Public().(ed25519.PublicKey)}
}
