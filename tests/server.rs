//! podterm's server against an in-process testcluster: the rendered dashboard, the live pod
//! feed and the exec relay, over real sockets, real WebSockets and real PTYs.

mod common;

use std::time::Duration;

use futures::SinkExt;
use podterm::protocol::{ErrorReason, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use common::{get, read_until, start, terminal, type_in};

#[tokio::test]
async fn dashboard_is_rendered_on_the_server() {
    let f = start().await;
    let (code, html) = get(f.addr, "/").await;
    assert_eq!(code, 200, "{html}");
    for needle in ["toolbox", "busybox", "Demo cluster", "admin@demo"] {
        assert!(
            html.contains(needle),
            "{needle} is in the HTML before any script runs"
        );
    }
    let (_, html) = get(f.addr, "/?namespace=shop").await;
    assert!(html.contains("web-7d4b9c6f5-abcde") && html.contains("CrashLoopBackOff"));
    // a container that cannot be exec'd is listed, disabled, with the reason
    assert!(
        html.contains("the container is not running (CrashLoopBackOff)"),
        "worker's reason shows"
    );
    // a person who may not list namespaces gets the context's namespace and a text box
    let (_, html) = get(f.addr, "/?context=bob@demo").await;
    assert!(html.contains("You may not list namespaces here"), "{html}");
    assert!(
        html.contains("web-7d4b9c6f5-fghij"),
        "bob's namespace (shop) is listed"
    );
    // bad input reads as an error, not a crash
    let (code, html) = get(f.addr, "/?namespace=Not_Valid").await;
    assert_eq!(code, 200);
    assert!(html.contains("is not a valid namespace name"), "{html}");
    let (_, html) = get(f.addr, "/?context=nope").await;
    assert!(html.contains("there is no cluster context named"), "{html}");
    drop(f.cluster);
}

#[tokio::test]
async fn a_shell_with_bash_where_it_exists_and_sh_on_busybox() {
    let f = start().await;
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    type_in(&mut ws, "echo \"$0 $TERM $LANG\" | tr a-z A-Z\n").await;
    let (out, _) = read_until(&mut ws, b"BASH XTERM-256COLOR C.UTF-8").await;
    assert!(!out.is_empty());
    ws.send(Message::Text(
        r#"{"type":"resize","cols":123,"rows":45}"#.into(),
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    type_in(&mut ws, "stty size | tr ' ' x\n").await;
    read_until(&mut ws, b"45x123").await;
    type_in(&mut ws, "exit 3\n").await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert_eq!(event, Some(ServerEvent::Exit { code: 3 }));

    let mut ws = terminal(&f, "/ws/exec/default/busybox/busybox").await;
    type_in(&mut ws, "command -v bash || echo no-bash-here; exit\n").await;
    let (out, event) = read_until(&mut ws, b"").await;
    assert!(String::from_utf8_lossy(&out).contains("no-bash-here"));
    assert_eq!(event, Some(ServerEvent::Exit { code: 0 }));
}

#[tokio::test]
async fn bytes_pass_through_untouched() {
    let f = start().await;
    // "你好" and an emoji, printed as raw octal escapes so no encoding happens on the way in
    let path = podterm::protocol::exec_path(
        "default",
        "toolbox",
        "shell",
        None,
        podterm::protocol::Attach::Start {
            command: &[
                "printf".into(),
                "\\344\\275\\240\\345\\245\\275\\360\\237\\231\\202\\377".into(),
            ],
        },
    );
    let mut ws = terminal(&f, &path).await;
    let (out, event) = read_until(&mut ws, b"").await;
    assert_eq!(
        out,
        "你好🙂".bytes().chain([0xff]).collect::<Vec<u8>>(),
        "invalid UTF-8 too"
    );
    assert_eq!(event, Some(ServerEvent::Exit { code: 0 }));
}

#[tokio::test]
async fn failures_are_events_a_person_can_read() {
    let f = start().await;
    let cases: &[(&str, ErrorReason, &str)] = &[
        (
            "/ws/exec/default/ghost/shell",
            ErrorReason::NotFound,
            "pods \"ghost\" not found",
        ),
        (
            "/ws/exec/default/toolbox/nope",
            ErrorReason::NotFound,
            "has no container \"nope\"",
        ),
        (
            "/ws/exec/shop/worker-0/worker",
            ErrorReason::NotRunning,
            "CrashLoopBackOff",
        ),
        (
            "/ws/exec/shop/db-migrate-29xkq/migrate",
            ErrorReason::NotRunning,
            "has exited",
        ),
        (
            "/ws/exec/batch/report-gen-pending/report",
            ErrorReason::NotRunning,
            "not scheduled",
        ),
        (
            "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=bob%40demo",
            ErrorReason::Forbidden,
            "not allowed: you may not open a shell in pod web-7d4b9c6f5-abcde",
        ),
        (
            "/ws/exec/Bad_Name/toolbox/shell",
            ErrorReason::BadRequest,
            "not a valid name",
        ),
        (
            "/ws/exec/default/toolbox/shell?context=nowhere",
            ErrorReason::NotFound,
            "no cluster context named",
        ),
    ];
    for (path, reason, text) in cases {
        let mut ws = terminal(&f, path).await;
        let (_, event) = read_until(&mut ws, b"").await;
        match event {
            Some(ServerEvent::Error {
                reason: got,
                message,
            }) => {
                assert_eq!(got, *reason, "{path}: {message}");
                assert!(message.contains(text), "{path}: {message}");
            }
            other => panic!("{path}: expected an error event, got {other:?}"),
        }
    }
    // a program that does not exist: the shell's words and code
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell?command=no-such-program").await;
    let (out, event) = read_until(&mut ws, b"").await;
    assert!(
        String::from_utf8_lossy(&out).contains("no-such-program: command not found"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(event, Some(ServerEvent::Exit { code: 127 }));
    // a bad control message is reported, and the session goes on
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    ws.send(Message::Text("{\"type\":\"warp\"}".into()))
        .await
        .unwrap();
    let (_, event) = read_until(&mut ws, b"").await;
    assert!(
        matches!(
            event,
            Some(ServerEvent::Error {
                reason: ErrorReason::BadRequest,
                ..
            })
        ),
        "{event:?}"
    );
    type_in(&mut ws, "echo still-''here\n").await;
    read_until(&mut ws, b"still-here\r\n").await;
}

#[tokio::test]
async fn the_pod_feed_follows_the_cluster() {
    let f = start().await;
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    stream
        .write_all(
            format!("GET /api/pods/watch?namespace=batch HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{}: {}\r\n\r\n", common::BEARER.0, common::BEARER.1)
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    let mut buf = vec![0u8; 65536];
    let mut read_until = async |needle: &str, seen: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !seen.contains(needle) {
            let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
                .await
                .expect(needle)
                .unwrap();
            assert!(n > 0, "feed ended");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    read_until("event: pods", &mut seen).await;
    assert!(seen.contains("etl-1"));
    let mut pod = f.cluster.spec().pod("etl-1").unwrap().clone();
    pod.name = "etl-new".into();
    f.cluster.put_pod(pod).unwrap();
    read_until("etl-new", &mut seen).await;
    f.cluster.delete_pod("batch", "etl-1").unwrap();
    seen.clear();
    loop {
        read_until("event: pods", &mut seen).await;
        if seen.contains("etl-new") && !seen.contains("\"etl-1\"") {
            break;
        }
        seen.clear();
    }
}
