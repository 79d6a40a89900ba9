//! The official Python client (`kubernetes` from PyPI) runs the seed articles' exec call.

mod common;

use std::time::Duration;

use common::{start, text};

async fn run_seed_client(
    tc: &testcluster::TestCluster,
    ns: &str,
    pod: &str,
    container: &str,
) -> serde_json::Value {
    // The checkout as `cargo test` names it: the path compiled in can be another checkout's,
    // as checkouts share one target directory.
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let script = format!("{root}/tests/python/seed_client.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new(&python)
            .arg(script)
            .arg(tc.kubeconfig_path())
            .args([ns, pod, container])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the Python client finished in time")
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "the Python client failed (the README's test command installs it: pip install kubernetes):\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[tokio::test]
async fn seed_command_gets_bash_where_it_exists() {
    let tc = start().await;
    let seen = run_seed_client(&tc, "default", "toolbox", "shell").await;
    assert!(seen["first"].as_str().unwrap().contains("marker-42"));
    assert!(
        seen["second"].as_str().unwrap().contains("33 111"),
        "resize on channel 4 reached the PTY: {seen}"
    );
    assert!(
        seen["third"].as_str().unwrap().contains("shell=/bin/bash"),
        "{seen}"
    );
    assert_eq!(seen["open"], false, "the stream ends after exit");
}

#[tokio::test]
async fn seed_command_falls_back_to_sh_on_busybox() {
    let tc = start().await;
    let seen = run_seed_client(&tc, "default", "busybox", "busybox").await;
    assert!(
        seen["second"].as_str().unwrap().contains("33 111"),
        "{seen}"
    );
    assert!(
        seen["third"].as_str().unwrap().contains("shell=/bin/sh"),
        "{seen}"
    );
}
