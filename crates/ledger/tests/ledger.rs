//! Integration tests: the ledger's flows and every refusal, a proptest state machine over
//! random operation sequences with restarts, and ignored timing runs for the epoch and quote
//! signing (they print; they assert nothing about time).

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use zkpool_ledger::{
    bench, Account, Amount, Entry, EpochId, EpochStatus, Ledger, LedgerConfig, LedgerError, Op,
    PenaltyMode, TaskStatus,
};
use zkpool_types::{KeyId, TaskId};

const REQ: KeyId = KeyId(1);
const T1: TaskId = TaskId(1);

fn amt(units: u128) -> Amount {
    Amount::from_base_units(units)
}

/// A ledger where requester 1 holds 1_000, the pool stake 5_000, and task 1 is escrowed
/// (reward 1_000, deadline 100) and bonded (2_000).
fn funded() -> Ledger {
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Requester(REQ), amt(1_000)).unwrap();
    l.deposit(Account::PoolStake, amt(5_000)).unwrap();
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
fn release_splits_by_work_and_returns_the_bond() {
    let mut l = funded();
    let (p1, p2, p3) = (KeyId(1), KeyId(2), KeyId(3));
    // p1 proved two segments, p2 one, p3 one: work 2 + 1 + 1 (p1 listed twice).
    let e = l
        .release(T1, vec![(p1, 1), (p2, 1), (p1, 1), (p3, 1)], 99)
        .unwrap();
    // 80 % of 1_000 = 800 → 400 / 200 / 200; fee 200 to the treasury; bond back.
    assert_eq!(l.balance(&Account::Prover(p1)), amt(400));
    assert_eq!(l.balance(&Account::Prover(p2)), amt(200));
    assert_eq!(l.balance(&Account::Prover(p3)), amt(200));
    assert_eq!(l.balance(&Account::Treasury), amt(200));
    assert_eq!(l.balance(&Account::PoolStake), amt(5_000));
    assert_eq!(l.task(T1).unwrap().status, TaskStatus::Released);
    assert_eq!(e.postings.len(), 5);
    refused(&mut l, "already_settled", |l| {
        l.release(T1, vec![(p1, 1)], 50)
    });
    refused(&mut l, "already_settled", |l| l.claim(T1, 500));
}

#[test]
fn release_remainders_go_to_the_treasury() {
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Requester(REQ), amt(101)).unwrap();
    l.escrow(T1, REQ, amt(101), 10, 0).unwrap();
    l.release(T1, vec![(KeyId(1), 1), (KeyId(2), 2)], 5)
        .unwrap();
    // provers' share floor(101 × 0.8) = 80 → 26 and 53 (floors), remainder 1; fee 21.
    assert_eq!(l.balance(&Account::Prover(KeyId(1))), amt(26));
    assert_eq!(l.balance(&Account::Prover(KeyId(2))), amt(53));
    assert_eq!(l.balance(&Account::Treasury), amt(22));
}

#[test]
fn claim_pays_refund_and_bond_once_after_the_window() {
    let mut l = funded();
    refused(&mut l, "window_not_closed", |l| l.claim(T1, 99));
    l.claim(T1, 100).unwrap();
    assert_eq!(l.balance(&Account::Requester(REQ)), amt(3_000));
    assert_eq!(l.balance(&Account::PoolStake), amt(3_000));
    assert_eq!(l.task(T1).unwrap().status, TaskStatus::Claimed);
    refused(&mut l, "already_settled", |l| l.claim(T1, 200));
    refused(&mut l, "already_settled", |l| l.stake_bond(T1, amt(1)));
}

#[test]
fn release_after_the_deadline_loses_to_the_claim() {
    let mut l = funded();
    refused(&mut l, "window_closed", |l| {
        l.release(T1, vec![(KeyId(1), 1)], 100)
    });
    refused(&mut l, "window_closed", |l| {
        l.escrow(TaskId(2), REQ, amt(1), 10, 10)
    });
}

#[test]
fn every_bad_input_has_its_code() {
    let mut l = funded();
    let p = KeyId(9);
    refused(&mut l, "insufficient_funds", |l| {
        l.escrow(TaskId(2), REQ, amt(1), 100, 0)
    });
    refused(&mut l, "unknown_task", |l| l.stake_bond(TaskId(9), amt(1)));
    refused(&mut l, "unknown_task", |l| l.claim(TaskId(9), 1_000));
    refused(&mut l, "duplicate_task", |l| {
        l.escrow(T1, REQ, amt(1), 100, 0)
    });
    refused(&mut l, "already_bonded", |l| l.stake_bond(T1, amt(1)));
    refused(&mut l, "unknown_account", |l| {
        l.withdraw(Account::Prover(p), amt(1))
    });
    refused(&mut l, "unknown_account", |l| l.penalty(p, amt(1)));
    refused(&mut l, "unknown_account", |l| {
        l.pay_epoch(EpochId(1), vec![])
    });
    refused(&mut l, "wrong_account", |l| {
        l.deposit(Account::Escrow(T1), amt(1))
    });
    refused(&mut l, "wrong_account", |l| {
        l.withdraw(Account::PoolStake, amt(1))
    });
    refused(&mut l, "invalid_input", |l| {
        l.deposit(Account::Treasury, Amount::ZERO)
    });
    refused(&mut l, "invalid_input", |l| l.release(T1, vec![], 1));
    refused(&mut l, "invalid_input", |l| l.release(T1, vec![(p, 0)], 1));
    // Overdraw: the requester spent everything on the escrow.
    l.deposit(Account::Requester(REQ), amt(5)).unwrap();
    refused(&mut l, "insufficient_funds", |l| {
        l.withdraw(Account::Requester(REQ), amt(6))
    });
    l.escrow(TaskId(2), REQ, amt(5), 100, 0).unwrap();
    refused(&mut l, "insufficient_funds", |l| {
        l.stake_bond(TaskId(2), amt(3_001))
    });
    // Overflow: the running deposit total cannot pass u128::MAX.
    refused(&mut l, "overflow", |l| {
        l.deposit(Account::Treasury, Amount::MAX)
    });
}

#[test]
fn penalties_take_stake_then_balance_capped_or_strict() {
    let p = KeyId(4);
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Prover(p), amt(100)).unwrap();
    l.execute(Op::ProverStake {
        prover: p,
        amount: amt(30),
    })
    .unwrap();
    l.penalty(p, amt(50)).unwrap();
    assert_eq!(l.balance(&Account::ProverStake(p)), Amount::ZERO);
    assert_eq!(l.balance(&Account::Prover(p)), amt(50));
    l.penalty(p, amt(1_000)).unwrap();
    assert_eq!(l.balance(&Account::Prover(p)), Amount::ZERO);
    assert_eq!(l.balance(&Account::Treasury), amt(100));

    let strict = LedgerConfig {
        penalty_mode: PenaltyMode::Strict,
        ..LedgerConfig::default()
    };
    let mut l = Ledger::new(strict);
    l.deposit(Account::Prover(p), amt(10)).unwrap();
    refused(&mut l, "insufficient_funds", |l| l.penalty(p, amt(11)));
    l.penalty(p, amt(10)).unwrap();
}

#[test]
fn epochs_pay_exactly_their_pool_once() {
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Treasury, amt(1_000)).unwrap();
    let e = EpochId(3);
    l.fund_epoch(e, amt(700)).unwrap();
    let shares = vec![(KeyId(1), amt(300)), (KeyId(2), amt(399))];
    refused(&mut l, "insufficient_funds", |l| {
        l.pay_epoch(e, vec![(KeyId(1), amt(701))])
    });
    l.pay_epoch(e, shares.clone()).unwrap();
    assert_eq!(l.balance(&Account::EpochPool(e)), Amount::ZERO);
    assert_eq!(l.balance(&Account::Treasury), amt(301));
    assert_eq!(l.epoch(e), Some(EpochStatus::Settled));
    refused(&mut l, "epoch_settled", |l| l.pay_epoch(e, shares));
    refused(&mut l, "epoch_settled", |l| l.fund_epoch(e, amt(1)));
}

#[test]
fn replay_rejects_gaps_and_rebuilds_equal_state() {
    let mut l = funded();
    let mut journal = Vec::new();
    let mut fresh = Ledger::new(LedgerConfig::default());
    // Rebuild `funded()`'s journal by re-executing it on a recorder.
    journal.push(fresh.deposit(Account::Requester(REQ), amt(1_000)).unwrap());
    journal.push(fresh.deposit(Account::PoolStake, amt(5_000)).unwrap());
    journal.push(fresh.escrow(T1, REQ, amt(1_000), 100, 0).unwrap());
    journal.push(fresh.stake_bond(T1, amt(2_000)).unwrap());
    assert_eq!(fresh, l);
    journal.push(l.release(T1, vec![(KeyId(1), 1)], 10).unwrap());
    assert_eq!(
        Ledger::replay(LedgerConfig::default(), &journal).unwrap(),
        l
    );

    let mut gap = journal.clone();
    gap.remove(1);
    let err = Ledger::replay(LedgerConfig::default(), &gap).unwrap_err();
    assert_eq!(err.code(), "journal_mismatch");
    assert!(!err.is_client_error());

    // A tampered release that leaves escrow behind is refused on replay.
    let mut tampered = journal.clone();
    tampered[4].postings.pop();
    let err = Ledger::replay(LedgerConfig::default(), &tampered).unwrap_err();
    assert_eq!(err.code(), "journal_mismatch");
}

// ---------- property tests ----------

#[derive(Clone, Debug)]
enum Action {
    Do(Op),
    Restart,
}

/// Mostly small amounts, sometimes one near `u128::MAX` to provoke overflow.
fn amount(max: u128) -> impl Strategy<Value = Amount> {
    prop_oneof![
        30 => (0u128..max).prop_map(Amount::from_base_units),
        1 => (0u128..4).prop_map(|d| Amount::from_base_units(u128::MAX - d)),
    ]
}

/// Collateral per lease: mostly a small part of a stake, so that locks, releases and slashes
/// all happen; sometimes anything, so that they are refused too.
fn collateral_amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        4 => (0u128..80).prop_map(Amount::from_base_units),
        1 => amount(300),
    ]
}

/// Mostly accounts that accept deposits, sometimes one that does not.
fn owner_account() -> impl Strategy<Value = Account> {
    prop_oneof![
        4 => (0i64..3).prop_map(|k| Account::Requester(KeyId(k))),
        4 => (0i64..4).prop_map(|p| Account::Prover(KeyId(p))),
        1 => Just(Account::Treasury),
        2 => Just(Account::PoolStake),
        1 => (0i64..4).prop_map(|t| Account::Escrow(TaskId(t))),
        1 => (0i64..4).prop_map(|p| Account::Collateral(KeyId(p))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let task = (0i64..5).prop_map(TaskId);
    let prover = (0i64..4).prop_map(KeyId);
    let epoch = (0u64..2).prop_map(EpochId);
    // Deadlines 50..200; "now" mostly before them at escrow, anywhere at release/claim.
    let time = 0u64..200;
    prop_oneof![
        4 => (owner_account(), amount(2_000))
            .prop_map(|(to, amount)| Op::Deposit { to, amount }),
        1 => (owner_account(), amount(2_000))
            .prop_map(|(from, amount)| Op::Withdraw { from, amount }),
        4 => (task.clone(), 0i64..3, amount(400), 50u64..200, 0u64..60).prop_map(
            |(task, k, amount, deadline_ms, now_ms)| Op::Escrow {
                task,
                requester: KeyId(k),
                amount,
                deadline_ms,
                now_ms,
            }
        ),
        3 => (task.clone(), amount(600))
            .prop_map(|(task, amount)| Op::StakeBond { task, amount }),
        4 => (
            task.clone(),
            prop::collection::vec((prover.clone(), 0u64..5), 0..5),
            time.clone()
        )
            .prop_map(|(task, work, now_ms)| Op::Release { task, work, now_ms }),
        3 => (task.clone(), time.clone()).prop_map(|(task, now_ms)| Op::Claim { task, now_ms }),
        2 => (
            task.clone(),
            prop::collection::vec((prover.clone(), 0u64..5), 0..5),
            prop_oneof![Just(0u32), Just(10_000), 0u32..=10_000, 10_001u32..20_000],
            time.clone()
        )
            .prop_map(|(task, work, pay_bps, now_ms)| Op::RequesterFault {
                task,
                work,
                pay_bps,
                now_ms,
            }),
        2 => (task.clone(), time).prop_map(|(task, now_ms)| Op::Concede { task, now_ms }),
        3 => (prover.clone(), task.clone(), collateral_amount())
            .prop_map(|(prover, task, amount)| Op::LockCollateral { prover, task, amount }),
        2 => (prover.clone(), task.clone(), collateral_amount())
            .prop_map(|(prover, task, amount)| Op::ReleaseCollateral { prover, task, amount }),
        2 => (prover.clone(), task, collateral_amount())
            .prop_map(|(prover, task, amount)| Op::SlashCollateral { prover, task, amount }),
        1 => (prover.clone(), amount(300))
            .prop_map(|(prover, amount)| Op::Penalty { prover, amount }),
        2 => (prover.clone(), amount(300))
            .prop_map(|(prover, amount)| Op::ProverStake { prover, amount }),
        1 => (prover.clone(), amount(300))
            .prop_map(|(prover, amount)| Op::ProverUnstake { prover, amount }),
        1 => amount(500).prop_map(|amount| Op::PoolStake { amount }),
        1 => amount(500).prop_map(|amount| Op::PoolUnstake { amount }),
        1 => (epoch.clone(), amount(300))
            .prop_map(|(epoch, amount)| Op::FundEpoch { epoch, amount }),
        1 => (epoch, prop::collection::vec((prover, amount(200)), 0..4))
            .prop_map(|(epoch, shares)| Op::PayEpoch { epoch, shares }),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![20 => op().prop_map(Action::Do), 1 => Just(Action::Restart)]
}

fn config() -> impl Strategy<Value = LedgerConfig> {
    (0u32..=10_000, any::<bool>()).prop_map(|(bps, strict)| LedgerConfig {
        prover_share_bps: bps,
        penalty_mode: if strict {
            PenaltyMode::Strict
        } else {
            PenaltyMode::Capped
        },
    })
}

/// Sum of postings out of `from` in `entry`.
fn paid_out(entry: &Entry, from: Account) -> u128 {
    entry
        .postings
        .iter()
        .filter(|p| p.from == from)
        .map(|p| p.amount.base_units())
        .sum()
}

/// For the collateral ops: the account the amount comes out of, and the amount.
fn collateral_source(op: &Op) -> Option<(Account, Amount)> {
    match op {
        Op::LockCollateral { prover, amount, .. } => Some((Account::ProverStake(*prover), *amount)),
        Op::ReleaseCollateral { prover, amount, .. }
        | Op::SlashCollateral { prover, amount, .. } => {
            Some((Account::Collateral(*prover), *amount))
        }
        _ => None,
    }
}

/// Sum of postings into accounts matching `to` in `entry`.
fn paid_in(entry: &Entry, to: impl Fn(&Account) -> bool) -> u128 {
    entry
        .postings
        .iter()
        .filter(|p| to(&p.to))
        .map(|p| p.amount.base_units())
        .sum()
}

/// What one accepted entry may move, given the ledger `before` it and `after` it.
fn check_entry(
    before: &Ledger,
    after: &Ledger,
    entry: &Entry,
    cfg: LedgerConfig,
) -> Result<(), TestCaseError> {
    let op = &entry.op;
    let pools_fault = matches!(op, Op::Claim { .. } | Op::Concede { .. });
    let moves_collateral = matches!(
        op,
        Op::LockCollateral { .. } | Op::ReleaseCollateral { .. } | Op::SlashCollateral { .. }
    );
    for p in &entry.postings {
        prop_assert!(!p.amount.is_zero(), "zero posting in {:?}", op);
        // The bond (or the stake behind it) reaches a requester only on the pool's fault.
        if matches!(p.from, Account::Bond(_) | Account::PoolStake) {
            prop_assert!(
                !matches!(p.to, Account::Requester(_)) || pools_fault,
                "{:?} paid a bond to a requester",
                op
            );
        }
        if let Account::Bond(_) = p.from {
            prop_assert!(
                pools_fault || p.to == Account::PoolStake,
                "{:?} moved a bond",
                op
            );
        }
        let touches = |a: &Account| matches!(a, Account::Collateral(_));
        prop_assert!(
            moves_collateral || !(touches(&p.from) || touches(&p.to)),
            "{:?} moved collateral",
            op
        );
    }
    match op {
        Op::Release { task, .. }
        | Op::Claim { task, .. }
        | Op::RequesterFault { task, .. }
        | Op::Concede { task, .. } => {
            // Settling drains escrow and bond completely, at once.
            let rec = before.task(*task).unwrap();
            prop_assert_eq!(
                paid_out(entry, Account::Escrow(*task)),
                rec.reward.base_units()
            );
            prop_assert_eq!(paid_out(entry, Account::Bond(*task)), rec.bond.base_units());
            prop_assert!(after.balance(&Account::Escrow(*task)).is_zero());
            prop_assert!(after.balance(&Account::Bond(*task)).is_zero());
            let to_provers = paid_in(entry, |a| matches!(a, Account::Prover(_)));
            let to_requester = paid_in(entry, |a| *a == Account::Requester(rec.requester));
            match op {
                Op::Release { .. } => {
                    // Provers get at most their share, the treasury the rest.
                    let (share, _) = rec.reward.split_bps(cfg.prover_share_bps);
                    prop_assert!(to_provers <= share.base_units());
                    prop_assert_eq!(to_requester, 0);
                }
                Op::RequesterFault { work, pay_bps, .. } => {
                    // Provers get at most the pay for their time; the requester the rest of
                    // the escrow (all of it when nobody worked); nobody else loses anything.
                    let (pay, rest) = rec.reward.split_bps(*pay_bps);
                    prop_assert!(to_provers <= pay.base_units());
                    let worked = work.iter().any(|(_, w)| *w > 0);
                    let refund = if worked { rest } else { rec.reward };
                    prop_assert_eq!(to_requester, refund.base_units());
                    prop_assert_eq!(
                        after.task(*task).unwrap().status,
                        TaskStatus::RequesterFault
                    );
                }
                _ => prop_assert_eq!(
                    to_requester,
                    rec.reward.base_units() + rec.bond.base_units()
                ),
            }
        }
        Op::PayEpoch { epoch, .. } => {
            let pool = before.balance(&Account::EpochPool(*epoch));
            prop_assert_eq!(
                paid_out(entry, Account::EpochPool(*epoch)),
                pool.base_units()
            );
        }
        _ => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_every_invariant(
        cfg in config(),
        staked in any::<bool>(),
        actions in prop::collection::vec(action(), 1..80),
    ) {
        let mut ledger = Ledger::new(cfg);
        let mut journal: Vec<Entry> = Vec::new();
        if staked {
            // Half the runs start with every prover key holding stake, so that collateral
            // is locked, released and slashed often; the other half start empty.
            for k in (0..4).map(KeyId) {
                journal.push(ledger.deposit(Account::Prover(k), amt(1_000)).unwrap());
                journal.push(ledger.execute(Op::ProverStake { prover: k, amount: amt(600) }).unwrap());
            }
        }
        let mut settled: HashMap<TaskId, u32> = HashMap::new();
        let mut bonds_returned: HashMap<TaskId, u32> = HashMap::new();
        let mut epochs_paid: HashMap<EpochId, u32> = HashMap::new();
        // The model of each key's collateral: locks − releases − slashes.
        let mut collateral: HashMap<KeyId, i128> = HashMap::new();

        for action in actions {
            let op = match action {
                Action::Restart => {
                    // Persist as JSON, read back, replay: the node's restart path.
                    let json = serde_json::to_string(&journal).unwrap();
                    let stored: Vec<Entry> = serde_json::from_str(&json).unwrap();
                    let rebuilt = Ledger::replay(cfg, &stored).unwrap();
                    prop_assert_eq!(&rebuilt, &ledger);
                    ledger = rebuilt;
                    continue;
                }
                Action::Do(op) => op,
            };
            let before = ledger.clone();
            // Plan, then apply, as the node does; a planned entry must always apply.
            let planned = ledger.plan(op.clone());
            prop_assert_eq!(&ledger, &before, "plan changed state");
            if let Ok(entry) = &planned {
                prop_assert_eq!(ledger.apply(entry), Ok(()), "planned {:?} did not apply", op);
            }
            // Collateral moves exactly when the stake (or the locked amount) covers it.
            if let Some((from, amount)) = collateral_source(&op) {
                let covered = !amount.is_zero() && amount <= before.balance(&from);
                prop_assert_eq!(planned.is_ok(), covered, "{:?}: {:?}", op, planned);
            }
            match planned {
                Err(_) => prop_assert_eq!(&ledger, &before, "refused {:?} changed state", op),
                Ok(entry) => {
                    prop_assert_eq!(entry.seq, journal.len() as u64);
                    check_entry(&before, &ledger, &entry, cfg)?;
                    match &entry.op {
                        Op::Release { task, .. }
                        | Op::Claim { task, .. }
                        | Op::RequesterFault { task, .. }
                        | Op::Concede { task, .. } => {
                            *settled.entry(*task).or_default() += 1;
                            if before.task(*task).unwrap().bond > Amount::ZERO {
                                *bonds_returned.entry(*task).or_default() += 1;
                            }
                        }
                        Op::LockCollateral { prover, amount, .. } => {
                            *collateral.entry(*prover).or_default() += amount.base_units() as i128;
                        }
                        Op::ReleaseCollateral { prover, amount, .. }
                        | Op::SlashCollateral { prover, amount, .. } => {
                            *collateral.entry(*prover).or_default() -= amount.base_units() as i128;
                        }
                        Op::PayEpoch { epoch, .. } => {
                            *epochs_paid.entry(*epoch).or_default() += 1;
                        }
                        _ => {}
                    }
                    journal.push(entry);
                }
            }
            // Conservation: everything held = deposited − withdrawn.
            let held = ledger.total_held().unwrap().base_units();
            prop_assert_eq!(held,
                ledger.deposited().base_units() - ledger.withdrawn().base_units());
            prop_assert!(settled.values().all(|n| *n <= 1), "a task settled twice");
            prop_assert!(bonds_returned.values().all(|n| *n <= 1), "a bond paid twice");
            prop_assert!(epochs_paid.values().all(|n| *n <= 1), "an epoch paid twice");
            for k in (0..4).map(KeyId) {
                let model = collateral.get(&k).copied().unwrap_or(0);
                prop_assert!(model >= 0, "collateral of {} went negative", k);
                prop_assert_eq!(ledger.balance(&Account::Collateral(k)).base_units() as i128,
                    model, "collateral of {}", k);
            }
        }
        // Settled tasks and epochs hold nothing; open ones hold exactly their record.
        for t in 0..5 {
            let t = TaskId(t);
            if let Some(rec) = ledger.task(t) {
                let (escrow, bond) = (ledger.balance(&Account::Escrow(t)),
                    ledger.balance(&Account::Bond(t)));
                if rec.status.is_settled() {
                    prop_assert!(escrow.is_zero() && bond.is_zero());
                    prop_assert_eq!(settled.get(&t), Some(&1));
                } else {
                    prop_assert_eq!((escrow, bond), (rec.reward, rec.bond));
                }
            }
        }
        // Epoch stake is unlocked stake plus collateral.
        let stakes = ledger.prover_stakes();
        for k in (0..4).map(KeyId) {
            let want = ledger.balance(&Account::ProverStake(k)).base_units()
                + ledger.balance(&Account::Collateral(k)).base_units();
            prop_assert_eq!(stakes.get(&k).map_or(0, |a| a.base_units()), want);
        }
        prop_assert_eq!(&Ledger::replay(cfg, &journal).unwrap(), &ledger);
    }

    /// Any allocation sums to exactly its pool and pays nobody with zero weight.
    #[test]
    fn allocations_pay_exactly_the_pool(
        pool in any::<u128>(),
        parts in prop::collection::vec((0u128..1_000_000, 0u128..1_000_000), 0..40),
        a in 0.0f64..3.0,
        b in 0.0f64..3.0,
    ) {
        let contributions: Vec<_> = parts.iter().enumerate()
            .map(|(i, (w, s))| zkpool_ledger::Contribution { key: i, work: *w, stake: *s })
            .collect();
        let exps = zkpool_ledger::Exponents { work: a, stake: b };
        let alloc = zkpool_ledger::epoch::allocate(amt(pool), &contributions, exps).unwrap();
        let paid: u128 = alloc.shares.iter().map(|(_, s)| s.base_units()).sum();
        prop_assert_eq!(paid.checked_add(alloc.remainder.base_units()), Some(pool));
        for (k, _) in &alloc.shares {
            let c = &contributions[*k];
            prop_assert!((c.work > 0 || a == 0.0) && (c.stake > 0 || b == 0.0));
        }
    }
}

/// Epoch allocation paid through the ledger: the pool is paid out exactly.
#[test]
fn settled_epoch_allocation_pays_through_the_ledger() {
    let load = bench::synthetic_epoch(50, 5_000, 3);
    let alloc = load.settle().unwrap();
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Treasury, load.pool).unwrap();
    l.fund_epoch(EpochId(1), load.pool).unwrap();
    l.pay_epoch(EpochId(1), alloc.shares.clone()).unwrap();
    let to_provers: u128 = alloc.shares.iter().map(|(_, a)| a.base_units()).sum();
    assert_eq!(l.balance(&Account::Treasury), alloc.remainder);
    assert_eq!(
        to_provers + alloc.remainder.base_units(),
        load.pool.base_units()
    );
}

/// `cargo test -p zkpool-ledger --release -- --ignored --nocapture timing`
#[test]
#[ignore = "timing run; prints, asserts nothing about time"]
fn timing_epoch_settlement_and_quote_signing() {
    use std::time::Instant;
    use zkpool_ledger::{Quote, QuoteSigner};

    let load = bench::synthetic_epoch(10_000, 1_000_000, 7);
    let start = Instant::now();
    let alloc = load.settle().unwrap();
    let settle = start.elapsed();
    let mut l = Ledger::new(LedgerConfig::default());
    l.deposit(Account::Treasury, load.pool).unwrap();
    l.fund_epoch(EpochId(1), load.pool).unwrap();
    let start = Instant::now();
    l.pay_epoch(EpochId(1), alloc.shares.clone()).unwrap();
    let pay = start.elapsed();
    println!(
        "epoch: 10k provers / 1M tasks: allocate {settle:?}, ledger pay_epoch {pay:?} ({} shares)",
        alloc.shares.len()
    );

    let signer = QuoteSigner::from_bytes(&[1; 32]).unwrap();
    let n = 2_000u64;
    let quote = |nonce| Quote {
        task_digest: [9; 32],
        requester: KeyId(1),
        payer: Default::default(),
        verifier: Default::default(),
        public_inputs_hash: [0; 32],
        segments: 0,
        reward: amt(1),
        bond: amt(2),
        deadline_ms: 10,
        expires_at_ms: 5,
        nonce,
        pool: signer.address(),
        chain_id: 1,
    };
    let start = Instant::now();
    for nonce in 0..n {
        signer.sign(quote(nonce)).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "quotes: {:.0} signed/s ({n} in {secs:.3} s)",
        n as f64 / secs
    );
}
