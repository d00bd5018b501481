// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZkPool} from "../src/ZkPool.sol";
import {ZkPoolFixture} from "./utils/ZkPoolFixture.sol";

/// @notice The liability window's boundaries, second by second, against the off-chain ledger's
/// rule in milliseconds: a proof is released while now_ms < deadline_ms, and the requester may
/// claim once now_ms >= deadline_ms. Block times are whole seconds, so the contract stores
/// deadlineSec = ceil(deadlineMs / 1000) and compares block.timestamp with it.
contract WindowTest is ZkPoolFixture {
    /// @dev At the current block time, fulfil is accepted and claim refused (each tried alone).
    function assertFulfilOnly(bytes32 taskId, uint256 deadlineSec) internal {
        uint256 snap = vm.snapshotState();
        fulfillDefault(taskId);
        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Fulfilled));
        vm.revertToState(snap);

        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WindowStillOpen.selector, taskId, deadlineSec, block.timestamp));
        zk.claim(taskId);
    }

    /// @dev At the current block time, fulfil is refused and claim accepted.
    function assertClaimOnly(bytes32 taskId, uint256 deadlineSec) internal {
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WindowClosed.selector, taskId, deadlineSec, block.timestamp));
        fulfillDefault(taskId);

        vm.prank(payer);
        zk.claim(taskId);
        assertEq(uint8(status(taskId)), uint8(ZkPool.TaskStatus.Claimed));
    }

    /// @notice deadlineMs a whole second S·1000: the last fulfil is at S-1, and at S itself
    /// (now_ms == deadline_ms) the window is over: fulfil refused, claim allowed.
    function test_window_wholeSecondDeadline() public {
        ZkPool.Quote memory q = makeQuote();
        uint256 s = T0 + 600;
        q.deadlineMs = nowMs() + 600_000; // s · 1000
        bytes32 taskId = submit(q);
        assertEq(zk.task(taskId).deadlineSec, s);

        vm.warp(s - 1);
        assertFulfilOnly(taskId, s);
        vm.warp(s);
        assertClaimOnly(taskId, s);
    }

    /// @notice deadlineMs = S·1000 + 500: at S (S·1000 < deadline_ms) the pool may still fulfil and
    /// the payer may not claim; at S+1 = ceil(deadlineMs / 1000) fulfil is refused, claim allowed.
    function test_window_fractionalSecondDeadline() public {
        ZkPool.Quote memory q = makeQuote();
        uint256 s = T0 + 600;
        q.deadlineMs = nowMs() + 600_500; // s · 1000 + 500
        bytes32 taskId = submit(q);
        assertEq(zk.task(taskId).deadlineSec, s + 1);

        vm.warp(s);
        assertFulfilOnly(taskId, s + 1);
        vm.warp(s + 1);
        assertClaimOnly(taskId, s + 1);
    }

    /// @notice One millisecond past a whole second still leaves that whole second inside, and
    /// one millisecond short of one leaves the second before it as the last.
    function test_window_oneMillisecondEitherSideOfASecond() public {
        uint256 s = T0 + 600;

        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() + 600_001; // s · 1000 + 1
        bytes32 justAfter = submit(q);
        q = makeQuote();
        q.deadlineMs = nowMs() + 599_999; // s · 1000 - 1
        bytes32 justBefore = submit(q);
        assertEq(zk.task(justAfter).deadlineSec, s + 1);
        assertEq(zk.task(justBefore).deadlineSec, s);

        vm.warp(s - 1);
        assertFulfilOnly(justBefore, s);
        vm.warp(s);
        assertFulfilOnly(justAfter, s + 1);
        assertClaimOnly(justBefore, s);
        vm.warp(s + 1);
        assertClaimOnly(justAfter, s + 1);
    }

    /// @notice Claim stays allowed, and fulfil refused, long after the deadline.
    function test_window_stillClosedLongAfter() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        vm.warp(ceilSec(q.deadlineMs) + 365 days);
        assertClaimOnly(taskId, ceilSec(q.deadlineMs));
    }
}
