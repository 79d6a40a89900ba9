//! Debug containers through podterm: one beside a container that has no shell, a shell in
//! it that sees the target's processes and files, reused on a second click, audited;
//! refused with a sentence for bad names, images the operator did not allow, other
//! sites, and people the cluster does not let add one.

mod common;

use serde_json::Value;

use common::{BEARER, http, read_until, start, terminal, type_in};

/// A fresh copy of the demo's distroless pod, running; its name.
async fn distroless_pod(f: &common::Fixture) -> String {
    let mut pod = f
        .cluster
        .spec()
        .pods
        .iter()
        .find(|p| p.name.starts_with("payments-"))
        .expect("the demo's distroless pod")
        .clone();
    pod.name = format!("debug-me-{}", std::process::id());
    f.cluster.put_pod(pod.clone()).await.unwrap();
    f.cluster.running("shop", &pod.name).await;
    pod.name
}

#[tokio::test]
async fn a_debug_container_gets_into_a_pod_without_a_shell() {
    let f = start().await;
    let pod = distroless_pod(&f).await;
    let path = format!("/api/debug/shop/{pod}/payments");

    let (code, body) = http(f.addr, "POST", &path, &[BEARER], "").await;
    assert_eq!(code, 200, "{body}");
    let started: Value = serde_json::from_str(body.split("\r\n\r\n").last().unwrap()).unwrap();
    let container = started["container"].as_str().unwrap().to_string();
    assert!(container.starts_with("podterm-debug-"), "{started}");
    assert_eq!(started["reused"], false);
    assert_eq!(started["user"], 65532, "the target's user");

    // A second click: the same container, not one more in the pod's spec.
    let (code, body) = http(f.addr, "POST", &path, &[BEARER], "").await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(&container) && body.contains(r#""reused":true"#),
        "{body}"
    );

    // A shell in it sees the target's processes and, through /proc/1/root, its files.
    let mut ws = terminal(&f, &format!("/ws/exec/shop/{pod}/{container}")).await;
    type_in(
        &mut ws,
        "id -u; ps -o user,args; cat /proc/1/root/etc/os-release\n",
    )
    .await;
    let (out, _) = read_until(&mut ws, b"ID=distroless").await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("/app/server"), "{out}");
    assert!(out.contains("65532"), "{out}");

    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    let added: Vec<Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["audit"] == "debug_container_added")
        .collect();
    assert_eq!(added.len(), 1, "one added, one reused: {audit}");
    assert_eq!(added[0]["pod"], pod.as_str());
    assert_eq!(added[0]["container"], container.as_str());
    assert_eq!(added[0]["target"], "payments");
    assert_eq!(added[0]["image"], "busybox:1.36");

    let cases: &[(&str, u16, &str)] = &[
        (
            "/api/debug/shop/{pod}/nope",
            404,
            "has no container \"nope\"",
        ),
        (
            "/api/debug/shop/{pod}/payments?image=alpine:3",
            400,
            "choose one of: busybox:1.36",
        ),
        (
            "/api/debug/shop/Bad_Pod/payments",
            400,
            "is not a valid name",
        ),
        ("/api/debug/shop/ghost/payments", 404, "not found"),
        (
            "/api/debug/shop/db-migrate-29xkq/migrate",
            400,
            "has ended (Succeeded)",
        ),
    ];
    for (case, code, text) in cases {
        let path = case.replace("{pod}", &pod);
        let (got, body) = http(f.addr, "POST", &path, &[BEARER], "").await;
        assert_eq!(got, *code, "{path}: {body}");
        assert!(body.contains(text), "{path}: {body}");
    }
    // Another site's page may not add one, whatever the credentials.
    let (code, body) = http(
        f.addr,
        "POST",
        &path,
        &[BEARER, ("Origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(code, 403, "{body}");
    let _ = f.cluster.delete_pod("shop", &pod).await;
}

#[tokio::test]
async fn only_people_the_cluster_lets_add_a_debug_container_may() {
    let f = common::start_behind_proxy().await;
    let path = "/api/debug/shop/worker-0/sidecar?context=proxy%40demo";
    let (code, body) = http(f.addr, "POST", path, &common::BOB, "").await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body.contains("not allowed: you may not add a debug container to pod worker-0"),
        "{body}"
    );
    // Alice may.
    let (code, body) = http(f.addr, "POST", path, &common::ALICE, "").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("podterm-debug-"), "{body}");
}
