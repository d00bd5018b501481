#!/usr/bin/env bash
# Regenerates the multiplier's Solidity verifier and the real proof the forge tests submit.
#
#   fixtures/multiplier/multiplier.zkey ──snarkjs zkey export solidityverifier──► src/verifiers/MultiplierVerifier.sol
#   multiplier.zkey + multiplier.wtns ──snarkjs groth16 prove──► proof.json, public.json
#   proof.json + public.json ──proof-words.js──► test/fixtures/multiplier_proof.json
#
# Needs `npm ci` at the repository root. Groth16 proving is randomised (r, s), so every run gives
# a different, equally valid proof: commit the outputs after regenerating. The verifier only
# changes when the zkey does (scripts/build-fixtures.sh).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
SNARKJS=$ROOT/node_modules/.bin/snarkjs
if [[ ! -x $SNARKJS ]]; then
    echo "node_modules/.bin/snarkjs missing: run 'npm ci' at the repository root" >&2
    exit 1
fi

FIX=$ROOT/fixtures/multiplier
OUT=$ROOT/contracts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$SNARKJS" zkey export solidityverifier "$FIX/multiplier.zkey" "$tmp/verifier.sol"
# snarkjs names every verifier `Groth16Verifier`; a per-circuit name lets several coexist.
sed 's/contract Groth16Verifier/contract MultiplierVerifier/' "$tmp/verifier.sol" \
    > "$OUT/src/verifiers/MultiplierVerifier.sol"

"$SNARKJS" groth16 prove "$FIX/multiplier.zkey" "$FIX/multiplier.wtns" "$tmp/proof.json" "$tmp/public.json"
# The fixture must be one that snarkjs itself accepts, so a bad export fails here, not in forge.
"$SNARKJS" groth16 verify "$FIX/verification_key.json" "$tmp/public.json" "$tmp/proof.json"

node "$OUT/scripts/proof-words.js" "$tmp/proof.json" "$tmp/public.json" \
    > "$OUT/test/fixtures/multiplier_proof.json"
echo "wrote contracts/src/verifiers/MultiplierVerifier.sol and contracts/test/fixtures/multiplier_proof.json"
