//! Containers' logs through podterm: read, followed as they grow, the previous instance of
//! a crash-looping container; names checked, the cluster asked first, Origin checked.

mod common;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{BEARER, get, http, start};

#[tokio::test]
async fn logs_are_read_and_followed_as_the_person_may() {
    let f = start().await;
    f.cluster.demo_states().await;

    // the crash-looping worker: what it said before it died, now and the time before
    for previous in ["false", "true"] {
        let path = format!("/api/logs/shop/worker-0/worker?previous={previous}");
        let (code, text) = get(f.addr, &path).await;
        assert_eq!(code, 200, "{text}");
        assert!(text.contains("text/plain; charset=utf-8"), "{text}");
        assert!(
            text.contains("worker 2.4.1 starting") && text.contains("FATAL: password"),
            "{text}"
        );
    }
    // the job that ran once; the last line only
    let (code, text) = get(f.addr, "/api/logs/shop/db-migrate-29xkq/migrate?tail=1").await;
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("migrations complete") && !text.contains("applying"),
        "{text}"
    );

    // a follow: lines arrive as the sidecar writes them, timestamped when asked
    let follow =
        "/api/logs/shop/web-7d4b9c6f5-abcde/log-shipper?follow=true&tail=1&timestamps=true";
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let request = format!(
        "GET {follow} HTTP/1.1\r\nHost: {}\r\n{}: {}\r\n\r\n",
        f.addr, BEARER.0, BEARER.1
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while seen.matches("shipped batch").count() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a line within 10 s")
            .unwrap();
        assert!(n > 0, "the follow ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        seen.contains("\x1b[32mINFO\x1b[0m"),
        "colours pass through: {seen:?}"
    );
    let year = jiff::Timestamp::now().strftime("%Y-").to_string();
    assert!(seen.contains(&year), "timestamps: {seen}");
    drop(stream);

    // errors read as sentences
    let cases: &[(&str, u16, &str)] = &[
        (
            "/api/logs/shop/worker-0/nope",
            400,
            "container nope is not valid for pod worker-0",
        ),
        ("/api/logs/shop/ghost/app", 404, "pods \"ghost\" not found"),
        ("/api/logs/shop/Bad_Name/app", 400, "is not a valid name"),
        (
            "/api/logs/default/toolbox/shell?previous=true",
            400,
            "previous terminated container",
        ),
        ("/api/logs/default/toolbox/shell?tail=-1", 400, "0 or more"),
        (
            "/api/logs/default/toolbox/shell?since_time=yesterday",
            400,
            "is not a time",
        ),
        (
            "/api/logs/default/toolbox/shell?context=nowhere",
            404,
            "no cluster context named",
        ),
    ];
    for (path, code, text) in cases {
        let (got, body) = get(f.addr, path).await;
        assert_eq!(got, *code, "{path}: {body}");
        assert!(body.contains(text), "{path}: {body}");
    }
    // another site's page may not start one
    let (code, body) = http(
        f.addr,
        "GET",
        "/api/logs/default/toolbox/shell",
        &[BEARER, ("Origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(code, 403, "{body}");
    drop(f.cluster);
}

#[tokio::test]
async fn a_person_reads_only_the_logs_the_cluster_lets_them() {
    let f = common::start_behind_proxy().await;
    f.cluster.demo_states().await;
    let context = "context=proxy%40demo";
    // bob (viewers) reads shop's logs, not batch's
    let path = format!("/api/logs/shop/worker-0/worker?{context}");
    let (code, body) = http(f.addr, "GET", &path, &common::BOB, "").await;
    assert_eq!(code, 200, "{body}");
    let path = format!("/api/logs/batch/etl-1/etl?{context}");
    let (code, body) = http(f.addr, "GET", &path, &common::BOB, "").await;
    assert_eq!(code, 403, "{body}");
    assert!(
        body.contains("not allowed: you may not read the logs of pod etl-1"),
        "{body}"
    );
}
