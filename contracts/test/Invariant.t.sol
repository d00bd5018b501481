// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ZkPool} from "../src/ZkPool.sol";
import {PoolHandler} from "./utils/PoolHandler.sol";

/// @notice Random stake / unstake / submit / fulfil / claim / withdraw / warp sequences
/// (PoolHandler) keep the pool's books balanced and settle every task at most once.
/// forge-config: default.invariant.fail-on-revert = true
contract InvariantTest is Test {
    PoolHandler internal handler;
    ZkPool internal zk;

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new PoolHandler();
        zk = handler.zk();
        targetContract(address(handler));
    }

    /// @notice token.balanceOf(pool) == freeStake + pendingUnstake + Σ open (reward + bond) + Σ credits.
    function invariant_balanceEquation() public view {
        uint256 open;
        uint256 n = handler.taskCount();
        for (uint256 i; i < n; ++i) {
            ZkPool.Task memory t = zk.task(handler.taskIds(i));
            if (t.status == ZkPool.TaskStatus.Open) open += uint256(t.reward) + t.bond;
        }
        assertEq(open, handler.ghostOpen(), "open tasks on chain != handler's count");

        uint256 credits;
        uint256 m = handler.accountCount();
        for (uint256 i; i < m; ++i) {
            credits += zk.balanceOf(handler.accounts(i));
        }
        assertEq(
            handler.token().balanceOf(address(zk)),
            zk.freeStake() + zk.pendingUnstake() + open + credits,
            "balance equation"
        );
    }

    /// @notice No task is both fulfilled and claimed; each settled task released or paid its
    /// bond exactly once, and an open one not at all.
    function invariant_settledAtMostOnce() public view {
        assertFalse(handler.settledTwice(), "a settled task was settled again");
        uint256 n = handler.taskCount();
        for (uint256 i; i < n; ++i) {
            bytes32 id = handler.taskIds(i);
            uint256 f = handler.fulfilments(id);
            uint256 c = handler.claims(id);
            ZkPool.TaskStatus s = zk.task(id).status;
            assertLe(f + c, 1, "fulfilled and claimed");
            assertEq(handler.bondReleases(id), f + c, "bond released other than once");
            if (s == ZkPool.TaskStatus.Open) assertEq(f + c, 0);
            else if (s == ZkPool.TaskStatus.Fulfilled) assertEq(f, 1);
            else assertEq(c, 1);
        }
    }
}
