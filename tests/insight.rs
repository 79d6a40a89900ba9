//! What the page shows where a terminal cannot start: the crash-looping worker's state,
//! its last end and its last words; the distroless container's log; the ways in the
//! person may take, each refused with its reason.

mod common;

use serde_json::Value;

use common::{BEARER, http};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

async fn insight(f: &common::Fixture, headers: &[(&str, &str)], query: &str) -> (u16, Value) {
    let (code, body) = http(f.addr, "POST", "/api/insight", headers, query).await;
    let json = body.split("\r\n\r\n").last().unwrap_or("");
    (
        code,
        serde_json::from_str(json).unwrap_or(Value::String(body)),
    )
}

#[tokio::test]
async fn a_crash_loop_shows_its_state_last_end_and_last_words() {
    let f = common::start().await;
    f.cluster.demo_states().await;
    let (code, seen) = insight(
        &f,
        &[BEARER, FORM],
        "namespace=shop&pod=worker-0&container=worker",
    )
    .await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(seen["state"], "waiting");
    assert_eq!(seen["reason"], "CrashLoopBackOff");
    assert_eq!(seen["last_end"]["exit_code"], 1);
    assert_eq!(seen["last_end"]["reason"], "Error");
    let log = seen["log"].to_string();
    assert!(
        log.contains("FATAL: password authentication failed"),
        "{seen}"
    );
    assert_eq!(seen["debug_denied"], Value::Null);
    assert_eq!(seen["debug_image"], "busybox:1.36");

    let pod = f
        .cluster
        .spec()
        .pods
        .iter()
        .find(|p| p.name.starts_with("payments-"))
        .unwrap()
        .name
        .clone();
    let (code, seen) = insight(
        &f,
        &[BEARER, FORM],
        &format!("namespace=shop&pod={pod}&container=payments"),
    )
    .await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(seen["state"], "running");
    assert!(
        seen["log"].to_string().contains("payments 1.4.2 listening"),
        "{seen}"
    );
    assert_eq!(seen["interactive"], false);

    let (code, seen) = insight(
        &f,
        &[BEARER, FORM],
        "namespace=shop&pod=Bad_Pod&container=x",
    )
    .await;
    assert_ne!(code, 200);
    assert!(seen.to_string().contains("is not a valid name"), "{seen}");
}

#[tokio::test]
async fn each_way_in_says_why_it_is_refused() {
    let f = common::start_behind_proxy().await;
    f.cluster.demo_states().await;
    let bob = [common::BOB[0], common::BOB[1], FORM];
    let (code, seen) = insight(
        &f,
        &bob,
        "context=proxy%40demo&namespace=shop&pod=worker-0&container=worker",
    )
    .await;
    assert_eq!(code, 200, "{seen}");
    assert_eq!(seen["logs_denied"], Value::Null, "viewers read shop's logs");
    assert!(
        seen["debug_denied"]
            .as_str()
            .is_some_and(|why| why.contains("may not add a debug container")),
        "{seen}"
    );
    assert!(
        seen["attach_denied"]
            .as_str()
            .is_some_and(|why| why.contains("may not attach")),
        "{seen}"
    );
}
