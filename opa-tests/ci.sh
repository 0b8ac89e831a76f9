#!/bin/sh
# The policy checks CI runs, from the repository root or anywhere:
#   1. the Rego tests with the stock opa binary (install it with
#      `go install github.com/open-policy-agent/opa@v1.22.3`);
#   2. the fixtures must be in step with the analyser, every test must pass
#      and the tests must reach at least 90% of the lines of rego/ (test
#      files excluded), through OPA's own tester.
set -eu
cd "$(dirname "$0")/.."
OPA=${OPA:-opa}
"$OPA" test rego opa-tests
go run ./cmd/snowgate policy test --no-regenerate --threshold 90 rego opa-tests
