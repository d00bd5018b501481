// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/console.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ZkPool} from "../src/ZkPool.sol";
import {TestToken} from "../src/test/TestToken.sol";
import {ZkPoolFixture} from "./utils/ZkPoolFixture.sol";

/// @notice submitTask: the happy path, every refusal, signatures and the EIP-712 encoding.
contract SubmitTest is ZkPoolFixture {
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function test_submit_escrowsRewardReservesBondStoresTask() public {
        ZkPool.Quote memory q = makeQuote();
        bytes32 expectedId = zk.quoteDigest(q);
        bytes memory sig = sign(q, SIGNER_PK);

        vm.expectEmit(address(zk));
        emit ZkPool.TaskSubmitted(expectedId, q.taskDigest, payer, REWARD, BOND, q.deadlineMs);
        vm.prank(payer);
        bytes32 taskId = zk.submitTask(q, sig);

        assertEq(taskId, expectedId);
        assertEq(token.balanceOf(payer), PAYER_FUNDS - REWARD);
        assertEq(token.balanceOf(address(zk)), STAKE + REWARD);
        assertEq(zk.freeStake(), STAKE - BOND);
        assertTrue(zk.nonceUsed(q.nonce));

        ZkPool.Task memory t = zk.task(taskId);
        assertEq(t.payer, payer);
        assertEq(t.verifier, address(accepting));
        assertEq(t.reward, REWARD);
        assertEq(t.bond, BOND);
        assertEq(t.deadlineSec, ceilSec(q.deadlineMs));
        assertEq(t.publicInputsHash, q.publicInputsHash);
        assertEq(uint8(t.status), uint8(ZkPool.TaskStatus.Open));
    }

    function test_submit_refusesExpiredQuote() public {
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        // The offer is dead at expiresAtMs itself (the off-chain ledger's boundary too).
        vm.warp(q.expiresAtMs / 1000);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.QuoteExpired.selector, q.expiresAtMs, q.expiresAtMs));
        zk.submitTask(q, sig);
    }

    function test_submit_acceptsOneSecondBeforeExpiry() public {
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.warp(q.expiresAtMs / 1000 - 1);
        vm.prank(payer);
        zk.submitTask(q, sig);
    }

    function test_submit_refusesDeadlineAlreadyPassed() public {
        // A quote that outlives its own window would let the payer claim the bond at once.
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() - 1;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.DeadlinePassed.selector, q.deadlineMs, nowMs()));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesDeadlineExactlyNow() public {
        // At deadlineMs itself the window is over (the ledger's `now_ms >= deadline_ms` claims).
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.DeadlinePassed.selector, q.deadlineMs, nowMs()));
        zk.submitTask(q, sig);
    }

    function test_submit_acceptsDeadlineOneMillisecondAhead() public {
        // The shortest window there is: fulfil only in the submitting block's second, claim
        // from the next second on (deadlineSec = ceil((now·1000 + 1) / 1000) = now + 1).
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = nowMs() + 1;
        bytes32 taskId = submit(q);
        assertEq(zk.task(taskId).deadlineSec, block.timestamp + 1);
        uint256 snap = vm.snapshotState();
        fulfillDefault(taskId);
        vm.revertToState(snap);
        vm.warp(block.timestamp + 1);
        vm.prank(payer);
        zk.claim(taskId);
    }

    function test_submit_acceptsTheLastRepresentableDeadline() public {
        // ceil(deadlineMs / 1000) must fit 32 bits: the last second is 2^32-1 (2106-02-07
        // 06:28:15 UTC), and deadlineMs = (2^32-1)·1000 is the largest accepted deadline.
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = uint64(type(uint32).max) * 1000;
        bytes32 taskId = submit(q);
        assertEq(zk.task(taskId).deadlineSec, type(uint32).max);
    }

    function test_submit_refusesDeadlineBeyondUint32Seconds() public {
        // One millisecond later already rounds up to second 2^32.
        ZkPool.Quote memory q = makeQuote();
        q.deadlineMs = uint64(type(uint32).max) * 1000 + 1;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.DeadlineTooLate.selector, q.deadlineMs));
        zk.submitTask(q, sig);
        q.deadlineMs = (uint64(type(uint32).max) + 1) * 1000;
        sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.DeadlineTooLate.selector, q.deadlineMs));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesAmountsAboveUint64() public {
        ZkPool.Quote memory q = makeQuote();
        q.reward = uint256(type(uint64).max) + 1;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.AmountTooLarge.selector, q.reward));
        zk.submitTask(q, sig);

        q = makeQuote();
        q.bond = uint256(type(uint64).max) + 1;
        sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.AmountTooLarge.selector, q.bond));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesWrongSigner() public {
        ZkPool.Quote memory q = makeQuote();
        uint256 otherPk = 0xB0B;
        bytes memory sig = sign(q, otherPk);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WrongSigner.selector, vm.addr(otherPk)));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesSignatureForAnotherChain() public {
        ZkPool.Quote memory q = makeQuote();
        // The same quote, signed under a domain whose chainId is not this chain's.
        bytes32 foreignDomain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("zkpool"),
                keccak256("1"),
                block.chainid + 1,
                address(zk)
            )
        );
        bytes32 foreignDigest =
            keccak256(abi.encodePacked("\x19\x01", foreignDomain, keccak256(abi.encode(zk.QUOTE_TYPEHASH(), q))));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_PK, foreignDigest);
        address recovered = ecrecover(zk.quoteDigest(q), v, r, s);
        assertTrue(recovered != signer);

        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WrongSigner.selector, recovered));
        zk.submitTask(q, abi.encodePacked(r, s, v));
    }

    function test_submit_followsChainIdOfTheChainItRunsOn() public {
        // OpenZeppelin's EIP712 rebuilds the domain when the chain id changes (a fork): a
        // signature made for the old chain no longer verifies.
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.chainId(block.chainid + 1);
        vm.prank(payer);
        vm.expectPartialRevert(ZkPool.WrongSigner.selector);
        zk.submitTask(q, sig);
    }

    function test_submit_refusesReplayedNonce() public {
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        zk.submitTask(q, sig);

        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NonceUsed.selector, q.nonce));
        zk.submitTask(q, sig);

        // A different quote under the same nonce is refused too: nonces are the pool's, not the quote's.
        ZkPool.Quote memory q2 = makeQuote();
        q2.nonce = q.nonce;
        bytes memory sig2 = sign(q2, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NonceUsed.selector, q.nonce));
        zk.submitTask(q2, sig2);
    }

    function test_submit_noncesAreIndependentBitsOfOneWord() public {
        ZkPool.Quote memory q = makeQuote();
        q.nonce = 255;
        submit(q);
        assertTrue(zk.nonceUsed(255));
        assertFalse(zk.nonceUsed(254));
        assertFalse(zk.nonceUsed(256));
        q = makeQuote();
        q.nonce = type(uint64).max;
        submit(q);
        assertTrue(zk.nonceUsed(type(uint64).max));
    }

    function test_submit_refusesSenderOtherThanPayer() public {
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPayer.selector, stranger, payer));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesBondAboveFreeStake() public {
        ZkPool.Quote memory q = makeQuote();
        q.bond = STAKE + 1;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientStake.selector, STAKE, STAKE + 1));
        zk.submitTask(q, sig);
    }

    function test_submit_bondsReserveStakeCumulatively() public {
        ZkPool.Quote memory q = makeQuote();
        q.bond = STAKE - 1;
        submit(q);
        q = makeQuote();
        q.bond = 2;
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.InsufficientStake.selector, 1, 2));
        zk.submitTask(q, sig);
    }

    function test_submit_refusesHighS() public {
        ZkPool.Quote memory q = makeQuote();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_PK, zk.quoteDigest(q));
        // (r, n - s, v ^ 1) recovers the same key: the malleable twin must be refused.
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        assertEq(ecrecover(zk.quoteDigest(q), flipped, r, highS), signer);
        vm.prank(payer);
        vm.expectRevert(ZkPool.InvalidSignature.selector);
        zk.submitTask(q, abi.encodePacked(r, highS, flipped));
    }

    function test_submit_refusesMalformedSignatures() public {
        ZkPool.Quote memory q = makeQuote();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_PK, zk.quoteDigest(q));
        bytes[4] memory bad = [
            abi.encodePacked(r, s, v - 27), // v ∈ {0, 1}: only 27/28 accepted
            abi.encodePacked(r, s), // 64 bytes (EIP-2098 compact) not accepted
            abi.encodePacked(r, s, v, uint8(0)), // 66 bytes
            abi.encodePacked(bytes32(0), bytes32(0), uint8(27)) // recovers nothing
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(payer);
            vm.expectRevert(ZkPool.InvalidSignature.selector);
            zk.submitTask(q, bad[i]);
        }
    }

    function test_submit_refusesWithoutAllowance() public {
        ZkPool.Quote memory q = makeQuote();
        bytes memory sig = sign(q, SIGNER_PK);
        vm.prank(payer);
        token.approve(address(zk), REWARD - 1);
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(zk), REWARD - 1, REWARD)
        );
        zk.submitTask(q, sig);
    }

    function test_setQuoteSigner_rotatesKeyPoolOnly() public {
        uint256 newPk = 0xC0FFEE;
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.NotPool.selector, stranger));
        zk.setQuoteSigner(vm.addr(newPk));

        vm.expectRevert(ZkPool.ZeroAddress.selector);
        zk.setQuoteSigner(address(0));

        vm.expectEmit(address(zk));
        emit ZkPool.QuoteSignerChanged(signer, vm.addr(newPk));
        zk.setQuoteSigner(vm.addr(newPk));

        ZkPool.Quote memory q = makeQuote();
        bytes memory oldSig = sign(q, SIGNER_PK);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(ZkPool.WrongSigner.selector, signer));
        zk.submitTask(q, oldSig);

        bytes memory newSig = sign(q, newPk);
        vm.prank(payer);
        zk.submitTask(q, newSig);
    }

    function test_constructor_refusesZeroAddressesAndHugeDelay() public {
        vm.expectRevert(ZkPool.ZeroAddress.selector);
        new ZkPool(TestToken(address(0)), signer, 0);
        vm.expectRevert(ZkPool.ZeroAddress.selector);
        new ZkPool(token, address(0), 0);
        uint256 tooLong = uint256(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ZkPool.UnstakeDelayTooLong.selector, tooLong));
        new ZkPool(token, signer, tooLong);
    }

    // ───────────── EIP-712 ─────────────

    function test_quoteDigest_matchesIndependentEncoding() public {
        ZkPool.Quote memory q = makeQuote();
        assertEq(zk.quoteDigest(q), eip712Digest(q, block.chainid, address(zk)));
        assertEq(
            zk.QUOTE_TYPEHASH(),
            keccak256(
                "Quote(bytes32 taskDigest,uint64 requester,address payer,address verifier,bytes32 publicInputsHash,uint32 segments,uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)"
            )
        );
    }

    /// @notice The cross-language test vector: the Rust node must compute the same digest for
    /// the same quote (values in contracts/README.md).
    function test_eip712Vector() public {
        address verifyingContract = 0x5FbDB2315678afecb367f032d93F642f64180aa3;
        vm.chainId(31337);
        deployCodeTo("ZkPool.sol:ZkPool", abi.encode(token, signer, UNSTAKE_DELAY), verifyingContract);
        ZkPool at = ZkPool(verifyingContract);

        ZkPool.Quote memory q = vectorQuote();
        bytes32 digest = at.quoteDigest(q);
        console.log("domainSeparator");
        console.logBytes32(at.domainSeparator());
        console.log("QUOTE_TYPEHASH");
        console.logBytes32(at.QUOTE_TYPEHASH());
        console.log("structHash");
        console.logBytes32(keccak256(abi.encode(at.QUOTE_TYPEHASH(), q)));
        console.log("digest (task id)");
        console.logBytes32(digest);

        assertEq(q.publicInputsHash, VECTOR_PUBLIC_INPUTS_HASH);
        assertEq(at.domainSeparator(), VECTOR_DOMAIN_SEPARATOR);
        assertEq(digest, eip712Digest(q, 31337, verifyingContract));
        assertEq(digest, VECTOR_DIGEST);
    }

    /// @dev Cross-checked with an independent JavaScript (js-sha3) encoding of the same quote.
    bytes32 private constant VECTOR_DIGEST = 0xec4a9ed5da42df45fe386de702852c2fa73c39669e4467cc40684adf629fca70;
    bytes32 private constant VECTOR_PUBLIC_INPUTS_HASH =
        0x320ad2e29357d5969e5fef50bebdb1d467ec85339a94f2eb6d447929a30945fb;
    bytes32 private constant VECTOR_DOMAIN_SEPARATOR =
        0xa5625605294eae55c7396c3258ea9273d53758f6fddc57ccf072b2bffa6bf65d;

    /// @dev The multiplier fixture's public signals [c, a] for a = 3 and k = [[2, 5], [7, 11]].
    function vectorQuote() internal pure returns (ZkPool.Quote memory) {
        uint256[] memory signals = new uint256[](2);
        signals[0] = 0x000277953b808f06cc395373d5ce03b8ea83aae7229be3fd49bed2e106000000;
        signals[1] = 3;
        return ZkPool.Quote({
            taskDigest: 0x0102030405060708091011121314151617181920212223242526272829303132,
            requester: 7,
            payer: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
            verifier: 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512,
            publicInputsHash: keccak256(abi.encodePacked(signals)),
            segments: 4,
            reward: 1_000_000,
            bond: 5_000_000,
            deadlineMs: 1_700_000_600_000,
            expiresAtMs: 1_700_000_060_000,
            nonce: 42
        });
    }

    /// @dev EIP-712 spelled out field by field, independent of ZkPool's abi.encode(struct).
    function eip712Digest(ZkPool.Quote memory q, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes("zkpool")),
                keccak256(bytes("1")),
                chainId,
                verifyingContract
            )
        );
        bytes memory head = abi.encode(
            keccak256(
                "Quote(bytes32 taskDigest,uint64 requester,address payer,address verifier,bytes32 publicInputsHash,uint32 segments,uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)"
            ),
            q.taskDigest,
            uint256(q.requester),
            q.payer,
            q.verifier,
            q.publicInputsHash
        );
        bytes memory tail = abi.encode(
            uint256(q.segments), q.reward, q.bond, uint256(q.deadlineMs), uint256(q.expiresAtMs), uint256(q.nonce)
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, keccak256(bytes.concat(head, tail))));
    }
}
