package bundles

import "errors"

// Sentinel errors; compare with errors.Is.
var (
	// ErrNotModified is returned by a Source when the bundle it would
	// download is the one the caller already has.
	ErrNotModified = errors.New("bundle not modified")
	// ErrUnverified wraps every signature or integrity failure: a missing
	// .signatures.json, an unknown key, a bad signature, a scope mismatch, a
	// file whose digest does not match or that the signature does not cover.
	ErrUnverified = errors.New("bundle signature verification failed")
	// ErrNoKeys is returned when verification is required but no public key
	// is configured.
	ErrNoKeys = errors.New("no verification keys configured")
	// ErrPinned is returned when a bundle's revision differs from the
	// revision the poller is pinned to.
	ErrPinned = errors.New("bundle revision does not match the pinned revision")
	// ErrTooLarge is returned when a download exceeds the size limit.
	ErrTooLarge = errors.New("bundle exceeds the size limit")
)
