// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZkPool} from "../src/ZkPool.sol";
import {RealProofFixture} from "./utils/RealProofFixture.sol";
import {
    GasBurningVerifier,
    RawReturnVerifier,
    RejectingVerifier,
    RevertingVerifier,
    ShapeCheckingVerifier
} from "./utils/MockVerifiers.sol";

/// @notice fulfill: the real Groth16 proof against the exported verifier, the reward split, and
/// every refusal.
contract FulfillTest is RealProofFixture {
    function submitWithVerifier(address verifier) internal returns (bytes32 taskId) {
        ZkPool.Quote memory q = makeQuote();
        q.verifier = verifier;
        taskId = submit(q);
    }

    function submitReal() internal returns (bytes32 taskId) {
        ZkPool.Quote memory q = makeQuote();
        q.verifier = address(multiplier);
        q.publicInputsHash = hashSignals(realSignals);
        taskId = submit(q);
    }

    // ───────────── the real proof ─────────────

    function test_realProof_fixtureIsTheMultipliersStatement() public view {
        // public.json as snarkjs writes it: outputs then public inputs, [c, a] with a = 3.
        assertEq(realSignals.length, 2);
        assertEq(realSignals[1], 3);
        assertTrue(
            multiplier.verifyProof(
                [realProof[0], realProof[1]],
                [[realProof[2], realProof[3]], [realProof[4], realProof[5]]],
                [realProof[6], realProof[7]],
                [realSignals[0], realSignals[1]]
            )
        );
    }

    function test_fulfill_realProofPaysAndReleasesBond() public {
        bytes32 taskId = submitReal();
        uint256 freeBefore = zk.freeStake();

        vm.expectEmit(address(zk));
        emit ZkPool.ProverCredited(taskId, prover1, 1, REWARD * 8 / 10);
        vm.expectEmit(address(zk));
        emit ZkPool.TaskFulfilled(taskId, REWARD * 8 / 10, REWARD * 2 / 10);
        zk.fulfill(taskId, realProof, realSignals, one(prover1), ones(1));

        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Fulfilled));
        assertEq(zk.freeStake(), freeBefore + BOND);
        assertEq(zk.balanceOf(prover1), 8e6);
        assertEq(zk.balanceOf(address(this)), 2e6);
        assertEq(token.balanceOf(address(zk)), STAKE + REWARD);
    }

    function test_fulfill_realVerifierRejectsTamperedProof() public {
        bytes32 taskId = submitReal();
        uint256[8] memory bad = realProof;
        bad[6] = realProof[0]; // C := A: a valid curve point, the wrong proof
        bad[7] = realProof[1];
        vm.expectRevert(abi.encodeWithSelector(ZkPool.ProofRejected.selector, taskId));
        zk.fulfill(taskId, bad, realSignals, one(prover1), ones(1));
    }

    function test_fulfill_realVerifierRejectsUnswappedB() public {
        // snarkjs's proof.json order for B (c0 before c1) is not the verifier's: the mapping matters.
        bytes32 taskId = submitReal();
        uint256[8] memory raw = realProof;
        (raw[2], raw[3]) = (realProof[3], realProof[2]);
        (raw[4], raw[5]) = (realProof[5], realProof[4]);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.ProofRejected.selector, taskId));
        zk.fulfill(taskId, raw, realSignals, one(prover1), ones(1));
    }

    function test_fulfill_refusesPublicInputsOtherThanQuoted() public {
        bytes32 taskId = submitReal();
        uint256[] memory other = new uint256[](2);
        other[0] = realSignals[0];
        other[1] = 4;
        vm.expectRevert(abi.encodeWithSelector(ZkPool.PublicInputsMismatch.selector, taskId));
        zk.fulfill(taskId, realProof, other, one(prover1), ones(1));
        // A prefix hashes differently too: the length is bound through the packed encoding.
        uint256[] memory prefix = new uint256[](1);
        prefix[0] = realSignals[0];
        vm.expectRevert(abi.encodeWithSelector(ZkPool.PublicInputsMismatch.selector, taskId));
        zk.fulfill(taskId, realProof, prefix, one(prover1), ones(1));
    }

    // ───────────── verifier answers ─────────────

    function test_fulfill_refusesWhenVerifierReturnsFalse() public {
        bytes32 taskId = submitWithVerifier(address(new RejectingVerifier()));
        vm.expectRevert(abi.encodeWithSelector(ZkPool.ProofRejected.selector, taskId));
        fulfillDefault(taskId);
        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Open));
    }

    function test_fulfill_refusesWhenVerifierReverts() public {
        bytes32 taskId = submitWithVerifier(address(new RevertingVerifier()));
        vm.expectRevert(abi.encodeWithSelector(ZkPool.VerifierReverted.selector, taskId));
        fulfillDefault(taskId);
    }

    function test_fulfill_refusesWhenVerifierRunsOutOfGas() public {
        bytes32 taskId = submitWithVerifier(address(new GasBurningVerifier()));
        vm.expectRevert(abi.encodeWithSelector(ZkPool.VerifierReverted.selector, taskId));
        zk.fulfill{gas: 2_000_000}(taskId, dummyProof(), defaultSignals(), one(prover1), ones(1));
    }

    function test_fulfill_refusesGarbageReturns() public {
        bytes[6] memory rets = [
            bytes(""), // nothing (as a contract without a matching function could answer)
            abi.encodePacked(uint248(1)), // 31 bytes
            abi.encodePacked(uint256(1), uint256(0)), // 64 bytes that start with "true"
            abi.encode(uint256(2)), // a word that is no bool
            abi.encode(type(uint256).max),
            abi.encodePacked(bytes32(uint256(1) << 255))
        ];
        for (uint256 i; i < rets.length; ++i) {
            bytes32 taskId = submitWithVerifier(address(new RawReturnVerifier(rets[i])));
            vm.expectRevert(abi.encodeWithSelector(ZkPool.VerifierBadReturn.selector, taskId));
            fulfillDefault(taskId);
        }
    }

    function test_fulfill_refusesVerifierWithoutCode() public {
        bytes32 taskId = submitWithVerifier(makeAddr("eoa"));
        vm.expectRevert(abi.encodeWithSelector(ZkPool.VerifierBadReturn.selector, taskId));
        fulfillDefault(taskId);
    }

    function test_fulfill_callsVerifierWithSelectorForItsSignalCount() public {
        uint256[] memory signals = new uint256[](3);
        (signals[0], signals[1], signals[2]) = (5, 6, 7);
        bytes4 sel = bytes4(keccak256("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[3])"));
        ZkPool.Quote memory q = makeQuote();
        q.verifier = address(new ShapeCheckingVerifier(sel, 3));
        q.publicInputsHash = hashSignals(signals);
        bytes32 taskId = submit(q);
        zk.fulfill(taskId, dummyProof(), signals, one(prover1), ones(1));
        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Fulfilled));
    }

    function test_fulfill_selectorForTwoSignalsIsTheExportedVerifiers() public view {
        assertEq(
            bytes4(keccak256("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])")),
            multiplier.verifyProof.selector
        );
    }

    // ───────────── who and when ─────────────

    function test_fulfill_refusesNonPool() public {
        (bytes32 taskId,) = submitDefault();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPool.selector, stranger));
        fulfillDefault(taskId);
    }

    function test_fulfill_acceptedInTheLastSecondBeforeTheDeadline() public {
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() + 5_999; // last accepted second: now + 5 (5,000 ms < 5,999 ms)
        bytes32 taskId = submit(q);
        vm.warp(block.timestamp + 5);
        fulfillDefault(taskId);
        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Fulfilled));
    }

    function test_fulfill_refusesAfterWindow() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        uint256 deadlineSec = ceilSec(q.deadlineMs);
        vm.warp(deadlineSec + 1);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WindowClosed.selector, taskId, deadlineSec, deadlineSec + 1));
        fulfillDefault(taskId);
    }

    function test_fulfill_refusesUnknownTask() public {
        bytes32 unknown = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, unknown, ZkPool.TaskStatus.None));
        fulfillDefault(unknown);
    }

    function test_fulfill_refusesSecondFulfil() public {
        (bytes32 taskId,) = submitDefault();
        fulfillDefault(taskId);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, taskId, ZkPool.TaskStatus.Fulfilled));
        fulfillDefault(taskId);
    }

    function test_fulfill_refusesAfterClaim() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        warpPastWindow(q);
        vm.prank(payer);
        zk.claim(taskId);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, taskId, ZkPool.TaskStatus.Claimed));
        fulfillDefault(taskId);
    }

    // ───────────── provers and work ─────────────

    function test_fulfill_refusesBadProverLists() public {
        (bytes32 taskId,) = submitDefault();
        uint256[8] memory p = dummyProof();
        uint256[] memory s = defaultSignals();

        vm.expectRevert(ZkPool.NoProvers.selector);
        zk.fulfill(taskId, p, s, new address[](0), new uint256[](0));

        vm.expectRevert(abi.encodeWithSelector(ZkPool.LengthMismatch.selector, 1, 2));
        zk.fulfill(taskId, p, s, one(prover1), ones(2));

        address[] memory two = new address[](2);
        (two[0], two[1]) = (prover1, prover2);
        uint256[] memory w = new uint256[](2);
        (w[0], w[1]) = (1, 0);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InvalidWork.selector, 1));
        zk.fulfill(taskId, p, s, two, w);

        (w[0], w[1]) = (uint256(type(uint128).max) + 1, 1);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InvalidWork.selector, 0));
        zk.fulfill(taskId, p, s, two, w);

        two[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.ZeroProver.selector, 1));
        zk.fulfill(taskId, p, s, two, ones(2));
    }

    function fulfillSplit(uint256 reward, address[] memory provers, uint256[] memory work)
        internal
        returns (bytes32 taskId)
    {
        ZkPool.Quote memory q = makeQuote();
        q.reward = reward;
        taskId = submit(q);
        zk.fulfill(taskId, dummyProof(), defaultSignals(), provers, work);
    }

    function test_split_equalWorkRemaindersGoToPool() public {
        address[] memory ps = new address[](3);
        (ps[0], ps[1], ps[2]) = (prover1, prover2, prover3);
        ZkPool.Quote memory q = makeQuote();
        q.reward = 1_000_003;
        bytes32 taskId = submit(q);
        // provers: 1_000_003 · 0.8 = 800_002.4 → 800_002; thirds 266_667.33 → 266_667 each
        // pool: 1_000_003 − 3 · 266_667 = 200_002 (fee 200_001 + remainder 1)
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(zk));
            emit ZkPool.ProverCredited(taskId, ps[i], 1, 266_667);
        }
        vm.expectEmit(address(zk));
        emit ZkPool.TaskFulfilled(taskId, 800_001, 200_002);
        zk.fulfill(taskId, dummyProof(), defaultSignals(), ps, ones(3));
        assertEq(zk.balanceOf(prover1), 266_667);
        assertEq(zk.balanceOf(prover2), 266_667);
        assertEq(zk.balanceOf(prover3), 266_667);
        assertEq(zk.balanceOf(address(this)), 200_002);
    }

    function test_split_weightedWork() public {
        address[] memory ps = new address[](2);
        (ps[0], ps[1]) = (prover1, prover2);
        uint256[] memory w = new uint256[](2);
        (w[0], w[1]) = (3, 7);
        // provers: 999 · 0.8 = 799.2 → 799; 799·3/10 = 239.7 → 239; 799·7/10 = 559.3 → 559
        // pool: 999 − 798 = 201
        fulfillSplit(999, ps, w);
        assertEq(zk.balanceOf(prover1), 239);
        assertEq(zk.balanceOf(prover2), 559);
        assertEq(zk.balanceOf(address(this)), 201);
    }

    function test_split_tinyRewardAllToPool() public {
        address[] memory ps = new address[](2);
        (ps[0], ps[1]) = (prover1, prover2);
        // provers: 1 · 0.8 → 0; nothing to split, the single unit goes to the pool.
        fulfillSplit(1, ps, ones(2));
        assertEq(zk.balanceOf(prover1), 0);
        assertEq(zk.balanceOf(prover2), 0);
        assertEq(zk.balanceOf(address(this)), 1);
    }

    function test_split_repeatedProverAccumulates() public {
        address[] memory ps = new address[](2);
        (ps[0], ps[1]) = (prover1, prover1);
        uint256[] memory w = new uint256[](2);
        (w[0], w[1]) = (1, 2);
        // provers: 100 · 0.8 = 80; 80/3 = 26, 160/3 = 53 → prover1 79, pool 21
        fulfillSplit(100, ps, w);
        assertEq(zk.balanceOf(prover1), 79);
        assertEq(zk.balanceOf(address(this)), 21);
    }

    function test_split_zeroReward() public {
        fulfillSplit(0, one(prover1), ones(1));
        assertEq(zk.balanceOf(prover1), 0);
        assertEq(zk.balanceOf(address(this)), 0);
    }
}
