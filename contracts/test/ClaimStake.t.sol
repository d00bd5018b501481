// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZkPool} from "../src/ZkPool.sol";
import {ZkPoolFixture} from "./utils/ZkPoolFixture.sol";

/// @notice claim, withdraw, and the pool's stake: every path and refusal.
contract ClaimStakeTest is ZkPoolFixture {
    // ───────────── claim ─────────────

    function test_claim_afterWindowRefundsRewardAndPaysBond() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        uint256 freeBefore = zk.freeStake();
        warpPastWindow(q);

        vm.expectEmit(address(zk));
        emit ZkPool.TaskClaimed(taskId, payer, REWARD, BOND);
        vm.prank(payer);
        zk.claim(taskId);

        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Claimed));
        assertEq(token.balanceOf(payer), PAYER_FUNDS + BOND);
        assertEq(token.balanceOf(address(zk)), STAKE - BOND);
        // The bond left the pool for good: it does not come back to free stake.
        assertEq(zk.freeStake(), freeBefore);
    }

    function test_claim_refusedWhileWindowOpen() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        uint256 deadlineSec = ceilSec(q.deadlineMs);
        // One second before the deadline the pool may still fulfil, so the payer may not claim.
        vm.warp(deadlineSec - 1);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WindowStillOpen.selector, taskId, deadlineSec, deadlineSec - 1));
        zk.claim(taskId);
    }

    function test_claim_refusedTwice() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        warpPastWindow(q);
        vm.prank(payer);
        zk.claim(taskId);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, taskId, ZkPool.TaskStatus.Claimed));
        zk.claim(taskId);
    }

    function test_claim_refusedForNonPayer() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        warpPastWindow(q);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPayer.selector, stranger, payer));
        zk.claim(taskId);
        // Not the pool either.
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPayer.selector, address(this), payer));
        zk.claim(taskId);
    }

    function test_claim_refusedAfterFulfil() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        fulfillDefault(taskId);
        warpPastWindow(q);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, taskId, ZkPool.TaskStatus.Fulfilled));
        zk.claim(taskId);
    }

    function test_claim_refusedForUnknownTask() public {
        bytes32 unknown = keccak256("nope");
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.TaskNotOpen.selector, unknown, ZkPool.TaskStatus.None));
        zk.claim(unknown);
    }

    // ───────────── withdraw ─────────────

    function test_withdraw_allThenPartialForProversAndPool() public {
        (bytes32 taskId,) = submitDefault();
        fulfillDefault(taskId);
        assertEq(zk.balanceOf(prover1), 8e6);

        vm.expectEmit(address(zk));
        emit ZkPool.Withdrawn(prover1, 3e6);
        vm.prank(prover1);
        zk.withdraw(3e6);
        assertEq(zk.balanceOf(prover1), 5e6);
        assertEq(token.balanceOf(prover1), 3e6);

        vm.prank(prover1);
        zk.withdraw();
        assertEq(zk.balanceOf(prover1), 0);
        assertEq(token.balanceOf(prover1), 8e6);

        uint256 poolTokens = token.balanceOf(address(this));
        zk.withdraw();
        assertEq(token.balanceOf(address(this)), poolTokens + 2e6);
        // Stake and nothing else is left.
        assertEq(token.balanceOf(address(zk)), STAKE);
    }

    function test_withdraw_refusals() public {
        vm.prank(prover1);
        vm.expectRevert(ZkPool.NothingToWithdraw.selector);
        zk.withdraw();

        vm.prank(prover1);
        vm.expectRevert(ZkPool.ZeroAmount.selector);
        zk.withdraw(0);

        (bytes32 taskId,) = submitDefault();
        fulfillDefault(taskId);
        vm.prank(prover1);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientBalance.selector, 8e6, 8e6 + 1));
        zk.withdraw(8e6 + 1);

        // The pool's stake and escrow are not withdrawable credit.
        vm.prank(payer);
        vm.expectRevert(ZkPool.NothingToWithdraw.selector);
        zk.withdraw();
    }

    // ───────────── stake ─────────────

    function test_stake_poolOnlyNonZero() public {
        token.mint(address(this), 5);
        vm.expectEmit(address(zk));
        emit ZkPool.Staked(5, STAKE + 5);
        zk.stake(5);
        assertEq(zk.freeStake(), STAKE + 5);

        vm.expectRevert(ZkPool.ZeroAmount.selector);
        zk.stake(0);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPool.selector, stranger));
        zk.stake(1);
    }

    function test_unstake_lockedForDelayThenPaid() public {
        uint256 readyAt = block.timestamp + UNSTAKE_DELAY;
        vm.expectEmit(address(zk));
        emit ZkPool.UnstakeRequested(100e6, 100e6, readyAt);
        zk.requestUnstake(100e6);
        assertEq(zk.freeStake(), STAKE - 100e6);
        assertEq(zk.pendingUnstake(), 100e6);

        vm.warp(readyAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.UnstakeLocked.selector, readyAt));
        zk.completeUnstake();

        vm.warp(readyAt);
        uint256 before = token.balanceOf(address(this));
        vm.expectEmit(address(zk));
        emit ZkPool.UnstakeCompleted(100e6);
        zk.completeUnstake();
        assertEq(token.balanceOf(address(this)), before + 100e6);
        assertEq(zk.pendingUnstake(), 0);

        vm.expectRevert(ZkPool.NothingPending.selector);
        zk.completeUnstake();
    }

    function test_unstake_secondRequestRestartsTheDelay() public {
        zk.requestUnstake(1e6);
        vm.warp(block.timestamp + UNSTAKE_DELAY - 1);
        zk.requestUnstake(2e6);
        uint256 readyAt = block.timestamp + UNSTAKE_DELAY;
        assertEq(zk.unstakeReadyAt(), readyAt);
        assertEq(zk.pendingUnstake(), 3e6);
        vm.warp(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.UnstakeLocked.selector, readyAt));
        zk.completeUnstake();
    }

    function test_unstake_cannotTouchReservedBonds() public {
        submitDefault();
        uint256 free = STAKE - BOND;
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientStake.selector, free, STAKE));
        zk.requestUnstake(STAKE);
        zk.requestUnstake(free);
        assertEq(zk.freeStake(), 0);
    }

    function test_unstake_refusals() public {
        vm.expectRevert(ZkPool.ZeroAmount.selector);
        zk.requestUnstake(0);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPool.selector, stranger));
        zk.requestUnstake(1);

        zk.requestUnstake(1);
        vm.warp(block.timestamp + UNSTAKE_DELAY);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPool.selector, stranger));
        zk.completeUnstake();
    }

    function test_fulfil_returnsBondToFreeStakeWhichCanBeUnstaked() public {
        (bytes32 taskId,) = submitDefault();
        assertEq(zk.freeStake(), STAKE - BOND);
        fulfillDefault(taskId);
        assertEq(zk.freeStake(), STAKE);
        zk.requestUnstake(STAKE);
    }
}
