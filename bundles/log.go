package bundles

// Log keys, defined once so every message names things the same way.
const (
	logRevision = "revision"
	logPrevious = "previous"
	logDigest   = "digest"
	logVersion  = "version"
	logSource   = "source"
	logPin      = "pin"
	logError    = "error"
	logElapsed  = "elapsed"
)
