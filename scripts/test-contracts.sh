#!/usr/bin/env bash
# Builds the pool contract (contracts/), checks that the committed JSON artifacts the Rust side
# embeds (contracts/artifacts/) are exactly what a fresh build gives, runs the forge tests, then
# prints the gas numbers: the measured scenarios of test/Gas.t.sol and forge's per-function gas
# report.
#
# Needs only `npm ci` at the repository root: forge, solc (solcjs behind contracts/solc),
# OpenZeppelin and forge-std all come from node_modules, and nothing is fetched at test time.
# Exits non-zero when the build, the artifact check or any test fails.
set -euo pipefail

cd "$(dirname "$0")/.."
FORGE=$PWD/node_modules/.bin/forge
if [[ ! -x $FORGE || ! -d node_modules/solc ]]; then
    echo "node_modules/.bin/forge or node_modules/solc missing: run 'npm ci' at the repository root" >&2
    exit 1
fi

cd contracts
"$FORGE" fmt --check
"$FORGE" build

# The artifacts cannot go stale: rebuild them from scratch into a temporary directory and
# compare byte for byte with the committed ones (missing or extra files count too).
FRESH=$(mktemp -d)
trap 'rm -rf "$FRESH"' EXIT
bash scripts/export-artifacts.sh "$FRESH"
if ! diff -r --brief artifacts "$FRESH"; then
    echo "contracts/artifacts differ from a fresh build: run 'bash contracts/scripts/export-artifacts.sh' and commit the result" >&2
    exit 1
fi
echo "contracts/artifacts match a fresh build"
"$FORGE" test --no-match-contract GasTest
# The gas scenarios alone, so fuzz and invariant runs do not skew the report's averages;
# -vv prints each scenario's measured numbers (see test/Gas.t.sol for what they include).
"$FORGE" test --match-contract GasTest --gas-report -vv
