//! The node's OpenAPI document against the node itself: schemathesis (from PyPI, `pip install
//! -r requirements-test.txt`) reads `GET /openapi.json` from a real `zkpool node` and sends it
//! requests generated from the document, with an admin, a requester and a prover key in turn.
//! No generated input may get a 5xx, and every answer must carry a documented status, the
//! documented content type and a body matching its schema.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{create_key, start_node_with};

/// Examples schemathesis generates per operation and key.
const EXAMPLES: &str = "30";

fn get(port: u16, path: &str) -> (u16, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn schemathesis(port: u16, key: &str, who: &str, report: &Path) -> std::process::Output {
    Command::new("python3")
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("http://127.0.0.1:{port}/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance",
            "--max-examples",
            EXAMPLES,
            "--generation-deterministic",
            "--phases",
            "examples,coverage,fuzzing",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "junit",
        ])
        .arg("--report-junit-path")
        .arg(report.join(format!("{who}.xml")))
        // Its example database (.schemathesis/) goes with the run, not into the checkout.
        .current_dir(report.parent().unwrap())
        .output()
        .expect("python3 is needed for the OpenAPI test")
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let dir = tempfile::tempdir().unwrap();
    // Budgets out of the way (the generator sends thousands of requests), and lease requests
    // answered at once instead of long-polling.
    let unlimited = "100000/100000";
    let (_node, port) = start_node_with(
        dir.path(),
        0,
        &[
            "--requester-rate",
            unlimited,
            "--prover-rate",
            unlimited,
            "--admin-rate",
            unlimited,
            "--anonymous-rate",
            unlimited,
            "--tarpit",
            "0",
            "--max-long-poll",
            "0",
        ],
    );
    let (status, doc) = get(port, "/openapi.json");
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"].as_object().unwrap().len() >= 30);

    let admin = std::fs::read_to_string(dir.path().join("admin.key")).unwrap();
    let keys = [
        ("admin", admin.trim().to_string()),
        ("requester", create_key(dir.path(), "requester", "fuzz-req")),
        ("prover", create_key(dir.path(), "prover", "fuzz-prover")),
    ];
    let report = dir.path().join("schemathesis");
    let mut failed = Vec::new();
    for (who, key) in &keys {
        let out = schemathesis(port, key, who, &report);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("No module named"),
            "schemathesis is not installed: pip install -r requirements-test.txt\n{text}"
        );
        eprintln!("--- schemathesis with the {who} key ---\n{text}");
        if !out.status.success() {
            failed.push(*who);
        }
    }
    assert!(
        failed.is_empty(),
        "schemathesis found answers off the document with the {failed:?} key(s); see above"
    );
    // The node is still up and answering after all of it.
    assert_eq!(get(port, "/healthz"), (200, "ok".to_string()));
}
