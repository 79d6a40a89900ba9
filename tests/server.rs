//! podterm's server against an in-process testcluster: the rendered dashboard, the live pod
//! feed and the exec relay, over real sockets, real WebSockets and real PTYs.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use podterm::protocol::{ErrorReason, ServerEvent};
use podterm::server::{AppState, clusters::Clusters, router};
use testcluster::{Config, TestCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

struct Fixture {
    cluster: TestCluster,
    addr: std::net::SocketAddr,
}

async fn start() -> Fixture {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let cluster = TestCluster::start(Config::demo())
        .await
        .expect("testcluster");
    let clusters = Clusters::from_kubeconfig_yaml(cluster.kubeconfig_yaml()).unwrap();
    let leptos_options = leptos::prelude::LeptosOptions::builder()
        .output_name("podterm")
        .build();
    let state = AppState {
        leptos_options,
        clusters: Arc::new(clusters),
        demo: true,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Fixture { cluster, addr }
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn terminal(f: &Fixture, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}{path}", f.addr))
        .await
        .expect("upgrade");
    ws
}

/// Reads until `needle` shows up in the output, or an event arrives, or the socket ends.
async fn read_until(ws: &mut Ws, needle: &[u8]) -> (Vec<u8>, Option<ServerEvent>) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out; output so far: {:?}",
                    String::from_utf8_lossy(&out)
                )
            });
        match next {
            Some(Ok(Message::Binary(data))) => {
                out.extend_from_slice(&data);
                if !needle.is_empty() && out.windows(needle.len()).any(|w| w == needle) {
                    return (out, None);
                }
            }
            Some(Ok(Message::Text(text))) => {
                return (
                    out,
                    Some(serde_json::from_str(text.as_str()).expect("an event")),
                );
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (out, None),
        }
    }
}

async fn type_in(ws: &mut Ws, text: &str) {
    ws.send(Message::Binary(text.as_bytes().to_vec().into()))
        .await
        .unwrap();
}

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
        &[
            "printf".into(),
            "\\344\\275\\240\\345\\245\\275\\360\\237\\231\\202\\377".into(),
        ],
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
            "User \"bob\" cannot",
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
        (
            "/ws/exec/default/toolbox/shell?command=no-such-program",
            ErrorReason::NotFound,
            "executable file not found",
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
        .write_all(b"GET /api/pods/watch?namespace=batch HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
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
    let mut pod = f
        .cluster
        .spec()
        .pods
        .iter()
        .find(|p| p.name == "etl-1")
        .unwrap()
        .clone();
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
