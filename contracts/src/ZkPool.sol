// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title zkpool settlement contract
/// @notice Holds the pool's liability stake and the requesters' rewards for tasks the pool quoted.
///
///   pool ──signs Quote (EIP-712, off chain)──► requester (payer)
///   payer ──submitTask(quote, sig)──► reward escrowed, bond reserved from free stake
///   pool ──fulfill(proof), now < deadline──► payer's verifier accepts ⇒ reward split, bond freed
///   payer ──claim(), now ≥ deadline, no proof──► reward + bond to payer
///
/// The window is half-open, [submit, deadlineMs), the same as the off-chain ledger's: a proof
/// counts while now_ms < deadline_ms, and the requester may claim from now_ms ≥ deadline_ms on.
///
/// The task id is the quote's EIP-712 digest, so a task is exactly what the pool signed and can
/// exist once (the nonce is consumed on submit). Rewards are never paid out directly: provers'
/// and the pool's shares are credited and withdrawn (pull payments), so one failing recipient
/// cannot block a fulfilment.
///
/// Conservation, checked by the invariant tests:
///   token.balanceOf(this) == freeStake + pendingUnstake + Σ open tasks (reward + bond) + Σ credits
///
/// Trust notes: the pool's signature covers the verifier address, so the pool accepts the risk of
/// a verifier that refuses honest proofs (the payer would then claim the bond): it should quote
/// only verifiers whose code it has checked. `requester` is the pool's own key id: bound by the
/// signature, not interpreted here. The token must be a plain ERC-20 (no fee on transfer, no
/// rebasing); amounts per task are at most 2^64-1 base units (1.8e13 tokens at 6 decimals).
contract ZkPool is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice What the pool signed. Field order is the EIP-712 type below; the Rust node encodes
    /// the same string.
    struct Quote {
        bytes32 taskDigest; // hash of the task specification (circuit, inputs, proof system)
        uint64 requester; // the pool's key id for the requester
        address payer; // the requester's address: only it may submit and claim
        address verifier; // the requester's Groth16 verifier contract
        bytes32 publicInputsHash; // keccak256(abi.encodePacked(uint256[] publicSignals))
        uint32 segments; // how the pool planned to split the task (0 = whole)
        uint256 reward;
        uint256 bond;
        uint64 deadlineMs; // end of the liability window, unix ms
        uint64 expiresAtMs; // the offer lapses at this time, unix ms
        uint64 nonce; // single use, chosen by the pool
    }

    enum TaskStatus {
        None,
        Open,
        Fulfilled,
        Claimed
    }

    /// @notice One submitted task, in three storage slots: submit writes three, fulfil and claim
    /// read three and rewrite one.
    /// @dev `deadlineSec` is ceil(deadlineMs / 1000), the first whole second at or after the
    /// deadline. block.timestamp `t` is a whole number of seconds, so
    ///   t * 1000 < deadlineMs  ⇔  t < deadlineMs / 1000 (exactly)  ⇔  t < ceil(deadlineMs / 1000)
    /// (an integer is below a real number exactly when it is below that number's ceiling), and
    /// likewise `t * 1000 >= deadlineMs ⇔ t >= deadlineSec`. Storing seconds loses nothing and
    /// lets the deadline share a slot. The field holds up to 2^32-1 s = 2106-02-07 06:28:15 UTC;
    /// with the ceiling, the largest deadline accepted is deadlineMs = (2^32-1) * 1000 exactly,
    /// and anything later is refused (DeadlineTooLate).
    struct Task {
        address payer; // slot 0
        uint64 reward;
        TaskStatus status;
        address verifier; // slot 1
        uint64 bond;
        uint32 deadlineSec;
        bytes32 publicInputsHash; // slot 2
    }

    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 taskDigest,uint64 requester,address payer,address verifier,bytes32 publicInputsHash,"
        "uint32 segments,uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)"
    );

    /// @notice Provers' part of each reward, in basis points; the pool keeps the rest plus every
    /// rounding remainder of the split.
    uint256 public constant PROVER_SHARE_BPS = 8000;
    uint256 public constant BPS = 10_000;

    IERC20 public immutable token;
    /// @notice The operator: stakes, sends fulfilments, receives the pool's share.
    address public immutable pool;
    /// @notice How long requested unstakes stay locked, so stake seen on chain when a requester
    /// decides to take a quote cannot vanish at once (open tasks' bonds are reserved regardless).
    uint256 public immutable unstakeDelay;

    /// @notice Key that signs quotes (may differ from `pool`, e.g. an online signing key).
    address public quoteSigner;
    /// @notice Stake not reserved by open tasks and not pending withdrawal.
    uint256 public freeStake;
    /// @notice Stake on its way out; withdrawable by the pool from `unstakeReadyAt` on.
    uint256 public pendingUnstake;
    uint256 public unstakeReadyAt;

    mapping(bytes32 taskId => Task) private _tasks;
    /// @dev Used nonces as a bitmap: sequential nonces cost one fresh slot per 256 quotes.
    mapping(uint256 word => uint256 bits) private _nonceBits;
    mapping(address account => uint256) private _credits;

    event QuoteSignerChanged(address indexed previous, address indexed current);
    event Staked(uint256 amount, uint256 freeStake);
    event UnstakeRequested(uint256 amount, uint256 pendingUnstake, uint256 readyAt);
    event UnstakeCompleted(uint256 amount);
    event TaskSubmitted(
        bytes32 indexed taskId,
        bytes32 indexed taskDigest,
        address indexed payer,
        uint256 reward,
        uint256 bond,
        uint64 deadlineMs
    );
    /// @notice `proversShare + poolShare == reward`; poolShare includes the split's remainders.
    event TaskFulfilled(bytes32 indexed taskId, uint256 proversShare, uint256 poolShare);
    event ProverCredited(bytes32 indexed taskId, address indexed prover, uint256 work, uint256 amount);
    event TaskClaimed(bytes32 indexed taskId, address indexed payer, uint256 refund, uint256 bond);
    event Withdrawn(address indexed account, uint256 amount);

    error ZeroAddress();
    error ZeroAmount();
    error NotPool(address caller);
    error NotPayer(address caller, address payer);
    error QuoteExpired(uint64 expiresAtMs, uint256 nowMs);
    error DeadlinePassed(uint64 deadlineMs, uint256 nowMs);
    /// @notice The deadline does not fit the task's 32-bit seconds field (after year 2106).
    error DeadlineTooLate(uint64 deadlineMs);
    error AmountTooLarge(uint256 amount);
    error NonceUsed(uint64 nonce);
    /// @notice Not a 65-byte r‖s‖v signature with v ∈ {27, 28} and low s.
    error InvalidSignature();
    error WrongSigner(address recovered);
    error InsufficientStake(uint256 freeStake, uint256 needed);
    error TaskNotOpen(bytes32 taskId, TaskStatus status);
    error WindowClosed(bytes32 taskId, uint256 deadlineSec, uint256 nowSec);
    error WindowStillOpen(bytes32 taskId, uint256 deadlineSec, uint256 nowSec);
    error PublicInputsMismatch(bytes32 taskId);
    error VerifierReverted(bytes32 taskId);
    /// @notice The verifier returned something other than exactly one ABI-encoded bool.
    error VerifierBadReturn(bytes32 taskId);
    error ProofRejected(bytes32 taskId);
    error NoProvers();
    error LengthMismatch(uint256 provers, uint256 work);
    error ZeroProver(uint256 index);
    /// @notice Work must be in 1..2^128-1 (the bound keeps the split's products from overflowing).
    error InvalidWork(uint256 index);
    error InsufficientBalance(uint256 available, uint256 requested);
    error NothingToWithdraw();
    error NothingPending();
    error UnstakeLocked(uint256 readyAt);
    /// @notice The delay must leave `block.timestamp + delay` far from overflow (≤ 2^32-1 s).
    error UnstakeDelayTooLong(uint256 delay);

    modifier onlyPool() {
        if (msg.sender != pool) revert NotPool(msg.sender);
        _;
    }

    constructor(IERC20 token_, address quoteSigner_, uint256 unstakeDelaySeconds) EIP712("zkpool", "1") {
        if (address(token_) == address(0) || quoteSigner_ == address(0)) revert ZeroAddress();
        if (unstakeDelaySeconds > type(uint32).max) revert UnstakeDelayTooLong(unstakeDelaySeconds);
        token = token_;
        pool = msg.sender;
        quoteSigner = quoteSigner_;
        unstakeDelay = unstakeDelaySeconds;
        emit QuoteSignerChanged(address(0), quoteSigner_);
    }

    // ───────────────────────────── pool administration ─────────────────────────────

    function setQuoteSigner(address signer) external onlyPool {
        if (signer == address(0)) revert ZeroAddress();
        emit QuoteSignerChanged(quoteSigner, signer);
        quoteSigner = signer;
    }

    /// @notice Adds `amount` to the pool's free stake (pulled from the pool's address).
    function stake(uint256 amount) external onlyPool nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 free = freeStake + amount;
        freeStake = free;
        emit Staked(amount, free);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves free stake to pending. Every request restarts the delay for the whole
    /// pending amount: one timer keeps the state to one slot, and topping up a withdrawal is rare.
    function requestUnstake(uint256 amount) external onlyPool {
        if (amount == 0) revert ZeroAmount();
        uint256 free = freeStake;
        if (amount > free) revert InsufficientStake(free, amount);
        freeStake = free - amount;
        uint256 pending = pendingUnstake + amount;
        pendingUnstake = pending;
        uint256 readyAt = block.timestamp + unstakeDelay;
        unstakeReadyAt = readyAt;
        emit UnstakeRequested(amount, pending, readyAt);
    }

    function completeUnstake() external onlyPool nonReentrant {
        uint256 pending = pendingUnstake;
        if (pending == 0) revert NothingPending();
        if (block.timestamp < unstakeReadyAt) revert UnstakeLocked(unstakeReadyAt);
        pendingUnstake = 0;
        emit UnstakeCompleted(pending);
        token.safeTransfer(msg.sender, pending);
    }

    // ───────────────────────────── task life cycle ─────────────────────────────

    /// @notice Accepts a quote: escrows its reward from the payer and reserves its bond from the
    /// pool's free stake. Returns the task id (the quote's EIP-712 digest).
    function submitTask(Quote calldata q, bytes calldata signature) external nonReentrant returns (bytes32 taskId) {
        if (msg.sender != q.payer) revert NotPayer(msg.sender, q.payer);
        uint256 nowMs = block.timestamp * 1000;
        // Same boundary as the off-chain ledger: the offer is dead at expiresAtMs itself.
        if (nowMs >= q.expiresAtMs) revert QuoteExpired(q.expiresAtMs, nowMs);
        // The window must not be over already (at deadlineMs itself it is): otherwise the payer
        // could claim the bond at once.
        if (nowMs >= q.deadlineMs) revert DeadlinePassed(q.deadlineMs, nowMs);
        // ceil(deadlineMs / 1000), see Task: `now * 1000 < deadlineMs ⇔ now < deadlineSec`.
        // deadlineMs < 2^64, so the sum cannot overflow the uint256 arithmetic.
        uint256 deadlineSec = (uint256(q.deadlineMs) + 999) / 1000;
        if (deadlineSec > type(uint32).max) revert DeadlineTooLate(q.deadlineMs);
        if (q.reward > type(uint64).max) revert AmountTooLarge(q.reward);
        if (q.bond > type(uint64).max) revert AmountTooLarge(q.bond);

        taskId = quoteDigest(q);
        _checkSigner(taskId, signature);
        _useNonce(q.nonce);

        uint256 free = freeStake;
        if (free < q.bond) revert InsufficientStake(free, q.bond);
        freeStake = free - q.bond;

        // No task can exist under this id yet: the id covers the nonce, consumed just above.
        _tasks[taskId] = Task({
            payer: q.payer,
            // forge-lint: disable-next-line(unsafe-typecast) checked ≤ uint64 max above
            reward: uint64(q.reward),
            status: TaskStatus.Open,
            verifier: q.verifier,
            // forge-lint: disable-next-line(unsafe-typecast) checked ≤ uint64 max above
            bond: uint64(q.bond),
            // forge-lint: disable-next-line(unsafe-typecast) checked ≤ uint32 max above
            deadlineSec: uint32(deadlineSec),
            publicInputsHash: q.publicInputsHash
        });
        emit TaskSubmitted(taskId, q.taskDigest, q.payer, q.reward, q.bond, q.deadlineMs);

        token.safeTransferFrom(msg.sender, address(this), q.reward);
    }

    /// @notice Delivers the proof for an open task inside its window (now_ms < deadlineMs, i.e.
    /// block.timestamp < deadlineSec). The payer's verifier must
    /// accept it; then the bond returns to free stake and the reward is credited: provers share
    /// `reward * PROVER_SHARE_BPS / BPS` in proportion to `work` (each share rounded down), the
    /// pool gets the rest.
    /// @param proof the 8 words the snarkjs-exported verifier takes, in its order:
    ///   [pi_a[0], pi_a[1], pi_b[0][1], pi_b[0][0], pi_b[1][1], pi_b[1][0], pi_c[0], pi_c[1]]
    ///   from snarkjs's proof.json (B's Fq2 limbs swapped, as `zkey export soliditycalldata` does;
    ///   see scripts/proof-words.js).
    /// @param publicSignals snarkjs's public.json, in order; must hash to the quote's value.
    /// @dev Moves no tokens and the verifier runs under staticcall, so it cannot re-enter to
    /// change state: no reentrancy guard needed.
    function fulfill(
        bytes32 taskId,
        uint256[8] calldata proof,
        uint256[] calldata publicSignals,
        address[] calldata provers,
        uint256[] calldata work
    ) external onlyPool {
        Task storage t = _tasks[taskId];
        TaskStatus status = t.status;
        if (status != TaskStatus.Open) revert TaskNotOpen(taskId, status);
        uint256 deadlineSec = t.deadlineSec;
        if (block.timestamp >= deadlineSec) revert WindowClosed(taskId, deadlineSec, block.timestamp);
        if (keccak256(abi.encodePacked(publicSignals)) != t.publicInputsHash) revert PublicInputsMismatch(taskId);
        _verify(taskId, t.verifier, proof, publicSignals);

        uint256 reward = t.reward;
        t.status = TaskStatus.Fulfilled;
        freeStake += t.bond;

        uint256 proversShare = _creditProvers(taskId, reward * PROVER_SHARE_BPS / BPS, provers, work);
        uint256 poolShare = reward - proversShare;
        if (poolShare != 0) _credits[pool] += poolShare;
        emit TaskFulfilled(taskId, proversShare, poolShare);
    }

    /// @notice Once the window of a task that was not fulfilled is over (now_ms ≥ deadlineMs, i.e.
    /// block.timestamp ≥ deadlineSec), pays the payer its reward back and the pool's bond.
    function claim(bytes32 taskId) external nonReentrant {
        Task storage t = _tasks[taskId];
        TaskStatus status = t.status;
        if (status != TaskStatus.Open) revert TaskNotOpen(taskId, status);
        address payer = t.payer;
        if (msg.sender != payer) revert NotPayer(msg.sender, payer);
        uint256 deadlineSec = t.deadlineSec;
        if (block.timestamp < deadlineSec) revert WindowStillOpen(taskId, deadlineSec, block.timestamp);

        t.status = TaskStatus.Claimed;
        uint256 refund = t.reward;
        uint256 bond = t.bond;
        emit TaskClaimed(taskId, payer, refund, bond);
        token.safeTransfer(payer, refund + bond);
    }

    /// @notice Withdraws the caller's whole credited balance.
    function withdraw() external nonReentrant {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        _withdraw(amount, amount);
    }

    /// @notice Withdraws `amount` of the caller's credited balance.
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _withdraw(_credits[msg.sender], amount);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice The task id (EIP-712 digest) of a quote under this contract's domain.
    function quoteDigest(Quote calldata q) public view returns (bytes32) {
        // Every Quote field is a static type, so abi.encode lays them out as 32-byte words in
        // declaration order: exactly EIP-712's encodeData.
        return _hashTypedDataV4(keccak256(abi.encode(QUOTE_TYPEHASH, q)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function task(bytes32 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @notice Credited, withdrawable balance of a prover or the pool.
    function balanceOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    function nonceUsed(uint64 nonce) external view returns (bool) {
        return _nonceBits[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _checkSigner(bytes32 digest, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError) revert InvalidSignature();
        if (signer != quoteSigner) revert WrongSigner(signer);
    }

    function _useNonce(uint64 nonce) private {
        uint256 word = nonce >> 8;
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bits = _nonceBits[word];
        if (bits & bit != 0) revert NonceUsed(nonce);
        _nonceBits[word] = bits | bit;
    }

    /// @dev Calls `verifyProof(uint[2],uint[2][2],uint[2],uint[N])` of a snarkjs-exported
    /// verifier. N differs per circuit and is part of the selector, so the selector is computed
    /// and the calldata built by hand: static arrays encode inline, so it is
    /// selector ‖ 8 proof words ‖ N signal words. Only a successful call returning exactly the
    /// 32-byte word 1 accepts; returndata is never copied beyond 32 bytes (no return bombs).
    function _verify(bytes32 taskId, address verifier, uint256[8] calldata proof, uint256[] calldata signals)
        private
        view
    {
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(signals.length), "])"
                )
            )
        );
        bytes memory data = abi.encodePacked(selector, proof, signals);
        bool ok;
        uint256 size;
        uint256 word;
        assembly ("memory-safe") {
            ok := staticcall(gas(), verifier, add(data, 0x20), mload(data), 0, 0x20)
            size := returndatasize()
            word := mload(0)
        }
        if (!ok) revert VerifierReverted(taskId);
        if (size != 32 || word > 1) revert VerifierBadReturn(taskId);
        if (word == 0) revert ProofRejected(taskId);
    }

    /// @dev Splits `total` by work, each share rounded down; returns what was credited.
    function _creditProvers(bytes32 taskId, uint256 total, address[] calldata provers, uint256[] calldata work)
        private
        returns (uint256 credited)
    {
        uint256 n = provers.length;
        if (n == 0) revert NoProvers();
        if (n != work.length) revert LengthMismatch(n, work.length);
        uint256 totalWork;
        for (uint256 i; i < n; ++i) {
            uint256 w = work[i];
            if (w == 0 || w > type(uint128).max) revert InvalidWork(i);
            if (provers[i] == address(0)) revert ZeroProver(i);
            // ≤ n · 2^128: cannot overflow for any calldata-sized n.
            totalWork += w;
        }
        for (uint256 i; i < n; ++i) {
            // total < 2^64 and work < 2^128: the product fits.
            uint256 share = total * work[i] / totalWork;
            if (share != 0) {
                _credits[provers[i]] += share;
                credited += share;
            }
            emit ProverCredited(taskId, provers[i], work[i], share);
        }
    }

    function _withdraw(uint256 available, uint256 amount) private {
        if (amount > available) revert InsufficientBalance(available, amount);
        _credits[msg.sender] = available - amount;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }
}
