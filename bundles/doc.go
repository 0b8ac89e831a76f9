// Package bundles builds, signs, verifies, inspects and distributes snowgate's
// policy bundles, and keeps the gateway's engine on the newest trusted one.
//
// A bundle is OPA's standard bundle: a gzipped tarball holding the Rego
// modules, data.json and a .manifest (revision and roots), signed in OPA's
// format (.signatures.json: one JWT over the files' SHA-256 digests, RS256 or
// ES256 and their relatives, with a key id and an optional scope). The
// format work is done by OPA's own github.com/open-policy-agent/opa/v1/bundle
// package, so bundles move freely between snowgate and the stock opa CLI
// (`opa build --signing-key`, `opa run --verification-key`) both ways.
//
// Bundles are distributed through OCI registries (OCI, with oras-go and the
// media types OPA's OCI downloader expects: an image manifest whose single
// layer, application/vnd.oci.image.layer.v1.tar+gzip, is the tarball) or
// plain HTTP bundle servers (HTTP: ETag and If-None-Match, optional long
// polling). A Poller fetches its Source, verifies each new bundle against
// the configured public keys, activates it in the engine, keeps the last
// good revision when a download, verification or activation fails, persists
// trusted bundles (re-verified when loaded) so that a restart works while
// the registry is down, reports its Status, and can be pinned to a revision
// or digest and rolled back. New builds a Poller from the gateway's config.
//
// The tests run a real distribution registry and the stock opa CLI; both
// are required:
//
//	SNOWGATE_REGISTRY=/usr/bin/docker-registry SNOWGATE_OPA=$PWD/.cache/bin/opa go test ./bundles
//
// The push-to-enforcement latency (push a signed revision, three replicas
// download, verify and activate it) is logged by TestPushToEnforcement and
// measured by
//
//	SNOWGATE_REGISTRY=/usr/bin/docker-registry go test ./bundles -run '^$' -bench BenchmarkPushToEnforcement
package bundles
