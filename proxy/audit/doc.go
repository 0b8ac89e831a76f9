// Package audit is snowgate's tamper-evident audit trail: one append-only
// stream of events per gateway replica (sessions, statements with their
// decisions, approvals, outcomes), kept in SQLite for one replica or
// PostgreSQL for several.
//
// # Durability
//
// Log.Record returns only after the record is committed: SQLite runs in
// WAL mode with synchronous=FULL, PostgreSQL commits with
// synchronous_commit=on. The gateway refuses a statement when Record
// fails, so nothing acts without a durable record. Concurrent Record
// calls share one transaction (group commit): a single writer goroutine
// takes every call waiting while the previous commit ran.
//
// # Tamper evidence
//
// Each record carries its replica, a seq (1, 2, 3, … per replica), the
// hash of the replica's previous record and its event; its hash is the
// SHA-256 of the canonical encoding of all that (see Canonical). Every
// CheckpointEvery records or CheckpointInterval, and on Close, the log
// writes a checkpoint over (replica, seq, hash, time), signed with Ed25519
// when a key is configured; it is also logged through slog, so a copy
// exists outside the store. Verify checks each chain and names the
// position of an edited, deleted, inserted or reordered record, of a
// stretch rewritten with fresh hashes (caught by the next checkpoint), and
// of a truncated tail (a checkpoint naming a seq past the end).
//
// The window: records after the last checkpoint are covered only by the
// hash chain. Removing some of them from the end, or removing the
// checkpoint rows as well, cannot be told from a chain that ends there;
// Report.Unanchored counts those records. Keep the window small with
// CheckpointEvery/CheckpointInterval, and keep checkpoints elsewhere too
// when the store's administrators are not trusted: every checkpoint is
// logged in full ("audit checkpoint" lines), `snowgate audit export
// --checkpoints` archives them, and VerifyOptions.Anchors (`audit verify
// --anchors FILE`) checks the store against the archived copies.
//
// Verify reads checkpoints before records, so it can run against a store
// a gateway is writing to.
//
// # Tests and benchmarks
//
// The PostgreSQL tests start a throwaway server from Debian's packages and
// need SNOWGATE_PG_BIN, the directory holding initdb and pg_ctl:
//
//	SNOWGATE_PG_BIN=/usr/lib/postgresql/15/bin go test ./proxy/audit/
//	SNOWGATE_PG_BIN=/usr/lib/postgresql/15/bin go test -run '^$' -bench . -benchtime 2000x ./proxy/audit/
//
// Run as root, the helper starts the server as the postgres user.
package audit
