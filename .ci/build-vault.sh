#!/usr/bin/env bash
# Builds HashiCorp Vault (the version pinned in .ci/vault/go.mod) into a cache
# outside the repository and prints the binary's path on stdout. A binary
# already in the cache is reused. Tests find it through SNOWGATE_VAULT:
#
#   export SNOWGATE_VAULT=$(.ci/build-vault.sh)
#
# A cold build downloads ~4.4 GB of modules and takes ~8 minutes on 2 cores.
set -euo pipefail

version=1.21.0
cache=${SNOWGATE_VAULT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snowgate/vault-$version}
bin=$cache/vault

if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
	echo "$bin"
	exit 0
fi

src=$(cd "$(dirname "$0")/vault" && pwd)
mkdir -p "$cache"
tmp=$(mktemp "$cache/vault.XXXXXX")
trap 'rm -f "$tmp"' EXIT

echo "building vault $version into $cache (cold: ~8 min, ~4.4 GB of modules)" >&2
(
	cd "$src"
	GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
		nice -n 10 go build -trimpath -o "$tmp" .
)
"$tmp" version >&2
mv "$tmp" "$bin"
trap - EXIT
echo "$bin"
