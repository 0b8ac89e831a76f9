package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

// TestVerify_Tampering writes a chain of 10 records on replica "a" (signed
// checkpoints at 4, 8 and, on Close, 10) and 2 on replica "b", tampers with
// the store the way someone with database access could, and checks that
// Verify names the kind and position of the damage, on every store.
func TestVerify_Tampering(t *testing.T) {
	type tamper func(t testing.TB, k storeKind, s Store)
	reseal := func(t testing.TB, k storeKind, s Store, seq int64, prev string, edit func(*Event)) string {
		r := recordAt(t, s, "a", seq)
		env, err := r.Decode()
		if err != nil {
			t.Fatal(err)
		}
		edit(&env.Event)
		ev, err := Canonical(&env.Event)
		if err != nil {
			t.Fatal(err)
		}
		body, hash := seal(ev, "a", seq, prev)
		k.exec(t, s, `UPDATE audit_records SET body = $1, hash = $2 WHERE replica = 'a' AND seq = $3`, string(body), hash, seq)
		return hash
	}
	otherTable := func(e *Event) { e.Statement.SQL = strings.Replace(e.Statement.SQL, "orders", "salaries", 1) }

	cases := []struct {
		name   string
		tamper tamper
		opts   VerifyOptions
		want   []Problem // each must be reported (Detail ignored)
		ok     bool      // no problem at all may be reported
		// anchored passes the checkpoints as they were before tampering
		// as VerifyOptions.Anchors, as if archived elsewhere.
		anchored bool
		check    func(t *testing.T, rep Report)
	}{
		{name: "untouched", tamper: func(testing.TB, storeKind, Store) {}, ok: true,
			check: func(t *testing.T, rep Report) {
				a := rep.Replicas[0]
				if a.Replica != "a" || a.Records != 10 || a.LastCheckpoint != 10 || a.Unanchored != 0 || a.SignedCheckpoints != 3 {
					t.Errorf("report for a = %+v, want 10 records, 3 signed checkpoints, last at 10, none unanchored", a)
				}
			}},
		{name: "edited body", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `UPDATE audit_records SET body = replace(body, 'id = 5"', 'id = 50"') WHERE replica = 'a' AND seq = 5`)
		}, want: []Problem{{Seq: 5, Kind: ProblemEdited}}},
		{name: "edited column", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `UPDATE audit_records SET subject = 'mallory' WHERE replica = 'a' AND seq = 3`)
		}, want: []Problem{{Seq: 3, Kind: ProblemEdited}}},
		{name: "edited and rehashed", tamper: func(t testing.TB, k storeKind, s Store) {
			reseal(t, k, s, 5, recordAt(t, s, "a", 4).Hash, otherTable)
		}, want: []Problem{{Seq: 5, Kind: ProblemRewritten}}},
		{name: "rewritten from seq 5 on, every hash recomputed", tamper: func(t testing.TB, k storeKind, s Store) {
			prev := recordAt(t, s, "a", 4).Hash
			for seq := int64(5); seq <= 10; seq++ {
				prev = reseal(t, k, s, seq, prev, otherTable)
			}
		}, want: []Problem{{Seq: 8, Kind: ProblemRewritten}, {Seq: 10, Kind: ProblemRewritten}}},
		{name: "deleted", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'a' AND seq = 6`)
		}, want: []Problem{{Seq: 6, Kind: ProblemDeleted}}},
		{name: "deleted and renumbered", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'a' AND seq = 6`)
			k.exec(t, s, `UPDATE audit_records SET seq = -(seq - 1) WHERE replica = 'a' AND seq > 6`)
			k.exec(t, s, `UPDATE audit_records SET seq = -seq WHERE replica = 'a' AND seq < 0`)
		}, want: []Problem{{Seq: 6, Kind: ProblemDeleted}}},
		{name: "inserted", tamper: func(t testing.TB, k storeKind, s Store) {
			// make room at 5, then seal a forged record there correctly
			k.exec(t, s, `UPDATE audit_records SET seq = -seq WHERE replica = 'a' AND seq >= 5`)
			k.exec(t, s, `UPDATE audit_records SET seq = 1 - seq WHERE replica = 'a' AND seq < 0`)
			forged := statementEvent("s1", 99)
			forged.Statement.SQL = "SELECT 'nothing to see'"
			ev, _ := Canonical(&forged)
			body, hash := seal(ev, "a", 5, recordAt(t, s, "a", 4).Hash)
			k.exec(t, s, `INSERT INTO audit_records (replica, seq, time, type, session_id, subject, body, hash)
				SELECT replica, 5, time, type, session_id, subject, $1, $2 FROM audit_records WHERE replica = 'a' AND seq = 4`, string(body), hash)
		}, want: []Problem{{Seq: 5, Kind: ProblemInserted}}},
		{name: "inserted from another replica", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `INSERT INTO audit_records (replica, seq, time, type, session_id, subject, body, hash)
				SELECT 'a', 11, time, type, session_id, subject, body, hash FROM audit_records WHERE replica = 'b' AND seq = 2`)
		}, want: []Problem{{Seq: 11, Kind: ProblemInserted}}},
		{name: "reordered", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `UPDATE audit_records SET seq = CASE seq WHEN 5 THEN -6 ELSE -5 END WHERE replica = 'a' AND seq IN (5, 6)`)
			k.exec(t, s, `UPDATE audit_records SET seq = -seq WHERE replica = 'a' AND seq < 0`)
		}, want: []Problem{{Seq: 5, Kind: ProblemReordered}}},
		{name: "last record truncated", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'a' AND seq = (SELECT max(seq) FROM audit_records WHERE replica = 'a')`)
		}, want: []Problem{{Seq: 10, Kind: ProblemTruncated}}},
		{name: "whole replica truncated", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'b'`)
		}, want: []Problem{{Replica: "b", Seq: 1, Kind: ProblemTruncated}}},
		{name: "truncated together with its checkpoint: the documented window", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'a' AND seq = 10`)
			k.exec(t, s, `DELETE FROM audit_checkpoints WHERE replica = 'a' AND seq = 10`)
		}, ok: true, check: func(t *testing.T, rep Report) {
			if a := rep.Replicas[0]; a.LastSeq != 9 || a.LastCheckpoint != 8 || a.Unanchored != 1 {
				t.Errorf("report for a = %+v, want last seq 9, last checkpoint 8, 1 unanchored", a)
			}
		}},
		{name: "truncated together with its checkpoint, caught by an archived checkpoint", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `DELETE FROM audit_records WHERE replica = 'a' AND seq = 10`)
			k.exec(t, s, `DELETE FROM audit_checkpoints WHERE replica = 'a' AND seq = 10`)
		}, anchored: true, want: []Problem{{Seq: 10, Kind: ProblemTruncated}}},
		{name: "stored checkpoint differs from its archived copy", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `UPDATE audit_checkpoints SET signature = 'AAAA' WHERE replica = 'a' AND seq = 8`)
		}, anchored: true, want: []Problem{{Seq: 8, Kind: ProblemCheckpoint}}},
		{name: "checkpoint moved to another record", tamper: func(t testing.TB, k storeKind, s Store) {
			k.exec(t, s, `UPDATE audit_checkpoints SET hash = $1 WHERE replica = 'a' AND seq = 4`, recordAt(t, s, "a", 3).Hash)
		}, want: []Problem{{Seq: 4, Kind: ProblemCheckpoint}}},
		{name: "checkpoints checked against another trusted key", tamper: func(testing.TB, storeKind, Store) {},
			opts: VerifyOptions{PublicKeys: []ed25519.PublicKey{ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)}},
			want: []Problem{{Seq: 4, Kind: ProblemCheckpoint}, {Seq: 8, Kind: ProblemCheckpoint}, {Seq: 10, Kind: ProblemCheckpoint}}},
	}
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					dsn := k.dsn(t)
					writeChain(t, dsn, "a", 10, 4)
					writeChain(t, dsn, "b", 2, 4)
					s := openStore(t, dsn)
					opts := tc.opts
					if tc.anchored {
						cps, err := s.Checkpoints(context.Background(), "a")
						if err != nil {
							t.Fatal(err)
						}
						opts.Anchors = cps
					}
					tc.tamper(t, k, s)
					if opts.PublicKeys == nil {
						opts.PublicKeys = []ed25519.PublicKey{testKey().Public().(ed25519.PublicKey)}
					}
					rep := verify(t, s, opts)
					t.Logf("Verify reported:\n%s", problems(rep))
					if tc.ok && !rep.OK() {
						t.Errorf("Verify found problems in a chain it should accept:\n%s", problems(rep))
					}
					if !tc.ok && rep.OK() {
						t.Fatalf("Verify found nothing, want %v", tc.want)
					}
					for _, w := range tc.want {
						if w.Replica == "" {
							w.Replica = "a"
						}
						if !hasProblem(rep, w) {
							t.Errorf("Verify did not report %s at %s; it reported:\n%s", w.Kind, RecordID(w.Replica, w.Seq), problems(rep))
						}
					}
					if tc.check != nil {
						tc.check(t, rep)
					}
				})
			}
		})
	}
}

func hasProblem(rep Report, w Problem) bool {
	for _, p := range rep.Problems {
		if p.Replica == w.Replica && p.Seq == w.Seq && p.Kind == w.Kind {
			return true
		}
	}
	return false
}

func problems(rep Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// TestOpen_RefusesTruncatedChain: a gateway must not append over a
// truncated chain (it would bury the evidence); Open fails instead.
func TestOpen_RefusesTruncatedChain(t *testing.T) {
	k := storeKinds[0]
	dsn := k.dsn(t)
	writeChain(t, dsn, "a", 5, 100)
	s := openStore(t, dsn)
	k.exec(t, s, `DELETE FROM audit_records WHERE seq = 5`)
	_, err := Open(context.Background(), Config{DSN: dsn, Replica: "a", Logger: quietLogger()})
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("Open over a truncated chain: err = %v, want ErrTruncated", err)
	}
}
