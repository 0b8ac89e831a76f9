package bundles

import "context"

// Source is where a Poller gets bundles: an OCI registry (OCI) or an HTTP
// bundle server (HTTP). Sources only download; the Poller verifies.
type Source interface {
	// Fetch downloads the bundle the source currently offers. version is
	// the Download.Version of the bundle the caller already holds ("" for
	// none); when the source can tell that nothing changed it returns
	// ErrNotModified instead of downloading again.
	Fetch(ctx context.Context, version string) (*Download, error)
	// String names the source in logs and status: a reference or URL,
	// never a credential.
	String() string
}

// Download is one bundle tarball as a Source delivered it.
type Download struct {
	// Raw is the gzipped tarball.
	Raw []byte
	// Version identifies what was downloaded for the next Fetch: the OCI
	// manifest digest, or the HTTP ETag (or the tarball digest when the
	// server sends none).
	Version string
}
