#!/usr/bin/env node
// Turns snarkjs's proof.json + public.json into the words ZkPool.fulfill takes:
//
//   proof[0..8] = [ pi_a[0],    pi_a[1],                       // A = (x, y)
//                   pi_b[0][1], pi_b[0][0],                    // B.x = x1 ‖ x0  (limbs swapped)
//                   pi_b[1][1], pi_b[1][0],                    // B.y = y1 ‖ y0  (limbs swapped)
//                   pi_c[0],    pi_c[1] ]                      // C = (x, y)
//
// snarkjs writes an Fq2 element as [c0, c1] (real part first), while the EIP-197 pairing
// precompile that the exported verifier calls wants c1 first: that is the swap
// `snarkjs zkey export soliditycalldata` does too. The projective "1" coordinates are dropped.
// The Rust node must produce exactly these words.
//
// Usage: proof-words.js proof.json public.json > multiplier_proof.json
'use strict';

const fs = require('fs');

const [proofPath, publicPath] = process.argv.slice(2);
if (!proofPath || !publicPath) {
    process.stderr.write('usage: proof-words.js proof.json public.json\n');
    process.exit(2);
}
const proof = JSON.parse(fs.readFileSync(proofPath, 'utf8'));
const publicSignals = JSON.parse(fs.readFileSync(publicPath, 'utf8'));

// 0x-hex strings: forge's vm.parseJson reads them as uint256 without precision loss.
const hex = (decimal) => '0x' + BigInt(decimal).toString(16).padStart(64, '0');

const words = [
    proof.pi_a[0], proof.pi_a[1],
    proof.pi_b[0][1], proof.pi_b[0][0],
    proof.pi_b[1][1], proof.pi_b[1][0],
    proof.pi_c[0], proof.pi_c[1],
];

const fixture = {
    // forge's vm.parseJson decodes object keys in alphabetical order, so tests read each field by
    // its own key rather than decoding the whole object into a struct.
    proof: words.map(hex),
    publicSignals: publicSignals.map(hex),
    snarkjs: { proof, publicSignals },
};
process.stdout.write(JSON.stringify(fixture, null, 2) + '\n');
