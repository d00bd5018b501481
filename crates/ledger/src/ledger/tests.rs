//! Postings and refusals of the fault-settlement and collateral operations. The older flows
//! (release, claim, penalties, epochs) and the property tests are in `tests/ledger.rs`.

use zkpool_types::{KeyId, TaskId};

use super::Ledger;
use crate::amount::Amount;
use crate::error::LedgerError;
use crate::journal::{Account, Entry, Posting};
use crate::state::{LedgerConfig, TaskStatus};

const REQ: KeyId = KeyId(1);
const A: KeyId = KeyId(2);
const B: KeyId = KeyId(3);
const T1: TaskId = TaskId(1);

fn amt(units: u128) -> Amount {
    Amount::from_base_units(units)
}

fn post(from: Account, to: Account, units: u128) -> Posting {
    Posting {
        from,
        to,
        amount: amt(units),
    }
}

/// Requester 1 escrowed task 1 (reward 1_000, deadline 100) out of 1_000 and the pool bonded
/// it with 2_000 of its 5_000 stake; prover key A staked 500.
fn funded() -> Ledger {
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Requester(REQ), amt(1_000)).unwrap();
    l.deposit(Account::PoolStake, amt(5_000)).unwrap();
    l.deposit(Account::Prover(A), amt(500)).unwrap();
    l.execute(crate::Op::ProverStake {
        prover: A,
        amount: amt(500),
    })
    .unwrap();
    l.escrow(T1, REQ, amt(1_000), 100, 0).unwrap();
    l.stake_bond(T1, amt(2_000)).unwrap();
    l
}

/// Runs `f`, expects the error code, and checks the ledger did not change.
fn refused(l: &mut Ledger, code: &str, f: impl FnOnce(&mut Ledger) -> Result<Entry, LedgerError>) {
    let before = l.clone();
    let err = f(l).expect_err("operation should be refused");
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(*l, before, "a refused operation changed the ledger");
}

#[test]
fn collateral_moves_between_stake_collateral_and_pool_stake() {
    let mut l = funded();
    let e = l.lock_collateral(A, T1, amt(300)).unwrap();
    assert_eq!(
        e.postings,
        [post(Account::ProverStake(A), Account::Collateral(A), 300)]
    );
    // Locked stake still weighs in epochs: 200 unlocked + 300 locked.
    assert_eq!(l.prover_stakes().get(&A), Some(&amt(500)));
    let e = l.release_collateral(A, T1, amt(100)).unwrap();
    assert_eq!(
        e.postings,
        [post(Account::Collateral(A), Account::ProverStake(A), 100)]
    );
    let e = l.slash_collateral(A, T1, amt(200)).unwrap();
    assert_eq!(
        e.postings,
        [post(Account::Collateral(A), Account::PoolStake, 200)]
    );
    assert_eq!(l.balance(&Account::Collateral(A)), Amount::ZERO);
    assert_eq!(l.balance(&Account::ProverStake(A)), amt(300));
    assert_eq!(l.balance(&Account::PoolStake), amt(3_200));
    assert_eq!(l.prover_stakes().get(&A), Some(&amt(300)));
}

#[test]
fn collateral_cannot_exceed_stake_or_what_is_locked() {
    let mut l = funded();
    refused(&mut l, "insufficient_funds", |l| {
        l.lock_collateral(A, T1, amt(501))
    });
    // A key that never staked has too little stake, not an unknown account.
    let err = l.lock_collateral(B, T1, amt(1)).unwrap_err();
    assert_eq!(
        err,
        LedgerError::InsufficientFunds {
            account: Account::ProverStake(B),
            needed: amt(1),
            available: Amount::ZERO,
        }
    );
    refused(&mut l, "insufficient_funds", |l| {
        l.release_collateral(A, T1, amt(1))
    });
    refused(&mut l, "invalid_input", |l| {
        l.lock_collateral(A, T1, Amount::ZERO)
    });
    l.lock_collateral(A, T1, amt(400)).unwrap();
    refused(&mut l, "insufficient_funds", |l| {
        l.release_collateral(A, T1, amt(401))
    });
    refused(&mut l, "insufficient_funds", |l| {
        l.slash_collateral(A, T1, amt(401))
    });
    refused(&mut l, "invalid_input", |l| {
        l.slash_collateral(A, T1, Amount::ZERO)
    });
    // Locked stake cannot be unstaked, nor locked twice.
    refused(&mut l, "insufficient_funds", |l| {
        l.execute(crate::Op::ProverUnstake {
            prover: A,
            amount: amt(101),
        })
    });
    refused(&mut l, "insufficient_funds", |l| {
        l.lock_collateral(A, TaskId(2), amt(101))
    });
    // Nor can a penalty reach it: it takes the unlocked stake, then the balance.
    l.penalty(A, amt(1_000)).unwrap();
    assert_eq!(l.balance(&Account::Collateral(A)), amt(400));
}

#[test]
fn requester_fault_pays_time_by_work_refunds_the_rest_and_returns_the_bond() {
    let mut l = funded();
    // A did one unit, B two; 25 % of 1_000 = 250 for their time: 83 and 166, remainder 1.
    let e = l
        .requester_fault(T1, vec![(A, 1), (B, 1), (B, 1)], 2_500, 40)
        .unwrap();
    let escrow = Account::Escrow(T1);
    assert_eq!(
        e.postings,
        [
            post(escrow, Account::Prover(A), 83),
            post(escrow, Account::Prover(B), 166),
            post(escrow, Account::Treasury, 1),
            post(escrow, Account::Requester(REQ), 750),
            post(Account::Bond(T1), Account::PoolStake, 2_000),
        ]
    );
    assert_eq!(l.balance(&Account::PoolStake), amt(5_000));
    assert_eq!(l.task(T1).unwrap().status, TaskStatus::RequesterFault);
    assert!(l.task(T1).unwrap().status.is_settled());
}

#[test]
fn requester_fault_at_the_pay_bounds_and_without_work() {
    let escrow = Account::Escrow(T1);
    let bond_back = post(Account::Bond(T1), Account::PoolStake, 2_000);

    let mut l = funded();
    let e = l.requester_fault(T1, vec![(A, 3)], 0, 40).unwrap();
    assert_eq!(
        e.postings,
        [
            post(escrow, Account::Requester(REQ), 1_000),
            bond_back.clone()
        ]
    );

    let mut l = funded();
    let e = l
        .requester_fault(T1, vec![(A, 1), (B, 1)], 10_000, 40)
        .unwrap();
    assert_eq!(
        e.postings,
        [
            post(escrow, Account::Prover(A), 500),
            post(escrow, Account::Prover(B), 500),
            bond_back.clone(),
        ]
    );

    // Nobody worked (or only with zero work): everything back to the requester.
    for work in [vec![], vec![(A, 0)]] {
        let mut l = funded();
        let e = l.requester_fault(T1, work, 5_000, 40).unwrap();
        assert_eq!(
            e.postings,
            [
                post(escrow, Account::Requester(REQ), 1_000),
                bond_back.clone()
            ]
        );
    }

    let mut l = funded();
    refused(&mut l, "invalid_input", |l| {
        l.requester_fault(T1, vec![(A, 1)], 10_001, 40)
    });
}

#[test]
fn requester_fault_settles_once_at_any_time_and_only_open_tasks() {
    let mut l = funded();
    // After the deadline too, and on a task the pool never bonded.
    l.requester_fault(T1, vec![(A, 1)], 1_000, 500).unwrap();
    refused(&mut l, "already_settled", |l| {
        l.requester_fault(T1, vec![(A, 1)], 1_000, 501)
    });
    refused(&mut l, "already_settled", |l| l.claim(T1, 500));
    refused(&mut l, "already_settled", |l| l.concede(T1, 500));
    refused(&mut l, "unknown_task", |l| {
        l.requester_fault(TaskId(9), vec![], 0, 0)
    });

    let mut l = funded();
    l.release(T1, vec![(A, 1)], 50).unwrap();
    refused(&mut l, "already_settled", |l| {
        l.requester_fault(T1, vec![(A, 1)], 1_000, 60)
    });

    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Requester(REQ), amt(10)).unwrap();
    l.escrow(T1, REQ, amt(10), 100, 0).unwrap();
    let e = l.requester_fault(T1, vec![(A, 1)], 5_000, 1).unwrap();
    assert_eq!(e.postings.len(), 2, "{:?}", e.postings);
    assert_eq!(l.balance(&Account::Requester(REQ)), amt(5));
}

#[test]
fn concede_pays_refund_and_bond_before_the_window_closes() {
    let mut l = funded();
    let e = l.concede(T1, 10).unwrap();
    let to = Account::Requester(REQ);
    assert_eq!(
        e.postings,
        [
            post(Account::Escrow(T1), to, 1_000),
            post(Account::Bond(T1), to, 2_000),
        ]
    );
    assert_eq!(l.task(T1).unwrap().status, TaskStatus::Conceded);
    refused(&mut l, "already_settled", |l| l.concede(T1, 11));
    refused(&mut l, "already_settled", |l| l.claim(T1, 100));
    refused(&mut l, "already_settled", |l| {
        l.release(T1, vec![(A, 1)], 20)
    });
    refused(&mut l, "unknown_task", |l| l.concede(TaskId(9), 0));
    // After the window it is the same as a claim.
    let mut l = funded();
    l.concede(T1, 1_000).unwrap();
    assert_eq!(l.balance(&to), amt(3_000));
}

#[test]
fn new_operations_replay_and_tampered_settlements_are_refused() {
    let mut journal = Vec::new();
    let mut l = Ledger::new(LedgerConfig::default());
    journal.push(l.deposit(Account::Requester(REQ), amt(2_000)).unwrap());
    journal.push(l.deposit(Account::PoolStake, amt(5_000)).unwrap());
    journal.push(l.deposit(Account::Prover(A), amt(500)).unwrap());
    journal.push(
        l.execute(crate::Op::ProverStake {
            prover: A,
            amount: amt(500),
        })
        .unwrap(),
    );
    journal.push(l.escrow(T1, REQ, amt(1_000), 100, 0).unwrap());
    journal.push(l.stake_bond(T1, amt(2_000)).unwrap());
    journal.push(l.escrow(TaskId(2), REQ, amt(1_000), 100, 0).unwrap());
    journal.push(l.lock_collateral(A, T1, amt(200)).unwrap());
    journal.push(l.slash_collateral(A, T1, amt(50)).unwrap());
    journal.push(l.release_collateral(A, T1, amt(150)).unwrap());
    journal.push(l.requester_fault(T1, vec![(A, 1)], 3_000, 10).unwrap());
    journal.push(l.concede(TaskId(2), 20).unwrap());
    let json = serde_json::to_string(&journal).unwrap();
    assert!(json.contains("\"op\":\"requester_fault\""), "{json}");
    assert!(json.contains("\"to\":\"collateral:k-2\""), "{json}");
    let stored: Vec<Entry> = serde_json::from_str(&json).unwrap();
    assert_eq!(Ledger::replay(LedgerConfig::default(), &stored).unwrap(), l);

    // A requester fault that keeps back the refund leaves escrow behind.
    let mut tampered = journal.clone();
    tampered[10]
        .postings
        .retain(|p| p.to != Account::Requester(REQ));
    let err = Ledger::replay(LedgerConfig::default(), &tampered).unwrap_err();
    assert_eq!(err.code(), "journal_mismatch");
    // A concession that pays nothing leaves the escrow behind.
    let mut tampered = journal.clone();
    tampered[11].postings.clear();
    let err = Ledger::replay(LedgerConfig::default(), &tampered).unwrap_err();
    assert_eq!(err.code(), "journal_mismatch");
}
