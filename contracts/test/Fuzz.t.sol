// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZkPool} from "../src/ZkPool.sol";
import {ZkPoolFixture} from "./utils/ZkPoolFixture.sol";

/// @notice Property tests over amounts, work vectors and times.
contract FuzzTest is ZkPoolFixture {
    /// @notice Every share is floor(provers' part · w_i / Σw), nothing is created or lost, and the
    /// pool's take exceeds its 20 % fee by less than one unit per prover (the remainders).
    function testFuzz_splitConservesAndRoundsDown(uint64 reward, uint256[] memory rawWork) public {
        uint256 n = bound(rawWork.length, 1, 8);
        address[] memory provers = new address[](n);
        uint256[] memory work = new uint256[](n);
        uint256 totalWork;
        for (uint256 i; i < n; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) i < 8
            provers[i] = address(uint160(0x1000 + i));
            work[i] = bound(i < rawWork.length ? rawWork[i] : i, 1, type(uint128).max);
            totalWork += work[i];
        }
        token.mint(payer, reward);
        ZkPool.Quote memory q = makeQuote();
        q.reward = reward;
        bytes32 taskId = submit(q);
        zk.fulfill(taskId, dummyProof(), defaultSignals(), provers, work);

        uint256 proversPart = uint256(reward) * 8000 / 10_000;
        uint256 credited;
        for (uint256 i; i < n; ++i) {
            uint256 expected = proversPart * work[i] / totalWork;
            assertEq(zk.balanceOf(provers[i]), expected);
            credited += expected;
        }
        uint256 poolShare = zk.balanceOf(address(this));
        assertEq(credited + poolShare, reward);
        assertGe(poolShare, reward - proversPart);
        assertLt(poolShare - (reward - proversPart), n + 1);
        assertEq(token.balanceOf(address(zk)), STAKE + reward);
    }

    /// @notice submitTask accepts exactly when now < expiresAt and now < deadline (both ms).
    function testFuzz_submitTimes(uint64 expiresAtMs, uint64 deadlineMs, uint32 warpTo) public {
        expiresAtMs = uint64(bound(expiresAtMs, 1, 4_000_000_000_000));
        deadlineMs = uint64(bound(deadlineMs, 1, 4_000_000_000_000));
        uint256 t = bound(warpTo, 1, 4_000_000_000);
        ZkPool.Quote memory q = makeQuote();
        q.expiresAtMs = expiresAtMs;
        q.deadlineMs = deadlineMs;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.warp(t);
        uint256 nowMs_ = t * 1000;

        vm.prank(payer);
        if (nowMs_ >= expiresAtMs) {
            vm.expectRevert(abi.encodeWithSelector(ZkPool.QuoteExpired.selector, expiresAtMs, nowMs_));
        } else if (nowMs_ >= deadlineMs) {
            vm.expectRevert(abi.encodeWithSelector(ZkPool.DeadlinePassed.selector, deadlineMs, nowMs_));
        }
        zk.submitTask(q, sig);
    }

    /// @notice At any time after submission exactly one of fulfil and claim is possible, by the
    /// off-chain ledger's rule in milliseconds: fulfil while now·1000 < deadlineMs, claim from
    /// now·1000 ≥ deadlineMs on. The stored seconds are ceil(deadlineMs / 1000).
    function testFuzz_windowSplitsFulfilFromClaim(uint64 windowMs, uint64 elapsedSec) public {
        windowMs = uint64(bound(windowMs, 1, 30 days * 1000));
        elapsedSec = uint64(bound(elapsedSec, 0, 31 days));
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() + windowMs;
        bytes32 taskId = submit(q);
        assertEq(zk.task(taskId).deadlineSec, ceilSec(q.deadlineMs));
        vm.warp(block.timestamp + elapsedSec);
        checkExactlyOne(taskId, block.timestamp * 1000 < q.deadlineMs);
    }

    /// @notice The same split at the seconds around the deadline, where the rounding matters:
    /// every run lands within two seconds of ceil(deadlineMs / 1000), whole second or not.
    function testFuzz_windowBoundarySeconds(uint64 windowMs, uint8 offset) public {
        windowMs = uint64(bound(windowMs, 1, 3 days * 1000));
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() + windowMs;
        bytes32 taskId = submit(q);
        // ceil - 2 … ceil + 2, never before the submitting block.
        uint256 t = ceilSec(q.deadlineMs) + bound(offset, 0, 4);
        t = t < block.timestamp + 2 ? block.timestamp : t - 2;
        vm.warp(t);
        checkExactlyOne(taskId, t * 1000 < q.deadlineMs);
    }

    /// @dev Fulfil succeeds exactly when `inside`, claim exactly when not (each tried on its own).
    function checkExactlyOne(bytes32 taskId, bool inside) internal {
        uint256 snap = vm.snapshotState();
        if (!inside) vm.expectPartialRevert(ZkPool.WindowClosed.selector);
        fulfillDefault(taskId);

        vm.revertToState(snap);
        vm.prank(payer);
        if (inside) vm.expectPartialRevert(ZkPool.WindowStillOpen.selector);
        zk.claim(taskId);
    }

    /// @notice A bond is accepted exactly when free stake covers it, and moves stake 1:1.
    function testFuzz_bondAgainstFreeStake(uint64 extraStake, uint64 bond, uint64 unstake) public {
        token.mint(address(this), extraStake);
        if (extraStake > 0) zk.stake(extraStake);
        uint256 free = STAKE + extraStake;
        uint256 out = bound(unstake, 0, free);
        if (out > 0) zk.requestUnstake(out);
        free -= out;

        ZkPool.Quote memory q = makeQuote();
        q.bond = bond;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        if (bond > free) {
            vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientStake.selector, free, uint256(bond)));
            zk.submitTask(q, sig);
            assertEq(zk.freeStake(), free);
        } else {
            zk.submitTask(q, sig);
            assertEq(zk.freeStake(), free - bond);
        }
        assertEq(zk.pendingUnstake(), out);
    }

    /// @notice Unstaked funds leave exactly after the delay, and all of them.
    function testFuzz_unstakeDelay(uint256 amount, uint256 waitSec) public {
        amount = bound(amount, 1, STAKE);
        waitSec = bound(waitSec, 0, 2 * UNSTAKE_DELAY);
        zk.requestUnstake(amount);
        vm.warp(block.timestamp + waitSec);
        uint256 before = token.balanceOf(address(this));
        if (waitSec < UNSTAKE_DELAY) vm.expectPartialRevert(ZkPool.UnstakeLocked.selector);
        zk.completeUnstake();
        if (waitSec >= UNSTAKE_DELAY) assertEq(token.balanceOf(address(this)), before + amount);
    }

    /// @notice Partial withdrawals never release more than was credited.
    function testFuzz_withdrawPartial(uint64 reward, uint256 first, uint256 second) public {
        token.mint(payer, reward);
        ZkPool.Quote memory q = makeQuote();
        q.reward = reward;
        bytes32 taskId = submit(q);
        fulfillDefault(taskId);
        uint256 credit = zk.balanceOf(prover1);
        vm.assume(credit > 0);
        first = bound(first, 1, credit);
        second = bound(second, 1, type(uint128).max);
        vm.startPrank(prover1);
        zk.withdraw(first);
        if (second > credit - first) {
            vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientBalance.selector, credit - first, second));
        }
        zk.withdraw(second);
        vm.stopPrank();
        assertLe(token.balanceOf(prover1), credit);
        assertEq(token.balanceOf(prover1) + zk.balanceOf(prover1), credit);
    }
}
