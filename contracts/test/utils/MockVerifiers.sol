// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Stand-ins for a requester's verifier. They answer any selector through the fallback,
/// whose `bytes` return is sent raw (not ABI-encoded), so each can return exactly the bytes a
/// test needs.

/// @notice Accepts every proof, as cheaply as a contract can: isolates ZkPool's own gas.
contract AcceptingVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(true);
    }
}

contract RejectingVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(false);
    }
}

contract RevertingVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        revert("verifier: boom");
    }
}

/// @notice Returns fixed raw bytes: short, long, or a word that is not a bool.
contract RawReturnVerifier {
    bytes private _ret;

    constructor(bytes memory ret) {
        _ret = ret;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        return _ret;
    }
}

/// @notice Accepts only calldata shaped like a snarkjs verifier with `n` public signals expects:
/// the `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])` selector and 8 + n words.
contract ShapeCheckingVerifier {
    bytes4 public immutable selector;
    uint256 public immutable words;

    constructor(bytes4 selector_, uint256 nSignals) {
        selector = selector_;
        words = 8 + nSignals;
    }

    fallback(bytes calldata data) external returns (bytes memory) {
        return abi.encode(msg.sig == selector && data.length == 4 + 32 * words);
    }
}

/// @notice Burns all the gas it is given; a fulfil against it must fail, not hang or succeed.
contract GasBurningVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        while (true) {}
        return "";
    }
}
