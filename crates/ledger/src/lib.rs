//! The pool's settlement core: pure, synchronous, no I/O and no clock.
//!
//! ```text
//!  pricing::PricingConfig::admit ──▶ Offer (price, bond) ──▶ quote::QuoteSigner::sign
//!        ──▶ SignedQuote ──verify + NonceBook──▶ Ledger: escrow ─▶ stake_bond
//!        ──▶ one settlement per task, by whose fault it ended:
//!            release          proved in time: provers 80 % by work, treasury 20 % + remainders,
//!                             bond back to the pool stake
//!            requester_fault  unprovable artifacts: provers paid pay_bps by work, the rest
//!                             refunded, bond back to the pool stake
//!            claim / concede  the pool's fault (window passed / pool gave up): refund + bond
//!                             to the requester
//!  each paid lease: lock_collateral (prover stake ─▶ collateral)
//!        ──▶ release_collateral (back to the stake) or slash_collateral (prover's fault:
//!            to the pool stake)
//!  epoch::settle_epoch (Cobb–Douglas over work and stake) ──▶ Ledger: fund_epoch ─▶ pay_epoch
//! ```
//!
//! [`Ledger`] is a double-entry journal state machine: each accepted operation yields one
//! [`Entry`] of [`Posting`]s that the node persists, and replaying the entries rebuilds the
//! ledger after a restart. Amounts are integer base units ([`Amount`], 6 decimals); every
//! split rounds down and the remainder goes to the pool treasury. Provers are paid, staked
//! and held accountable by their access key ([`zkpool_types::KeyId`]); machine ids are only
//! labels. Callers pass the time in (unix ms); nothing here reads a clock, so everything
//! replays deterministically.

#![warn(missing_docs)]

pub mod amount;
pub mod bench;
pub mod certificate;
pub mod eip712;
pub mod epoch;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod journal;
mod ledger;
pub mod pricing;
pub mod quote;
mod state;

pub use amount::{Amount, ParseAmountError};
pub use eip712::Address;
pub use epoch::{Allocation, Contribution, Exponents, WorkFactors, WorkRecord};
pub use error::{AdmissionError, EpochError, LedgerError, QuoteError};
pub use journal::{Account, Entry, EpochId, Op, ParseAccountError, Posting};
pub use ledger::Ledger;
pub use pricing::{FleetLoad, LoadCurve, Offer, PricingConfig};
pub use quote::{
    public_inputs_hash, ChainTerms, Expected, NonceBook, Quote, QuoteSignature, QuoteSigner,
    SignedQuote,
};
pub use state::{EpochStatus, LedgerConfig, PenaltyMode, TaskRecord, TaskStatus};
