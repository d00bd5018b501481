// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ZkPool} from "../src/ZkPool.sol";
import {AcceptingVerifier} from "./utils/MockVerifiers.sol";

/// @notice A token that calls back into the pool on every transfer out of it, as a token with
/// transfer hooks (ERC-777 style) could. ZkPool is meant for plain ERC-20s, but its guard must
/// hold if one slips through.
contract HookToken is ERC20 {
    ZkPool public pool;
    bytes public reentry;

    constructor() ERC20("hook", "HOOK") {}

    function arm(ZkPool pool_, bytes memory reentry_) external {
        pool = pool_;
        reentry = reentry_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from == address(pool) && reentry.length != 0) {
            (bool ok, bytes memory ret) = address(pool).call(reentry);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret))
                }
            }
        }
    }
}

contract ReentrancyTest is Test {
    HookToken internal token;
    ZkPool internal zk;
    uint256 internal constant SIGNER_PK = 0xA11CE;
    address internal payer = makeAddr("payer");
    address internal prover = makeAddr("prover");

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new HookToken();
        zk = new ZkPool(token, vm.addr(SIGNER_PK), 1 days);
        token.mint(address(this), 1_000e6);
        token.approve(address(zk), type(uint256).max);
        zk.stake(1_000e6);
        token.mint(payer, 1_000e6);
        vm.prank(payer);
        token.approve(address(zk), type(uint256).max);
    }

    function submitOne() internal returns (bytes32 taskId, ZkPool.Quote memory q) {
        uint256[] memory signals = new uint256[](1);
        q = ZkPool.Quote({
            taskDigest: bytes32(uint256(1)),
            requester: 1,
            payer: payer,
            verifier: address(new AcceptingVerifier()),
            publicInputsHash: keccak256(abi.encodePacked(signals)),
            segments: 0,
            reward: 100e6,
            bond: 10e6,
            deadlineMs: uint64(block.timestamp * 1000 + 60_000),
            expiresAtMs: uint64(block.timestamp * 1000 + 1_000),
            nonce: 1
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_PK, zk.quoteDigest(q));
        vm.prank(payer);
        taskId = zk.submitTask(q, abi.encodePacked(r, s, v));
    }

    function test_withdraw_reentryIsRefused() public {
        (bytes32 taskId,) = submitOne();
        address[] memory provers = new address[](1);
        provers[0] = prover;
        uint256[] memory work = new uint256[](1);
        work[0] = 1;
        uint256[8] memory proof;
        zk.fulfill(taskId, proof, new uint256[](1), provers, work);

        token.arm(zk, abi.encodeWithSignature("withdraw()"));
        vm.prank(prover);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        zk.withdraw();
        assertEq(zk.balanceOf(prover), 80e6);
    }

    function test_claim_reentryIsRefused() public {
        (bytes32 taskId, ZkPool.Quote memory q) = submitOne();
        vm.warp(q.deadlineMs / 1000); // a whole second: the first at which claim is allowed
        token.arm(zk, abi.encodeCall(ZkPool.claim, (taskId)));
        vm.prank(payer);
        vm.expectRevert(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
        zk.claim(taskId);
        assertEq(uint8(zk.task(taskId).status), uint8(ZkPool.TaskStatus.Open));
    }
}
