//! The dashboard in a real browser: a real node with real provers on loopback proves paid
//! tasks; headless Chromium (Debian's, driven by playwright-core: `tests/browser/dashboard.mjs`)
//! loads the page, signs in with a prover, a requester and the admin key, and every number it
//! shows is compared with what the API returns. Screenshots land in
//! `target/dashboard-screenshots/` (the README's are copies).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zkpool::demo::{submit_circuit_quoted, LocalPool};
use zkpool::fixtures::MULTIPLIER;
use zkpool_client::Client;
use zkpool_ledger::Amount;
use zkpool_prover::Fault;
use zkpool_types::api::Role;
use zkpool_types::settlement::Units;
use zkpool_types::TaskState;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A number as the page writes it (en-US grouping: `80,000`).
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Tokens as the page writes them (`1,234.5 ZKP`).
fn zkp(u: Units) -> String {
    let grouped = grouped(u.0 / 1_000_000);
    let frac = u.0 % 1_000_000;
    if frac == 0 {
        format!("{grouped} ZKP")
    } else {
        let f = format!("{frac:06}");
        format!("{grouped}.{} ZKP", f.trim_end_matches('0'))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_the_api_says_in_a_real_browser() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "Chromium is missing at {chromium}: apt-get install chromium (or set CHROMIUM)"
    );
    let pool = LocalPool::with_config(None, zkpool_node::NodeConfig::default())
        .await
        .unwrap();
    let (_, prover_secret) = pool.prover_key("rig-1", 50).await.unwrap();
    let _agent = pool.spawn_agent("rig-1", prover_secret.clone(), Fault::None, None);
    let _other = pool.spawn_prover("rig-2", Fault::None).await.unwrap();
    let req = pool
        .store
        .create_key(Role::Requester, "dash-requester", 0)
        .await
        .unwrap();
    pool.admin
        .deposit(
            &format!("requester:{}", req.id),
            Amount::from_tokens(100).base_units(),
        )
        .await
        .unwrap();
    let admin = pool
        .store
        .create_key(Role::Admin, "dash-admin", 0)
        .await
        .unwrap();
    let requester = Client::new(&pool.url(), &req.secret).unwrap();
    let mut tasks = Vec::new();
    for v in 0..4 {
        tasks.push(
            submit_circuit_quoted(&requester, &MULTIPLIER, v, Duration::from_secs(600))
                .await
                .unwrap(),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for t in &tasks {
        while requester.task(*t).await.unwrap().state != TaskState::Done {
            assert!(Instant::now() < deadline, "{t} not done");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // What the API says, then what the page shows.
    let prover = Client::new(&pool.url(), &prover_secret).unwrap();
    let me = prover.me().await.unwrap();
    let rewards = prover.rewards().await.unwrap();
    let funds = rewards.funds.iter().find(|f| f.key == me.key).unwrap();
    let my_row = rewards.rows.iter().find(|r| r.key == me.key).unwrap();
    let balance = requester.balance().await.unwrap();
    let ledger = pool.admin.ledger().await.unwrap();
    let keys = pool.admin.list_keys().await.unwrap();
    let fleet = pool.admin.dashboard().await.unwrap();

    let out = repo().join("target/dashboard-screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let secrets = serde_json::json!({
        "prover": prover_secret,
        "requester": req.secret,
        "admin": admin.secret,
    });
    let run = tokio::process::Command::new("node")
        .arg(repo().join("tests/browser/dashboard.mjs"))
        .arg(pool.url())
        .arg(secrets.to_string())
        .arg(&out)
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node (Node.js) runs the browser script");
    assert!(
        run.status.success(),
        "the browser script failed (npm ci installs playwright-core): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let s = |v: &serde_json::Value| v.as_str().unwrap().to_string();

    // The public fleet view.
    let fleet_done = fleet.tasks_by_state.get("done").copied().unwrap_or(0);
    assert_eq!(s(&page["public"]["done"]), fleet_done.to_string());
    assert_eq!(fleet_done, 4);
    assert_eq!(page["public"]["machines"], 2);
    assert_eq!(s(&page["public"]["online"]), "2/2");
    let epoch = fleet.epoch.clone().unwrap();
    assert_eq!(s(&page["public"]["epoch"]), epoch.epoch.to_string());
    assert_eq!(
        s(&page["public"]["epochWork"]),
        grouped(u128::from(epoch.work))
    );
    assert_eq!(s(&page["public"]["epochPool"]), zkp(epoch.reward_pool));
    assert_eq!(
        s(&page["public"]["proofsInHour"]),
        fleet.proofs_per_minute.iter().sum::<u64>().to_string()
    );
    assert_eq!(fleet.proofs_per_minute.iter().sum::<u64>(), 4);

    // A prover's own view.
    assert!(
        s(&page["prover"]["me"]).contains("rig-1"),
        "{}",
        page["prover"]["me"]
    );
    assert_eq!(s(&page["prover"]["balance"]), zkp(funds.balance));
    assert_eq!(s(&page["prover"]["stake"]), zkp(funds.stake));
    assert_eq!(s(&page["prover"]["collateral"]), zkp(funds.collateral));
    assert_eq!(page["prover"]["machines"], 1);
    let mine = fleet
        .provers
        .iter()
        .find(|p| me.machines.contains(&p.id))
        .unwrap();
    assert_eq!(s(&page["prover"]["proofs"]), mine.tasks_done.to_string());
    assert_eq!(
        s(&page["prover"]["rewardTasks"]),
        my_row.tasks_done.to_string()
    );
    assert_eq!(s(&page["prover"]["taskRewards"]), zkp(my_row.task_rewards));
    assert_eq!(page["prover"]["stored"]["session"], true);
    assert_eq!(page["prover"]["stored"]["local"], 0);
    assert_eq!(page["prover"]["stored"]["cookies"], "");

    // A requester's own view: its tasks and funds.
    assert_eq!(s(&page["requester"]["available"]), zkp(balance.available));
    assert_eq!(s(&page["requester"]["escrowed"]), zkp(balance.escrowed));
    assert_eq!(s(&page["requester"]["claimable"]), zkp(balance.claimable));
    let mut shown: Vec<i64> = page["requester"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["state"], "done");
            t["id"].as_i64().unwrap()
        })
        .collect();
    shown.sort();
    assert_eq!(shown, tasks.iter().map(|t| t.0).collect::<Vec<_>>());

    // The admin's view: the books and the keys.
    assert_eq!(s(&page["admin"]["deposited"]), zkp(ledger.deposited));
    assert_eq!(
        s(&page["admin"]["treasury"]),
        zkp(Units(ledger.balance("treasury")))
    );
    assert_eq!(page["admin"]["keys"], keys.len());

    // A key the node does not know is refused with its code; the page works offline and
    // on a phone.
    assert!(
        s(&page["badKey"]).contains("unknown_key"),
        "{}",
        page["badKey"]
    );
    assert_eq!(page["foreign"], serde_json::json!([]));
    assert!(page["narrow"]["scroll"].as_u64() <= page["narrow"]["width"].as_u64());
    for shot in ["fleet", "prover", "requester", "admin", "phone"] {
        assert!(out.join(format!("dashboard-{shot}.png")).exists());
    }
    pool.stop().await;
}
