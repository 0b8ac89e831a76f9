package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// ProblemKind says what is wrong at a position of a chain.
type ProblemKind string

// The problems Verify finds.
const (
	// ProblemEdited: a record's contents no longer match its hash, or a
	// column kept beside the body disagrees with it.
	ProblemEdited ProblemKind = "edited"
	// ProblemDeleted: seqs are missing inside the chain.
	ProblemDeleted ProblemKind = "deleted"
	// ProblemInserted: a record that is not part of the chain: a second
	// record claiming a seq, or one sealed for another replica.
	ProblemInserted ProblemKind = "inserted"
	// ProblemReordered: records are stored out of their sealed order.
	ProblemReordered ProblemKind = "reordered"
	// ProblemTruncated: a checkpoint names a seq after the chain's end.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemRewritten: a record was replaced together with its hash: its
	// successor or a checkpoint was sealed over a different hash.
	ProblemRewritten ProblemKind = "rewritten"
	// ProblemCheckpoint: a checkpoint's signature is missing, invalid or
	// made with a key that is not trusted.
	ProblemCheckpoint ProblemKind = "checkpoint"
)

// Problem is one finding, at a position (seq) of a replica's chain.
type Problem struct {
	Replica string      `json:"replica"`
	Seq     int64       `json:"seq"`
	Kind    ProblemKind `json:"kind"`
	Detail  string      `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s: %s", RecordID(p.Replica, p.Seq), p.Kind, p.Detail)
}

// ReplicaReport summarises one replica's chain.
type ReplicaReport struct {
	Replica           string `json:"replica"`
	Records           int64  `json:"records"`
	LastSeq           int64  `json:"last_seq"`
	LastHash          string `json:"last_hash,omitempty"`
	Checkpoints       int    `json:"checkpoints"`
	SignedCheckpoints int    `json:"signed_checkpoints"`
	LastCheckpoint    int64  `json:"last_checkpoint"` // seq of the last checkpoint that matches the chain
	// Unanchored counts the records after LastCheckpoint. Only the hash
	// chain covers them: removing some of them from the end, or appending
	// forged ones, cannot be told from a chain that just ends there. The
	// gateway keeps this window under Config.CheckpointEvery records and
	// Config.CheckpointInterval, and closes it on a clean shutdown.
	Unanchored int64 `json:"unanchored"`
}

// Report is what Verify found.
type Report struct {
	Replicas []ReplicaReport `json:"replicas"`
	Problems []Problem       `json:"problems"`
	Warnings []string        `json:"warnings,omitempty"`
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Replica limits the check to one chain; default every replica.
	Replica string
	// PublicKeys are the trusted checkpoint keys. Without them signatures
	// are checked against the key stored with each checkpoint, which an
	// attacker able to rewrite the store could replace: a warning says so.
	PublicKeys []ed25519.PublicKey
	// RequireSigned makes an unsigned checkpoint a problem.
	RequireSigned bool
	// Anchors are checkpoints kept outside the store (an earlier
	// `audit export --checkpoints`, or the log's "audit checkpoint" lines).
	// They count as the store's own: a tail removed together with its
	// checkpoint rows is caught when an anchor still names it, and a
	// stored checkpoint that differs from its anchor is a problem.
	Anchors []Checkpoint
}

// Verify checks every record of each replica's chain against its hash, its
// predecessor and the checkpoints, and names the position of each
// tampering: an edited, deleted, inserted or reordered record, a rewritten
// stretch, or a truncated tail. The error is for failures to read.
func Verify(ctx context.Context, store Store, opts VerifyOptions) (Report, error) {
	replicas := []string{opts.Replica}
	if opts.Replica == "" {
		var err error
		if replicas, err = store.Replicas(ctx); err != nil {
			return Report{}, err
		}
		for _, a := range opts.Anchors { // a replica may survive only in its anchors
			if !slices.Contains(replicas, a.Replica) {
				replicas = append(replicas, a.Replica)
			}
		}
		sort.Strings(replicas)
	}
	rep := Report{Replicas: []ReplicaReport{}, Problems: []Problem{}}
	unsigned, selfKeyed := false, false
	for _, name := range replicas {
		v := &chainCheck{replica: name, opts: opts}
		// Checkpoints first: a gateway writing meanwhile commits a
		// checkpoint with or after its records, so every checkpoint read
		// here names records the chain read below will hold.
		cps, err := store.Checkpoints(ctx, name)
		if err != nil {
			return Report{}, err
		}
		if err := store.Chain(ctx, name, v.add); err != nil {
			return Report{}, err
		}
		rr := v.finish(v.withAnchors(cps))
		rep.Replicas = append(rep.Replicas, rr)
		rep.Problems = append(rep.Problems, v.problems...)
		unsigned = unsigned || rr.Checkpoints > rr.SignedCheckpoints
		selfKeyed = selfKeyed || (rr.SignedCheckpoints > 0 && len(opts.PublicKeys) == 0)
	}
	if unsigned && !opts.RequireSigned {
		rep.Warnings = append(rep.Warnings, "some checkpoints are unsigned: configure a signing key so that rewriting the store cannot go unnoticed")
	}
	if selfKeyed {
		rep.Warnings = append(rep.Warnings, "checkpoint signatures were checked against the keys stored beside them; pass the trusted public key to pin it")
	}
	return rep, nil
}

// withAnchors merges the replica's anchors into its stored checkpoints.
func (v *chainCheck) withAnchors(cps []Checkpoint) []Checkpoint {
	stored := make(map[int64]Checkpoint, len(cps))
	for _, c := range cps {
		stored[c.Seq] = c
	}
	for _, a := range v.opts.Anchors {
		if a.Replica != v.replica {
			continue
		}
		c, ok := stored[a.Seq]
		switch {
		case !ok:
			cps = append(cps, a)
			stored[a.Seq] = a
		case c.Hash != a.Hash || c.Signature != a.Signature || !c.Time.Equal(a.Time):
			v.problem(a.Seq, ProblemCheckpoint, "the stored checkpoint differs from its archived copy (hash %.16s…, archived %.16s…)", c.Hash, a.Hash)
			cps = append(cps, a)
		}
	}
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	return cps
}

// link is what Verify keeps of a record.
type link struct {
	pos     int64 // the seq it is stored under
	seq     int64 // the seq sealed in its body
	hash    string
	prev    string
	noPrev  bool // body unreadable: its link cannot be checked
	foreign bool // sealed for another replica
}

type chainCheck struct {
	replica  string
	opts     VerifyOptions
	links    []link
	problems []Problem
}

func (v *chainCheck) problem(seq int64, kind ProblemKind, format string, args ...any) {
	v.problems = append(v.problems, Problem{Replica: v.replica, Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// add checks one record on its own.
func (v *chainCheck) add(r Record) error {
	l := link{pos: r.Seq, seq: r.Seq, hash: r.Hash}
	contentOK := hashOf(r.Body) == r.Hash
	if !contentOK {
		v.problem(r.Seq, ProblemEdited, "its contents do not match its hash %.16s…", r.Hash)
	}
	env, err := r.Decode()
	if err != nil {
		if contentOK {
			v.problem(r.Seq, ProblemEdited, "its body is not a record: %v", err)
		}
		l.noPrev = true
		v.links = append(v.links, l)
		return nil
	}
	l.seq, l.prev = env.Seq, env.Prev
	if contentOK {
		if canon, err := Canonical(json.RawMessage(r.Body)); err != nil || !bytes.Equal(canon, r.Body) {
			v.problem(r.Seq, ProblemEdited, "its body is not in canonical form, so it was not written by a gateway")
		} else if env.V != FormatVersion {
			v.problem(r.Seq, ProblemEdited, "unknown record format v%d", env.V)
		}
		v.checkColumns(r, env)
	}
	if env.Replica != v.replica {
		l.foreign = true
		v.problem(r.Seq, ProblemInserted, "it was sealed for replica %q", env.Replica)
	}
	v.links = append(v.links, l)
	return nil
}

// checkColumns compares the columns kept for filtering with the body.
func (v *chainCheck) checkColumns(r Record, env Envelope) {
	e := env.Event
	for _, c := range []struct{ name, col, body string }{
		{"type", r.Type, e.Type},
		{"session_id", r.SessionID, e.SessionID},
		{"subject", r.Subject, e.subject()},
	} {
		if c.col != c.body {
			v.problem(r.Seq, ProblemEdited, "column %s says %q, the sealed record %q", c.name, c.col, c.body)
		}
	}
	if !r.Time.Equal(e.Time) {
		v.problem(r.Seq, ProblemEdited, "column time says %s, the sealed record %s", r.Time.Format(time.RFC3339Nano), e.Time.Format(time.RFC3339Nano))
	}
}

// finish checks the chain as a whole: duplicates, order, gaps, links and
// checkpoints.
func (v *chainCheck) finish(cps []Checkpoint) ReplicaReport {
	rr := ReplicaReport{Replica: v.replica, Records: int64(len(v.links)), Checkpoints: len(cps)}
	var own []link
	for _, l := range v.links {
		if !l.foreign {
			own = append(own, l)
		}
	}
	cpHash := map[int64]string{}
	for _, c := range cps {
		cpHash[c.Seq] = c.Hash
	}
	chain := v.dedupe(own, cpHash)
	v.checkOrder(chain)

	sort.SliceStable(chain, func(i, j int) bool { return chain[i].seq < chain[j].seq })
	bySeq := make(map[int64]link, len(chain))
	var expect int64 = 1
	var prev *link
	for i := range chain {
		l := &chain[i]
		bySeq[l.seq] = *l
		switch {
		case l.seq > expect:
			if l.seq-1 == expect {
				v.problem(expect, ProblemDeleted, "seq %d is missing (the chain goes from %d to %d)", expect, expect-1, l.seq)
			} else {
				v.problem(expect, ProblemDeleted, "seqs %d to %d are missing (the chain goes from %d to %d)", expect, l.seq-1, expect-1, l.seq)
			}
		case l.noPrev:
		case l.seq == 1 && l.prev != "":
			v.problem(1, ProblemEdited, "the first record names a predecessor %.16s…", l.prev)
		case prev != nil && !prev.noPrev && l.prev != prev.hash:
			v.problem(prev.seq, ProblemRewritten, "seq %d was sealed after a record with hash %.16s…, this one has %.16s…: it was replaced", l.seq, l.prev, prev.hash)
		}
		expect, prev = l.seq+1, l
	}
	if prev != nil {
		rr.LastSeq, rr.LastHash = prev.seq, prev.hash
	}
	v.checkCheckpoints(cps, bySeq, &rr)
	rr.Unanchored = max(rr.LastSeq-rr.LastCheckpoint, 0)
	return rr
}

// dedupe keeps one record per sealed seq: the one its successor (or a
// checkpoint) was sealed over. The others were inserted.
func (v *chainCheck) dedupe(own []link, cpHash map[int64]string) []link {
	count := map[int64]int{}
	prevOf := map[int64][]string{} // seq → the prev hashes of records sealed at seq
	for _, l := range own {
		count[l.seq]++
		prevOf[l.seq] = append(prevOf[l.seq], l.prev)
	}
	chosen := map[int64]int{} // seq → index in own of the genuine record
	for i, l := range own {
		if count[l.seq] == 1 {
			chosen[l.seq] = i
			continue
		}
		if _, done := chosen[l.seq]; done {
			continue
		}
		pick := -1
		for j, m := range own {
			if m.seq != l.seq {
				continue
			}
			if h, ok := cpHash[m.seq]; ok && h == m.hash {
				pick = j
				break
			}
			for _, p := range prevOf[m.seq+1] {
				if p == m.hash {
					pick = j
				}
			}
			if pick >= 0 {
				break
			}
		}
		if pick < 0 {
			pick = i // nothing vouches for either: keep the first stored
		}
		chosen[l.seq] = pick
	}
	var out []link
	for i, l := range own {
		if chosen[l.seq] == i {
			out = append(out, l)
			continue
		}
		v.problem(l.pos, ProblemInserted, "a second record claims seq %d; the chain continues from the other one", l.seq)
	}
	return out
}

// checkOrder reports records stored after records sealed later.
func (v *chainCheck) checkOrder(chain []link) {
	var highest int64
	var highestPos int64
	for _, l := range chain {
		if l.seq < highest {
			v.problem(l.seq, ProblemReordered, "record %d is stored at position %d, after record %d (at position %d)", l.seq, l.pos, highest, highestPos)
			continue
		}
		highest, highestPos = l.seq, l.pos
	}
}

// checkCheckpoints compares the checkpoints with the chain and checks their
// signatures.
func (v *chainCheck) checkCheckpoints(cps []Checkpoint, bySeq map[int64]link, rr *ReplicaReport) {
	truncated := false
	for _, c := range cps {
		switch err := c.checkSignature(v.opts.PublicKeys); {
		case errors.Is(err, errUnsigned):
			if v.opts.RequireSigned {
				v.problem(c.Seq, ProblemCheckpoint, "the checkpoint is not signed")
				continue
			}
		case err != nil:
			v.problem(c.Seq, ProblemCheckpoint, "%v", err)
			continue
		default:
			rr.SignedCheckpoints++
		}
		if c.Seq > rr.LastSeq {
			if !truncated {
				gone := fmt.Sprintf("records %d to %d were removed", rr.LastSeq+1, c.Seq)
				if c.Seq == rr.LastSeq+1 {
					gone = fmt.Sprintf("record %d was removed", c.Seq)
				}
				v.problem(rr.LastSeq+1, ProblemTruncated, "a checkpoint made %s names seq %d, but the chain ends at %d: %s",
					c.Time.Format(time.RFC3339), c.Seq, rr.LastSeq, gone)
				truncated = true
			}
			continue
		}
		l, ok := bySeq[c.Seq]
		if !ok {
			continue // reported as deleted
		}
		if l.hash != c.Hash {
			v.problem(c.Seq, ProblemRewritten, "the record differs from the checkpoint made %s (hash %.16s…, checkpoint %.16s…): records after seq %d up to here were rewritten",
				c.Time.Format(time.RFC3339), l.hash, c.Hash, rr.LastCheckpoint)
			continue
		}
		rr.LastCheckpoint = c.Seq
	}
}
