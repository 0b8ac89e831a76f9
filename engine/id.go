package engine

import "crypto/rand"

// newID returns a random decision ID: 26 base32 characters, 130 bits.
func newID() string { return rand.Text() }

// id makes a decision ID, also on a zero Engine.
func (e *Engine) id() string {
	if e.opts.NewID != nil {
		return e.opts.NewID()
	}
	return newID()
}
