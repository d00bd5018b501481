// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {console} from "forge-std/console.sol";
import {ZkPool} from "../src/ZkPool.sol";
import {RealProofFixture} from "./utils/RealProofFixture.sol";

/// @notice Gas of each operation as its own transaction pays it. The suite runs in forge's
/// isolation mode (inline config below): every top-level call is a separate transaction, so
/// storage starts cold and "original values" are those before the call (without isolation, an
/// SSTORE to a slot written earlier in the same test costs 100 instead of 2,900, which
/// under-counts fulfil by several thousand). vm.lastCallGas then reports the whole
/// transaction ("tx": 21,000 + calldata + execution, refunds deducted); "exec" is tx minus
/// 21,000 and the calldata (4 gas per zero byte, 16 per non-zero byte; cancun rules).
///
/// fulfill's split: "verifier" is the exported MultiplierVerifier's own execution (a view call,
/// which forge does not isolate, so its figure is execution only), and "pool's own share" is
/// fulfill's exec with that verifier minus it: everything ZkPool does, including the
/// staticcall's cold account access and building its calldata. "steady" means the prover and
/// the pool already hold credit (non-zero → non-zero writes); "first credit" means their
/// balance slots start at zero (20,000 more per new slot).
/// forge-config: default.isolate = true
contract GasTest is RealProofFixture {
    /// @notice The budget for ZkPool's own part of a one-prover fulfil (steady state).
    uint256 internal constant OWN_SHARE_BUDGET = 60_000;

    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// @notice Execution gas of the last (isolated) call, whose calldata was `data`.
    function lastExec(bytes memory data) internal view returns (uint256) {
        return vm.lastCallGas().gasTotalUsed - 21_000 - calldataGas(data);
    }

    function report(string memory name, uint256 exec, bytes memory data) internal pure {
        console.log(
            string.concat(name, ": tx ", vm.toString(exec + 21_000 + calldataGas(data)), ", exec ", vm.toString(exec))
        );
    }

    function realQuote() internal returns (ZkPool.Quote memory q) {
        q = makeQuote();
        q.verifier = address(multiplier);
        q.publicInputsHash = hashSignals(realSignals);
    }

    function measureSubmit(ZkPool.Quote memory q) internal returns (bytes32 taskId, uint256 exec, bytes memory data) {
        bytes memory sig = sign(q, SIGNER_PK);
        data = abi.encodeCall(ZkPool.submitTask, (q, sig));
        vm.prank(payer);
        taskId = zk.submitTask(q, sig);
        exec = lastExec(data);
    }

    function measureFulfill(bytes32 taskId, uint256[] memory signals, address[] memory provers, uint256[] memory work)
        internal
        returns (uint256 exec, bytes memory data)
    {
        uint256[8] memory proof = realProof;
        data = abi.encodeCall(ZkPool.fulfill, (taskId, proof, signals, provers, work));
        zk.fulfill(taskId, proof, signals, provers, work);
        exec = lastExec(data);
    }

    function verifierGas() internal returns (uint256) {
        vm.cool(address(multiplier));
        bool ok = multiplier.verifyProof(
            [realProof[0], realProof[1]],
            [[realProof[2], realProof[3]], [realProof[4], realProof[5]]],
            [realProof[6], realProof[7]],
            [realSignals[0], realSignals[1]]
        );
        assertTrue(ok);
        return vm.lastCallGas().gasTotalUsed;
    }

    /// @dev Leaves prover1 and the pool with credit, and nonce word 0 in use.
    function warmUpCredits() internal {
        (bytes32 taskId,) = submitDefault();
        fulfillDefault(taskId);
    }

    /// @notice Deployment gas is forge's "Deployment Cost" in the gas report (a create is not a
    /// call vm.lastCallGas reports); this logs what drives it: 200 gas per runtime byte stored.
    function test_gas_deploySize() public {
        ZkPool fresh = new ZkPool(token, signer, UNSTAKE_DELAY);
        bytes memory initcode = bytes.concat(vm.getCode("ZkPool.sol:ZkPool"), abi.encode(token, signer, UNSTAKE_DELAY));
        console.log(
            string.concat(
                "deploy ZkPool: runtime bytes ",
                vm.toString(address(fresh).code.length),
                ", initcode bytes ",
                vm.toString(initcode.length),
                ", initcode calldata gas ",
                vm.toString(calldataGas(initcode))
            )
        );
    }

    function test_gas_submitTask() public {
        (, uint256 exec, bytes memory data) = measureSubmit(makeQuote());
        report("submitTask, first nonce of a 256-nonce word", exec, data);
        (, exec, data) = measureSubmit(makeQuote());
        report("submitTask, steady (nonce word in use)", exec, data);
    }

    function test_gas_fulfillSplit() public {
        uint256 v = verifierGas();
        console.log(string.concat("MultiplierVerifier.verifyProof (2 public signals): exec ", vm.toString(v)));

        // First credit: nobody holds credit yet.
        (bytes32 taskId,,) = measureSubmit(realQuote());
        (uint256 exec, bytes memory data) = measureFulfill(taskId, realSignals, one(prover1), ones(1));
        report("fulfill real verifier, 1 prover, first credit", exec, data);
        console.log(string.concat("  pool's own share: ", vm.toString(exec - v)));

        // Steady: prover1 and the pool hold credit now.
        (taskId,,) = measureSubmit(realQuote());
        (exec, data) = measureFulfill(taskId, realSignals, one(prover1), ones(1));
        report("fulfill real verifier, 1 prover, steady", exec, data);
        uint256 own = exec - v;
        console.log(string.concat("  pool's own share: ", vm.toString(own)));
        assertLe(own, OWN_SHARE_BUDGET, "ZkPool's own share of fulfill over budget");

        ZkPool.Quote memory q = makeQuote();
        (taskId,,) = measureSubmit(q);
        (exec, data) = measureFulfill(taskId, defaultSignals(), one(prover1), ones(1));
        report("fulfill accept-all mock verifier, 1 prover, steady", exec, data);
    }

    function test_gas_fulfillThreeProvers() public {
        uint256 v = verifierGas();
        address[] memory ps = new address[](3);
        (ps[0], ps[1], ps[2]) = (prover1, prover2, prover3);
        (bytes32 taskId,,) = measureSubmit(realQuote());
        zk.fulfill(taskId, realProof, realSignals, ps, ones(3));
        (taskId,,) = measureSubmit(realQuote());
        (uint256 exec, bytes memory data) = measureFulfill(taskId, realSignals, ps, ones(3));
        report("fulfill real verifier, 3 provers, steady", exec, data);
        console.log(string.concat("  pool's own share: ", vm.toString(exec - v)));
    }

    function test_gas_claimAndWithdraw() public {
        warmUpCredits();
        (bytes32 taskId, ZkPool.Quote memory q) = submitDefault();
        warpPastWindow(q);
        bytes memory data = abi.encodeCall(ZkPool.claim, (taskId));
        vm.prank(payer);
        zk.claim(taskId);
        report("claim", lastExec(data), data);

        data = abi.encodeWithSignature("withdraw(uint256)", 1);
        vm.prank(prover1);
        zk.withdraw(1);
        report("withdraw(amount), partial, prover's first tokens", lastExec(data), data);
        data = abi.encodeWithSignature("withdraw()");
        vm.prank(prover1);
        zk.withdraw();
        report("withdraw(), all (credit slot cleared: refund deducted)", lastExec(data), data);
    }
}
