#!/usr/bin/env bash
# Regenerates the Groth16 fixtures under fixtures/ from the circuits in fixtures/circuits/.
#
#   scripts/build-fixtures.sh [NAME...]    # default: every circuit below
#
#   fixtures/circuits/<name>.circom ──circom2──► <name>.r1cs, <name>.wasm
#   input.json ──snarkjs wtns calculate──► <name>.wtns
#   <name>.r1cs + powers of tau ──snarkjs groth16 setup + one contribution──► <name>.zkey
#   <name>.zkey ──snarkjs zkey export verificationkey──► verification_key.json
#
# Needs `npm ci` at the repository root first. The powers-of-tau file (2^13, ~10 MB) is cached
# in fixtures/.ptau/, which git ignores; delete it to run a fresh ceremony. Setups are
# randomised, so every run produces different zkeys: commit the outputs after regenerating.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/node_modules/.bin
if [[ ! -x $BIN/snarkjs || ! -x $BIN/circom2 ]]; then
    echo "node_modules/.bin/{snarkjs,circom2} missing: run 'npm ci' at the repository root" >&2
    exit 1
fi

# Inputs: public signals are the outputs then the public inputs, so public.json of
# multiplier is [c, a], of poseidon_chain [out, seed], and of iris_tree
# [class[16], feature[15], threshold[15], leaf[16], sample[16][4] row-major].
# iris_tree's input is the CART tree of depth 4 trained on Iris, as FullTree, with the first 16
# Iris samples in millimetres (crates/miden/src/tree.rs checks it:
# iris_tree_fixture_input_is_the_trained_tree).
declare -A INPUTS=(
    [multiplier]='{"a": "3", "k": [[2, "0x5"], ["7", 11]]}'
    [poseidon_chain]='{"seed": "12345", "secret": "67890"}'
    [iris_tree]='{
  "feature": [2, 0, 3, 0, 0, 2, 2, 0, 0, 0, 0, 3, 3, 0, 0],
  "threshold": [30, 0, 18, 0, 0, 50, 49, 0, 0, 0, 0, 17, 16, 60, 0],
  "leaf": [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 1, 1, 2, 2, 2],
  "sample": [
    [51, 35, 14, 2], [49, 30, 14, 2], [47, 32, 13, 2], [46, 31, 15, 2],
    [50, 36, 14, 2], [54, 39, 17, 4], [46, 34, 14, 3], [50, 34, 15, 2],
    [44, 29, 14, 2], [49, 31, 15, 1], [54, 37, 15, 2], [48, 34, 16, 2],
    [48, 30, 14, 1], [43, 30, 11, 1], [58, 40, 12, 2], [57, 44, 15, 4]
  ]
}'
)

NAMES=(multiplier poseidon_chain iris_tree)
if (($# > 0)); then
    NAMES=("$@")
fi
for name in "${NAMES[@]}"; do
    if [[ -z ${INPUTS[$name]+set} ]]; then
        echo "unknown circuit '$name': expected one of ${!INPUTS[*]}" >&2
        exit 1
    fi
done

POWER=13
PTAU_DIR=$ROOT/fixtures/.ptau
PTAU=$PTAU_DIR/pot${POWER}_final.ptau

if [[ ! -f $PTAU ]]; then
    mkdir -p "$PTAU_DIR"
    echo "== powers of tau 2^$POWER (takes minutes)"
    "$BIN/snarkjs" powersoftau new bn128 "$POWER" "$PTAU_DIR/pot_0000.ptau"
    "$BIN/snarkjs" powersoftau contribute "$PTAU_DIR/pot_0000.ptau" "$PTAU_DIR/pot_0001.ptau" \
        --name="zkpool fixtures" -e="zkpool fixtures entropy"
    "$BIN/snarkjs" powersoftau prepare phase2 "$PTAU_DIR/pot_0001.ptau" "$PTAU"
    rm -f "$PTAU_DIR/pot_0000.ptau" "$PTAU_DIR/pot_0001.ptau"
fi

for name in "${NAMES[@]}"; do
    echo "== $name"
    out=$ROOT/fixtures/$name
    tmp=$(mktemp -d)
    mkdir -p "$out"
    # --O2 folds linear constraints away, which keeps poseidon_chain inside a 2^13 domain.
    "$BIN/circom2" "fixtures/circuits/$name.circom" --O2 --r1cs --wasm -l node_modules -o "$tmp"
    cp "$tmp/$name.r1cs" "$out/$name.r1cs"
    cp "$tmp/${name}_js/$name.wasm" "$out/$name.wasm"
    echo "${INPUTS[$name]}" > "$out/input.json"
    "$BIN/snarkjs" wtns calculate "$out/$name.wasm" "$out/input.json" "$out/$name.wtns"
    "$BIN/snarkjs" groth16 setup "$out/$name.r1cs" "$PTAU" "$tmp/${name}_0000.zkey"
    "$BIN/snarkjs" zkey contribute "$tmp/${name}_0000.zkey" "$out/$name.zkey" \
        --name="zkpool fixtures" -e="zkpool $name entropy"
    "$BIN/snarkjs" zkey export verificationkey "$out/$name.zkey" "$out/verification_key.json"
    rm -rf "$tmp"
done

echo "fixtures written:"
du -ah "$ROOT/fixtures" | grep -v '\.ptau' | sort -k2
