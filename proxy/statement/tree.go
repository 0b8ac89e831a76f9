package statement

import "context"

// readTree is the syntax-tree reading of a statement: it fills lineage and
// returns the reasons the tree reading fails or disagrees with the
// classifier.
func readTree(ctx context.Context, st *Statement, r *reading, toks []Token, env Env) []string {
	return []string{"syntax tree reading not implemented yet"}
}
