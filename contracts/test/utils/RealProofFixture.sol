// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MultiplierVerifier} from "../../src/verifiers/MultiplierVerifier.sol";
import {ZkPoolFixture} from "./ZkPoolFixture.sol";

/// @notice The fixture plus the exported multiplier verifier and a real proof of it
/// (test/fixtures/multiplier_proof.json, written by scripts/export-verifier.sh).
abstract contract RealProofFixture is ZkPoolFixture {
    MultiplierVerifier internal multiplier;
    uint256[8] internal realProof;
    uint256[] internal realSignals;

    function setUp() public virtual override {
        super.setUp();
        multiplier = new MultiplierVerifier();
        string memory json = vm.readFile("test/fixtures/multiplier_proof.json");
        uint256[] memory words = vm.parseJsonUintArray(json, ".proof");
        assertEq(words.length, 8);
        for (uint256 i; i < 8; ++i) {
            realProof[i] = words[i];
        }
        realSignals = vm.parseJsonUintArray(json, ".publicSignals");
    }
}
