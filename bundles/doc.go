// Package bundles builds, signs, verifies, inspects and distributes snowgate's
// policy bundles, and keeps the gateway's engine on the newest trusted one.
//
// A bundle is OPA's standard bundle: a gzipped tarball holding the Rego
// modules, data.json and a .manifest (revision and roots), signed in OPA's
// format (.signatures.json: one JWT over the files' SHA-256 digests, RS256 or
// ES256, with a key id and an optional scope). The format work is done by
// OPA's own github.com/open-policy-agent/opa/v1/bundle package, so bundles
// move freely between snowgate and the stock opa CLI (`opa build
// --signing-key`, `opa run --verification-key`) in both directions.
//
// Bundles are distributed through OCI registries (oras-go, with the media
// types OPA's OCI downloader expects) or plain HTTP bundle servers (ETag and
// If-None-Match). A Poller fetches the configured Source, verifies each new
// bundle against the configured public keys, activates it in the engine,
// keeps the last good revision when a download or verification fails,
// persists trusted bundles so a restart works while the registry is down, and
// can be pinned to a revision or rolled back.
//
// The registry tests need a distribution registry binary and the opa CLI:
//
//	SNOWGATE_REGISTRY=/usr/bin/docker-registry SNOWGATE_OPA=$PWD/.cache/bin/opa go test ./bundles
//
// The push-to-enforcement latency is measured by
//
//	SNOWGATE_REGISTRY=/usr/bin/docker-registry go test ./bundles -run '^$' -bench BenchmarkPushToEnforcement
package bundles
