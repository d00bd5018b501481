// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ZkPool} from "../../src/ZkPool.sol";
import {TestToken} from "../../src/test/TestToken.sol";
import {AcceptingVerifier} from "./MockVerifiers.sol";

/// @notice Shared set-up: a pool (this test contract is the operator), a signer key, a funded
/// payer, and helpers that build, sign and submit quotes.
abstract contract ZkPoolFixture is Test {
    uint256 internal constant SIGNER_PK = 0xA11CE;
    uint256 internal constant STAKE = 1_000e6;
    uint256 internal constant PAYER_FUNDS = 1_000_000e6;
    uint256 internal constant UNSTAKE_DELAY = 7 days;
    /// @dev Start of every test (unix seconds): far from zero so "in the past" is expressible.
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant REWARD = 10e6;
    uint256 internal constant BOND = 50e6;
    uint64 internal constant WINDOW_MS = 600_000;
    uint64 internal constant OFFER_MS = 60_000;

    TestToken internal token;
    ZkPool internal zk;
    AcceptingVerifier internal accepting;
    address internal signer;
    address internal payer = makeAddr("payer");
    address internal stranger = makeAddr("stranger");
    address internal prover1 = makeAddr("prover1");
    address internal prover2 = makeAddr("prover2");
    address internal prover3 = makeAddr("prover3");
    uint64 internal nextNonce = 1;

    function setUp() public virtual {
        vm.warp(T0);
        token = new TestToken();
        signer = vm.addr(SIGNER_PK);
        zk = new ZkPool(token, signer, UNSTAKE_DELAY);
        accepting = new AcceptingVerifier();

        token.mint(address(this), STAKE);
        token.approve(address(zk), type(uint256).max);
        zk.stake(STAKE);

        token.mint(payer, PAYER_FUNDS);
        vm.prank(payer);
        token.approve(address(zk), type(uint256).max);
    }

    function nowMs() internal view returns (uint64) {
        return uint64(block.timestamp * 1000);
    }

    /// @notice ceil(ms / 1000): the contract's stored `deadlineSec`, and the first block time at
    /// which `block.timestamp * 1000 >= ms` (the window is over, claim is allowed).
    function ceilSec(uint64 ms) internal pure returns (uint256) {
        return (uint256(ms) + 999) / 1000;
    }

    /// @notice Warps to the first block time at which `q`'s window is over (now_ms ≥ deadlineMs).
    function warpPastWindow(ZkPool.Quote memory q) internal {
        vm.warp(ceilSec(q.deadlineMs));
    }

    function defaultSignals() internal pure returns (uint256[] memory s) {
        s = new uint256[](2);
        s[0] = 21;
        s[1] = 3;
    }

    function hashSignals(uint256[] memory s) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(s));
    }

    function dummyProof() internal pure returns (uint256[8] memory p) {
        for (uint256 i; i < 8; ++i) {
            p[i] = i + 1;
        }
    }

    /// @notice A quote for the default signals and the accepting verifier, with a fresh nonce.
    function makeQuote() internal returns (ZkPool.Quote memory q) {
        q = ZkPool.Quote({
            taskDigest: keccak256(abi.encode("task", nextNonce)),
            requester: 7,
            payer: payer,
            verifier: address(accepting),
            publicInputsHash: hashSignals(defaultSignals()),
            segments: 0,
            reward: REWARD,
            bond: BOND,
            deadlineMs: nowMs() + WINDOW_MS,
            expiresAtMs: nowMs() + OFFER_MS,
            nonce: nextNonce++
        });
    }

    function sign(ZkPool.Quote memory q, uint256 pk) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, zk.quoteDigest(q));
        return abi.encodePacked(r, s, v);
    }

    function submit(ZkPool.Quote memory q) internal returns (bytes32 taskId) {
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(q.payer);
        taskId = zk.submitTask(q, sig);
    }

    function submitDefault() internal returns (bytes32 taskId, ZkPool.Quote memory q) {
        q = makeQuote();
        taskId = submit(q);
    }

    function one(address a) internal pure returns (address[] memory xs) {
        xs = new address[](1);
        xs[0] = a;
    }

    function ones(uint256 n) internal pure returns (uint256[] memory xs) {
        xs = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            xs[i] = 1;
        }
    }

    /// @notice Fulfils with the default signals and a dummy proof (for accepting verifiers).
    function fulfillDefault(bytes32 taskId) internal {
        zk.fulfill(taskId, dummyProof(), defaultSignals(), one(prover1), ones(1));
    }

    function status(bytes32 taskId) internal view returns (ZkPool.TaskStatus) {
        return zk.task(taskId).status;
    }
}
