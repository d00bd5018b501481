// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {ZkPool} from "../../src/ZkPool.sol";
import {TestToken} from "../../src/test/TestToken.sol";
import {AcceptingVerifier} from "./MockVerifiers.sol";

/// @notice Drives a ZkPool through random sequences of valid operations for the invariant test.
/// It deploys the pool, so it is the operator. Every action it takes is one the contract must
/// accept (the suite runs with fail_on_revert), and it counts every settlement so the test can
/// check that each task was settled at most once and each bond released or paid exactly once.
contract PoolHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant SIGNER_PK = 0xA11CE;

    TestToken public immutable token;
    ZkPool public immutable zk;
    AcceptingVerifier internal immutable verifier;

    address[] internal payers;
    /// @notice Everyone who can hold a credit: the provers and the pool itself (which is also
    /// picked as a prover now and then, so one address gets both kinds of credit).
    address[] public accounts;

    bytes32[] public taskIds;
    mapping(bytes32 => uint256) public fulfilments;
    mapping(bytes32 => uint256) public claims;
    mapping(bytes32 => uint256) public bondReleases;
    /// @notice Each task's deadline in ms as quoted: the handler decides when to fulfil and when
    /// to claim by the off-chain ledger's rule on it (fulfil while now_ms < deadline_ms, claim
    /// from now_ms >= deadline_ms on), never by the contract's stored seconds, so a handler
    /// call that the contract refuses is a disagreement between the two (fail_on_revert).
    mapping(bytes32 => uint64) public deadlineMsOf;
    /// @notice Σ (reward + bond) of tasks the handler believes open.
    uint256 public ghostOpen;
    /// @notice Set if a second settlement of a settled task was ever accepted.
    bool public settledTwice;
    uint64 internal nextNonce = 1;

    constructor() {
        token = new TestToken();
        zk = new ZkPool(token, vm.addr(SIGNER_PK), 1 days);
        verifier = new AcceptingVerifier();
        token.approve(address(zk), type(uint256).max);
        for (uint256 i; i < 3; ++i) {
            address p = makeAddr(string.concat("payer", vm.toString(i)));
            payers.push(p);
            vm.prank(p);
            token.approve(address(zk), type(uint256).max);
        }
        for (uint256 i; i < 4; ++i) {
            accounts.push(makeAddr(string.concat("prover", vm.toString(i))));
        }
        accounts.push(address(this));
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function signals() internal pure returns (uint256[] memory s) {
        s = new uint256[](2);
        (s[0], s[1]) = (1, 2);
    }

    // ───────────── actions ─────────────

    function stake(uint256 amount) external {
        amount = bound(amount, 1, 1e15);
        token.mint(address(this), amount);
        zk.stake(amount);
    }

    function requestUnstake(uint256 amount) external {
        uint256 free = zk.freeStake();
        if (free == 0) return;
        zk.requestUnstake(bound(amount, 1, free));
    }

    function completeUnstake() external {
        if (zk.pendingUnstake() == 0) return;
        if (block.timestamp < zk.unstakeReadyAt()) vm.warp(zk.unstakeReadyAt());
        zk.completeUnstake();
    }

    function submit(uint256 payerSeed, uint256 reward, uint256 bond, uint256 windowMs) external {
        address payer = payers[payerSeed % payers.length];
        reward = bound(reward, 0, 1e13);
        bond = bound(bond, 0, zk.freeStake());
        // Any millisecond count, so deadlines that are not whole seconds are common.
        windowMs = bound(windowMs, 1, 3 days * 1000);
        uint64 nowMs = uint64(block.timestamp * 1000);
        ZkPool.Quote memory q = ZkPool.Quote({
            taskDigest: keccak256(abi.encode(nextNonce)),
            // forge-lint: disable-next-line(unsafe-typecast) < payers.length (3)
            requester: uint64(payerSeed % payers.length),
            payer: payer,
            verifier: address(verifier),
            publicInputsHash: keccak256(abi.encodePacked(signals())),
            segments: 0,
            reward: reward,
            bond: bond,
            // forge-lint: disable-next-line(unsafe-typecast) windowMs ≤ 3 days in ms
            deadlineMs: nowMs + uint64(windowMs),
            expiresAtMs: nowMs + 1,
            nonce: nextNonce++
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_PK, zk.quoteDigest(q));
        token.mint(payer, reward);
        vm.prank(payer);
        bytes32 taskId = zk.submitTask(q, abi.encodePacked(r, s, v));
        taskIds.push(taskId);
        deadlineMsOf[taskId] = q.deadlineMs;
        ghostOpen += reward + bond;
    }

    function fulfill(uint256 taskSeed, uint256 proverCount, uint256 workSeed) external {
        (bool found, bytes32 taskId) = pickOpen(taskSeed);
        if (!found) return;
        ZkPool.Task memory t = zk.task(taskId);
        if (block.timestamp * 1000 >= deadlineMsOf[taskId]) return;
        uint256 n = bound(proverCount, 1, 5);
        address[] memory provers = new address[](n);
        uint256[] memory work = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 seed = uint256(keccak256(abi.encode(workSeed, i)));
            provers[i] = accounts[seed % accounts.length];
            work[i] = bound(seed >> 8, 1, 1e18);
        }
        uint256[8] memory proof;
        zk.fulfill(taskId, proof, signals(), provers, work);
        fulfilments[taskId]++;
        bondReleases[taskId]++;
        ghostOpen -= uint256(t.reward) + t.bond;
    }

    function claim(uint256 taskSeed) external {
        (bool found, bytes32 taskId) = pickOpen(taskSeed);
        if (!found) return;
        ZkPool.Task memory t = zk.task(taskId);
        warpPastWindow(taskId);
        vm.prank(t.payer);
        zk.claim(taskId);
        claims[taskId]++;
        bondReleases[taskId]++;
        ghostOpen -= uint256(t.reward) + t.bond;
    }

    /// @notice Tries to settle an already settled task again, both ways; both must be refused.
    function settleAgain(uint256 taskSeed) external {
        if (taskIds.length == 0) return;
        bytes32 taskId = taskIds[taskSeed % taskIds.length];
        ZkPool.Task memory t = zk.task(taskId);
        if (t.status == ZkPool.TaskStatus.Open) return;
        uint256[8] memory proof;
        address[] memory provers = new address[](1);
        provers[0] = accounts[0];
        uint256[] memory work = new uint256[](1);
        work[0] = 1;
        try zk.fulfill(taskId, proof, signals(), provers, work) {
            settledTwice = true;
        } catch {}
        warpPastWindow(taskId);
        vm.prank(t.payer);
        try zk.claim(taskId) {
            settledTwice = true;
        } catch {}
    }

    function withdraw(uint256 accountSeed, uint256 amount, bool all) external {
        address account = accounts[accountSeed % accounts.length];
        uint256 balance = zk.balanceOf(account);
        if (balance == 0) return;
        vm.prank(account);
        if (all) zk.withdraw();
        else zk.withdraw(bound(amount, 1, balance));
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 1 days));
    }

    /// @notice Warps (forward only) to one side of an open task's deadline: the last second with
    /// now_ms < deadline_ms (the next fulfil must be accepted there) or the first with
    /// now_ms >= deadline_ms (the next claim must be). Random warps alone rarely land there.
    function warpToDeadlineEdge(uint256 taskSeed, bool pastIt) external {
        (bool found, bytes32 taskId) = pickOpen(taskSeed);
        if (!found) return;
        uint256 firstClosed = (uint256(deadlineMsOf[taskId]) + 999) / 1000;
        uint256 t = pastIt ? firstClosed : firstClosed - 1;
        if (t > block.timestamp) vm.warp(t);
    }

    /// @dev If the task's window is still open, warps to the first second with
    /// now_ms >= deadline_ms: ceil(deadline_ms / 1000), computed here from the ms deadline.
    function warpPastWindow(bytes32 taskId) internal {
        uint256 deadlineMs = deadlineMsOf[taskId];
        if (block.timestamp * 1000 < deadlineMs) vm.warp((deadlineMs + 999) / 1000);
    }

    /// @dev The first open task at or after `seed` (mod count), scanning at most all tasks.
    function pickOpen(uint256 seed) internal view returns (bool, bytes32) {
        uint256 n = taskIds.length;
        if (n == 0) return (false, bytes32(0));
        uint256 start = seed % n;
        for (uint256 k; k < n; ++k) {
            bytes32 id = taskIds[(start + k) % n];
            if (zk.task(id).status == ZkPool.TaskStatus.Open) return (true, id);
        }
        return (false, bytes32(0));
    }
}
