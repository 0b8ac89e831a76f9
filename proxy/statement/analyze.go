package statement

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Catalog answers which columns a table has, for expanding '*'. The gateway
// backs it with the upstream's INFORMATION_SCHEMA, cached. Names are passed
// and returned as Snowflake stores them (unquoted names upper case).
type Catalog interface {
	Columns(ctx context.Context, database, schema, table string) ([]string, error)
}

// Env is the session context names are resolved against.
type Env struct {
	Database string // current database, e.g. "ANALYTICS"
	Schema   string // current schema, e.g. "PUBLIC"
	// Catalog expands '*'. When nil, outputs of '*' over tables are untraced,
	// never guessed.
	Catalog Catalog
	// FoldQuoted resolves names as an upstream that ignores case even for
	// quoted identifiers (the DuckDB stand-in, or Snowflake with
	// QUOTED_IDENTIFIERS_IGNORE_CASE): "customers" then names CUSTOMERS.
	FoldQuoted bool
	// Results answers what earlier statements of the session returned, so
	// that RESULT_SCAN of one inherits its lineage. When nil, or when it
	// does not know the statement, RESULT_SCAN's columns are untraced.
	Results ResultLineage
}

// internalError prefixes the Parse.Error of a statement whose analysis hit
// a bug; the statement is then unknown.
const internalError = "internal error in statement analysis"

// MaxStatementBytes bounds the size of a request Analyze reads.
const MaxStatementBytes = 1 << 20

// ErrTooLarge is returned for requests above MaxStatementBytes.
var ErrTooLarge = errors.New("statement: request too large to analyse")

// Analyze splits a request and analyses each statement. It fails only when
// the request cannot be split (an unterminated string, quoted identifier or
// comment) or is too large; SQL it does not understand comes back as
// statements with Kind unknown or Parse.Complete false and an Error.
func Analyze(ctx context.Context, sql string, env Env) ([]Statement, error) {
	if len(sql) > MaxStatementBytes {
		return nil, fmt.Errorf("analyze %d bytes: %w", len(sql), ErrTooLarge)
	}
	pieces, err := splitPieces(sql)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if env.FoldQuoted {
		env.Database, env.Schema = strings.ToUpper(env.Database), strings.ToUpper(env.Schema)
		for _, p := range pieces {
			for i := range p.toks {
				if p.toks[i].Kind == TokQuotedIdent {
					p.toks[i].Value = strings.ToUpper(p.toks[i].Value)
				}
			}
		}
	}
	out := make([]Statement, 0, len(pieces))
	for i, p := range pieces {
		st := analyzeOne(ctx, sql, p, env)
		st.Index, st.Count = i, len(pieces)
		out = append(out, st)
	}
	return out, nil
}

// analyzeOne reads one statement: the classifier, then the syntax tree,
// then the cross-check between them.
func analyzeOne(ctx context.Context, sql string, p piece, env Env) (st Statement) {
	toks, text := p.toks, sql[p.start:p.end]
	defer func() {
		// Fail closed: a bug in the analysis must not crash the gateway nor
		// let the statement through.
		if r := recover(); r != nil {
			st = Statement{SQL: text, Fingerprint: fingerprint(toks), Kind: KindUnknown, Category: CategoryUnknown,
				Parse:   Parse{Error: fmt.Sprintf("%s: %v", internalError, r)},
				Objects: []Object{}, Functions: []string{}, Outputs: []Output{}, Effects: []Effect{}, Derived: []Derivation{},
				Columns: Columns{Read: []Column{}, Written: []Column{}, Filtered: []Column{}, Grouped: []Column{}}}
		}
	}()
	r := classify(toks, sql, env, 0)
	st = Statement{
		SQL:         text,
		Fingerprint: fingerprint(toks),
		Kind:        r.kind,
		Category:    r.category,
		Objects:     r.objects,
		Functions:   r.functions,
		Flags:       r.flags,
		Columns:     Columns{Read: []Column{}, Written: append([]Column{}, r.written.list...), Filtered: []Column{}, Grouped: []Column{}},
		Outputs:     []Output{},
		Where:       Where{Present: r.where, AlwaysTrue: r.whereTrue},
		Effects:     append([]Effect{}, r.effects...),
	}
	if st.Objects == nil {
		st.Objects = []Object{}
	}
	if st.Functions == nil {
		st.Functions = []string{}
	}
	problems := r.problems
	st.Derived = derivations(ctx, toks, r, env)
	problems = append(problems, readTree(ctx, &st, r, env)...)
	for _, o := range st.Objects {
		// Snowflake's own usage and history views (ACCOUNT_USAGE.QUERY_HISTORY,
		// ACCESS_HISTORY, ...) hold other statements' text with its literals.
		if o.Database == "SNOWFLAKE" && (o.Type == "table" || o.Type == "view") && o.Access == AccessRead {
			st.Flags.UntracedSource = true
		}
	}
	for i := range st.ResultScans { // offsets into the statement's own text
		s := &st.ResultScans[i]
		if s.src == sql && s.Start >= p.start && s.End <= p.end && s.Start < s.End {
			s.Start, s.End = s.Start-p.start, s.End-p.start
		} else {
			s.Start, s.End = -1, -1
		}
		s.src = ""
	}
	st.Parse.Complete = len(problems) == 0 && st.Kind != KindUnknown
	if len(problems) > 0 {
		st.Parse.Error = strings.Join(dedupe(problems), "; ")
	}
	st.Estimate = estimateOf(&st, r, toks, sql)
	return st
}

func dedupe(s []string) []string {
	out := s[:0:0]
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
