//! Every way a ledger, pricing, quote or epoch call can refuse. Each error has a stable,
//! snake_case [`code`](LedgerError::code) that the HTTP edge and the database may store; the
//! message is for humans and may change.

use zkpool_types::{KeyId, TaskId};

use crate::amount::Amount;
use crate::journal::{Account, EpochId};

/// A ledger operation (or a journal entry being replayed) was refused. The ledger is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The account holds less than the operation must take from it.
    #[error("insufficient funds in {account}: needs {needed}, has {available}")]
    InsufficientFunds {
        /// The account that would have gone negative.
        account: Account,
        /// What the operation needed.
        needed: Amount,
        /// What the account holds.
        available: Amount,
    },
    /// The task was already settled (released, claimed, conceded or ended by the requester's
    /// fault); a task settles exactly once.
    #[error("task {0} is already settled")]
    AlreadySettled(TaskId),
    /// The task already has a bond staked; a bond is staked once.
    #[error("task {0} already has a liability bond")]
    AlreadyBonded(TaskId),
    /// The task id already has an escrow; escrow is paid once per task.
    #[error("task {0} already has an escrow")]
    DuplicateTask(TaskId),
    /// No task with this id was escrowed.
    #[error("unknown task {0}")]
    UnknownTask(TaskId),
    /// The account never received anything, so nothing can be taken from it.
    #[error("unknown account {0}")]
    UnknownAccount(Account),
    /// The operation cannot touch this kind of account (e.g. a deposit straight into escrow).
    #[error("{op} is not allowed on account {account}")]
    WrongAccount {
        /// The operation's name.
        op: &'static str,
        /// The account it was pointed at.
        account: Account,
    },
    /// A sum would exceed the range of [`Amount`] (or of an intermediate product).
    #[error("amount overflow")]
    Overflow,
    /// Claim refused: the liability window is still open (the pool may still deliver).
    #[error("liability window of {task} closes at {deadline_ms} ms, now is {now_ms} ms")]
    WindowNotClosed {
        /// The task.
        task: TaskId,
        /// Its deadline (unix ms).
        deadline_ms: u64,
        /// The time the caller passed in.
        now_ms: u64,
    },
    /// Release refused: the liability window has closed, so the requester's claim wins.
    #[error("liability window of {task} closed at {deadline_ms} ms, now is {now_ms} ms")]
    WindowClosed {
        /// The task.
        task: TaskId,
        /// Its deadline (unix ms).
        deadline_ms: u64,
        /// The time the caller passed in.
        now_ms: u64,
    },
    /// The epoch's reward pool was already paid out.
    #[error("epoch {0} is already settled")]
    EpochSettled(EpochId),
    /// Zero amounts, empty prover lists, zero total work and similar malformed input.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// A replayed entry does not fit the state (wrong sequence number, or its postings do not
    /// do what its operation says). The journal is corrupt or out of order.
    #[error("journal entry does not fit the ledger: {0}")]
    Journal(String),
}

impl LedgerError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::InsufficientFunds { .. } => "insufficient_funds",
            LedgerError::AlreadySettled(_) => "already_settled",
            LedgerError::AlreadyBonded(_) => "already_bonded",
            LedgerError::DuplicateTask(_) => "duplicate_task",
            LedgerError::UnknownTask(_) => "unknown_task",
            LedgerError::UnknownAccount(_) => "unknown_account",
            LedgerError::WrongAccount { .. } => "wrong_account",
            LedgerError::Overflow => "overflow",
            LedgerError::WindowNotClosed { .. } => "window_not_closed",
            LedgerError::WindowClosed { .. } => "window_closed",
            LedgerError::EpochSettled(_) => "epoch_settled",
            LedgerError::Invalid(_) => "invalid_input",
            LedgerError::Journal(_) => "journal_mismatch",
        }
    }

    /// True when the caller (requester, prover, operator) caused the refusal; false for a
    /// corrupt journal, which is the node's fault and worth an alert.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, LedgerError::Journal(_))
    }
}

/// A quote failed verification, or could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The 65 signature bytes are not a valid recoverable secp256k1 signature.
    #[error("malformed or unrecoverable signature")]
    BadSignature,
    /// The signature is valid but made by someone other than the pool.
    #[error("quote signed by {got}, expected the pool {expected}")]
    WrongSigner {
        /// The pool's address.
        expected: String,
        /// The recovered signer.
        got: String,
    },
    /// `now_ms >= expires_at_ms`: the offer lapsed.
    #[error("quote expired at {expires_at_ms} ms, now is {now_ms} ms")]
    Expired {
        /// The quote's expiry.
        expires_at_ms: u64,
        /// The time the caller passed in.
        now_ms: u64,
    },
    /// The quote was made for another chain id.
    #[error("quote is for chain {got}, expected {expected}")]
    WrongChain {
        /// The verifier's chain.
        expected: u64,
        /// The quote's chain.
        got: u64,
    },
    /// The quote names another pool (verifying contract).
    #[error("quote is for pool {got}, expected {expected}")]
    WrongPool {
        /// The verifier's pool address.
        expected: String,
        /// The quote's pool address.
        got: String,
    },
    /// The quote was made for another requester (access key); quotes are not transferable.
    #[error("quote is for requester {got}, submitted by {expected}")]
    WrongRequester {
        /// The key submitting the task.
        expected: KeyId,
        /// The key named in the quote.
        got: KeyId,
    },
    /// The quote was priced for another split of the task than the node would run now.
    #[error("quote is for {got} segments, the task is planned as {expected}")]
    WrongSegments {
        /// The node's segment count for the submitted task (0 = not split).
        expected: u32,
        /// The quote's segment count.
        got: u32,
    },
    /// The task submitted is not the task quoted.
    #[error("quote covers another task digest")]
    DigestMismatch,
    /// The quote's on-chain terms (payer, verifier, public inputs) are not the ones this
    /// settlement expects: a quote for the embedded ledger names none, one for the pool
    /// contract names the requester's account, its verifier and the task's public inputs.
    #[error("quote binds other on-chain terms (payer, verifier or public inputs)")]
    WrongTerms,
    /// The nonce was already used by an accepted quote.
    #[error("quote nonce {0} was already used")]
    NonceReused(u64),
    /// The signing key bytes are not a valid secp256k1 scalar.
    #[error("invalid signing key")]
    BadKey,
    /// A hex address or signature could not be parsed.
    #[error("cannot parse {0}")]
    Parse(&'static str),
}

impl QuoteError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            QuoteError::BadSignature => "bad_signature",
            QuoteError::WrongSigner { .. } => "wrong_signer",
            QuoteError::Expired { .. } => "expired",
            QuoteError::WrongChain { .. } => "wrong_chain",
            QuoteError::WrongPool { .. } => "wrong_pool",
            QuoteError::WrongRequester { .. } => "wrong_requester",
            QuoteError::WrongSegments { .. } => "wrong_segments",
            QuoteError::DigestMismatch => "digest_mismatch",
            QuoteError::WrongTerms => "wrong_terms",
            QuoteError::NonceReused(_) => "nonce_reused",
            QuoteError::BadKey => "bad_key",
            QuoteError::Parse(_) => "parse_error",
        }
    }
}

/// Deadline-aware admission refused a task; the reason goes back to the requester.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// No online prover capacity at all.
    #[error("no prover capacity online")]
    NoCapacity,
    /// Queue time plus proving time does not fit in the requested window.
    #[error("estimated completion in {estimated_ms} ms does not fit the {window_ms} ms window")]
    DeadlineUnreachable {
        /// Estimated queue wait + proving time + safety margin.
        estimated_ms: u64,
        /// The window the requester asked for.
        window_ms: u64,
    },
    /// The task declares zero work, or the window is zero.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
    /// Price or bond would overflow [`Amount`].
    #[error("price overflow")]
    Overflow,
}

impl AdmissionError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AdmissionError::NoCapacity => "no_capacity",
            AdmissionError::DeadlineUnreachable { .. } => "deadline_unreachable",
            AdmissionError::Invalid(_) => "invalid_input",
            AdmissionError::Overflow => "overflow",
        }
    }
}

/// Epoch work accounting or allocation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpochError {
    /// No α is configured for this proof system name.
    #[error("no work factor configured for proof system {0:?}")]
    UnknownSystem(String),
    /// A governance exponent is negative, NaN or infinite.
    #[error("exponent {0} must be finite and >= 0")]
    BadExponent(&'static str),
    /// Work or stake sums exceed u128.
    #[error("work or stake overflow")]
    Overflow,
}

impl EpochError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            EpochError::UnknownSystem(_) => "unknown_system",
            EpochError::BadExponent(_) => "bad_exponent",
            EpochError::Overflow => "overflow",
        }
    }
}
