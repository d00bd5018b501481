#!/usr/bin/env bash
# Writes the JSON artifacts the Rust side embeds with alloy's `sol!(Name, "Name.json")`:
# artifacts/ZkPool.json, artifacts/TestToken.json and artifacts/MultiplierVerifier.json, each
# forge's own output (out/<File>.sol/<Name>.json) trimmed to
#   {"abi": [...], "bytecode": {"object": "0x..."}, "deployedBytecode": {"object": "0x..."}}
#
# The build is a fresh one of src/ alone, in a temporary directory (empty cache, nothing from
# contracts/out), so what is written is what any machine with the same `npm ci` gets: the
# bytecode carries no metadata hash (bytecode_hash = "none" in foundry.toml).
#
#   bash contracts/scripts/export-artifacts.sh          # rewrite contracts/artifacts, then commit
#   bash contracts/scripts/export-artifacts.sh DIR      # write to DIR instead (the freshness check
#                                                       # in scripts/test-contracts.sh does this)
#
# Needs only `npm ci` at the repository root (forge and solcjs come from node_modules).
set -euo pipefail

cd "$(dirname "$0")/.."
CONTRACTS=$PWD
FORGE=$CONTRACTS/../node_modules/.bin/forge
DEST=${1:-$CONTRACTS/artifacts}

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
"$FORGE" build --quiet --out "$BUILD/out" --cache-path "$BUILD/cache" src

mkdir -p "$DEST"
node - "$BUILD/out" "$DEST" <<'JS'
'use strict';
const fs = require('fs');
const path = require('path');
const [outDir, dest] = process.argv.slice(2);

// Contract name → its source file's name, as forge lays out out/.
const contracts = {
    ZkPool: 'ZkPool.sol',
    TestToken: 'TestToken.sol',
    MultiplierVerifier: 'MultiplierVerifier.sol',
};

for (const [name, file] of Object.entries(contracts)) {
    const artifact = JSON.parse(fs.readFileSync(path.join(outDir, file, name + '.json'), 'utf8'));
    for (const key of ['bytecode', 'deployedBytecode']) {
        const code = artifact[key];
        if (!code || typeof code.object !== 'string' || !/^0x([0-9a-f]{2})+$/.test(code.object)) {
            throw new Error(`${name}: ${key}.object is not 0x-prefixed hex`);
        }
        // Unlinked library references would leave __$…$__ placeholders in the hex.
        if (Object.keys(code.linkReferences || {}).length !== 0) {
            throw new Error(`${name}: ${key} has library link references`);
        }
    }
    const trimmed = {
        abi: artifact.abi,
        bytecode: { object: artifact.bytecode.object },
        deployedBytecode: { object: artifact.deployedBytecode.object },
    };
    fs.writeFileSync(path.join(dest, name + '.json'), JSON.stringify(trimmed, null, 2) + '\n');
}
JS
