//! podterm's server against an in-process testcluster: the rendered dashboard, the live pod
//! feed and the exec relay, over real sockets, real WebSockets and real PTYs.

mod common;

use std::time::{Duration, Instant};

use futures::SinkExt;
use podterm::protocol::{ErrorReason, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use common::{get, read_until, start, terminal, type_in};

#[tokio::test]
async fn dashboard_is_rendered_on_the_server() {
    let f = start().await;
    f.cluster.demo_states().await;
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
    let target = podterm::model::Target {
        context: None,
        namespace: "default".into(),
        pod: "toolbox".into(),
        container: "shell".into(),
    };
    let path = podterm::protocol::exec_path(
        &target,
        &[
            "printf".into(),
            "\\344\\275\\240\\345\\245\\275\\360\\237\\231\\202\\377".into(),
        ],
        &podterm::protocol::Join::Start,
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
    f.cluster.demo_states().await;
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
    // a program that does not exist: the runtime's words (a custom argv runs as it is)
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell?command=no-such-program").await;
    let (out, event) = read_until(&mut ws, b"").await;
    let said = match &event {
        Some(ServerEvent::Error { message, .. }) => message.clone(),
        _ => String::from_utf8_lossy(&out).into_owned(),
    };
    assert!(
        said.contains(r#"exec: "no-such-program": executable file not found in $PATH"#),
        "{said} {event:?}"
    );
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
    f.cluster.put_pod(pod).await.unwrap();
    read_until("etl-new", &mut seen).await;
    f.cluster.delete_pod("batch", "etl-1").await.unwrap();
    seen.clear();
    loop {
        read_until("event: pods", &mut seen).await;
        if seen.contains("etl-new") && !seen.contains("\"etl-1\"") {
            break;
        }
        seen.clear();
    }
}

/// Adds `count` copies of batch's etl-1 named `{prefix}-0000`, `{prefix}-0001`, ...
async fn add_pods(f: &common::Fixture, prefix: &str, count: usize) {
    let template = f.cluster.spec().pod("etl-1").unwrap().clone();
    for i in 0..count {
        let mut pod = template.clone();
        pod.name = format!("{prefix}-{i:04}");
        f.cluster.put_pod(pod).await.unwrap();
    }
    f.cluster.settled("batch").await;
}

fn rows(html: &str) -> usize {
    html.matches("<tr data-pod=").count()
}

#[tokio::test]
async fn a_large_namespace_is_rendered_a_window_at_a_time() {
    let f = start().await;
    add_pods(&f, "job", 450).await;
    // batch: etl-1, job-0000..job-0449, report-gen-pending; by name
    let (code, html) = get(f.addr, "/?namespace=batch").await;
    assert_eq!(code, 200, "{html}");
    assert_eq!(rows(&html), 200);
    assert!(html.contains("Showing 200 of 452 pods"), "{html}");
    assert!(html.contains(r#"data-pod="etl-1""#) && html.contains(r#"data-pod="job-0198""#));
    assert!(!html.contains(r#"data-pod="job-0199""#) && !html.contains("report-gen-pending"));
    assert!(html.contains("Show 200 more"), "{html}");

    // the filter looks through every pod on the server, not only the first ones
    let (_, html) = get(f.addr, "/?namespace=batch&filter=%20REPORT%20").await;
    assert_eq!(rows(&html), 1);
    assert!(html.contains("report-gen-pending") && html.contains("1 of 452 pods match"));
    let (_, html) = get(f.addr, "/?namespace=batch&filter=job-04").await;
    assert_eq!(rows(&html), 50);
    assert!(html.contains("50 of 452 pods match"), "{html}");
    let (_, html) = get(f.addr, "/?namespace=batch&filter=job&limit=100").await;
    assert!(html.contains("Showing 100 of 450 matching, 452 pods in all"));

    // more, up to what one list shows; anything else reads as the default
    let (_, html) = get(f.addr, "/?namespace=batch&limit=400").await;
    assert_eq!(rows(&html), 400);
    assert!(
        html.contains("Show 52 more") && html.contains(r#"value="600""#),
        "{html}"
    );
    let (_, html) = get(f.addr, "/?namespace=batch&limit=99999999999999999999999").await;
    assert_eq!(rows(&html), 200);
    let (_, html) = get(f.addr, "/?namespace=batch&limit=5000").await;
    assert_eq!(rows(&html), 452);
    assert!(html.contains(">452 pods<") && !html.contains("more</button>"));
    let (_, html) = get(f.addr, "/?namespace=batch&limit=0").await;
    assert_eq!(rows(&html), 1);

    // filtered to nothing, and hostile text, read as text
    let (code, html) = get(f.addr, "/?namespace=batch&filter=%3Cscript%3Ex").await;
    assert_eq!(code, 200);
    assert_eq!(rows(&html), 0);
    assert!(html.contains("No pod matches the filter.") && html.contains("None of 452 pods match"));
    assert!(!html.contains("<script>x"), "{html}");
    let long = "x".repeat(100_000);
    let (code, _) = get(f.addr, &format!("/?namespace=batch&filter={long}")).await;
    assert!(code == 200 || code == 414 || code == 431, "{code}");

    // the list is kept by a watch: changes reach the next render
    f.cluster.delete_pod("batch", "etl-1").await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, html) = get(f.addr, "/?namespace=batch").await;
        if html.contains("Showing 200 of 451 pods") && !html.contains(r#"data-pod="etl-1""#) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deletion never showed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An open server-sent event stream.
struct Feed {
    stream: tokio::net::TcpStream,
    buffer: String,
}

impl Feed {
    async fn open(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> Feed {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        Feed {
            stream,
            buffer: String::new(),
        }
    }

    /// The next event other than a keep-alive: its name and data.
    async fn next(&mut self) -> (String, String) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut chunk = vec![0u8; 65536];
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if !name.is_empty() {
                    return (name, data);
                }
            }
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .expect("an event in time")
                .unwrap();
            assert!(n > 0, "the feed ended; so far: {}", self.buffer);
            self.buffer
                .push_str(&String::from_utf8_lossy(&chunk[..n]).replace("\r\n", "\n"));
        }
    }

    async fn window(&mut self) -> podterm::model::PodWindow {
        loop {
            let (name, data) = self.next().await;
            if name == "window" {
                return serde_json::from_str(&data).unwrap();
            }
        }
    }
}

fn names(window: &podterm::model::PodWindow) -> Vec<&str> {
    window.pods.iter().map(|p| p.name.as_str()).collect()
}

#[tokio::test]
async fn the_feed_sends_the_window_asked_for_when_it_changes() {
    let f = start().await;
    add_pods(&f, "job", 30).await;
    let mut feed = Feed::open(
        f.addr,
        "/api/pods/watch?namespace=batch&filter=JOB&limit=3",
        &[common::BEARER],
    )
    .await;
    // podterm's own watch may still be catching up with the kubelet's status reports (on
    // the real cluster): the window it settles on is the one to start from.
    let window = loop {
        let window = feed.window().await;
        if window.pods.iter().all(|p| p.status == "Running") {
            break window;
        }
    };
    assert_eq!(names(&window), ["job-0000", "job-0001", "job-0002"]);
    assert_eq!((window.matching, window.total, window.limit), (30, 32, 3));
    assert_eq!(window.filter, "JOB");
    // a pod outside the window: only the counts are sent (a window may come first when an
    // age in it ticks over meanwhile; it must show the same pods)
    add_pods(&f, "zzz", 1).await;
    let mut last = window.clone();
    loop {
        let (name, data) = feed.next().await;
        if name == "window" {
            let again: podterm::model::PodWindow = serde_json::from_str(&data).unwrap();
            assert_eq!(names(&again), names(&window), "{data}");
            assert_ne!(
                again.pods, last.pods,
                "a window re-sent for a pod outside it: {data}"
            );
            last = again.clone();
            if again.total == 33 {
                assert_eq!(again.matching, 30);
                break;
            }
            continue;
        }
        assert_eq!(name, "counts", "{data}");
        let counts: podterm::model::PodCounts = serde_json::from_str(&data).unwrap();
        assert_eq!((counts.matching, counts.total), (30, 33));
        break;
    }
    // one inside it changes the pods
    f.cluster.delete_pod("batch", "job-0001").await.unwrap();
    let window = feed.window().await;
    assert_eq!(names(&window), ["job-0000", "job-0002", "job-0003"]);
    assert_eq!((window.matching, window.total), (29, 32));
    // a limit past what one list shows is cut to it
    let mut feed = Feed::open(
        f.addr,
        "/api/pods/watch?namespace=batch&limit=100000",
        &[common::BEARER],
    )
    .await;
    let window = feed.window().await;
    assert_eq!(
        (window.limit, window.pods.len()),
        (podterm::model::WINDOW_MAX, 32)
    );
}

#[tokio::test]
async fn a_kept_pod_list_ends_soon_after_access_is_revoked() {
    let f = common::start_behind_proxy().await;
    let alice = common::ALICE;
    let page = "/?context=proxy%40demo&namespace=batch";
    let (code, html) = common::http(f.addr, "GET", page, &alice, "").await;
    assert_eq!(code, 200, "{html}");
    assert!(html.contains(r#"data-pod="etl-1""#), "{html}");
    let mut feed = Feed::open(
        f.addr,
        "/api/pods/watch?context=proxy%40demo&namespace=batch&limit=10",
        &alice,
    )
    .await;
    assert!(names(&feed.window().await).contains(&"etl-1"));

    // the developers no longer read batch's pods
    let mut rules = f.cluster.spec().policy.clone();
    let developers = rules
        .iter_mut()
        .find(|r| {
            r.namespaces.contains(&"batch".to_string()) && r.resources.contains(&"pods".to_string())
        })
        .expect("the demo lets developers read batch's pods");
    developers.namespaces.retain(|n| n != "batch");
    f.cluster.set_policy(rules).await.unwrap();
    let revoked = Instant::now();

    // the open page's feed says so once the watch is renewed
    loop {
        let (name, data) = feed.next().await;
        if name == "problem" {
            assert!(data.contains("forbidden"), "{data}");
            break;
        }
    }
    assert!(
        revoked.elapsed() < Duration::from_secs(30),
        "the refusal took {:?}",
        revoked.elapsed()
    );
    // and a new page shows the cluster's refusal, not the kept list
    let (code, html) = common::http(f.addr, "GET", page, &alice, "").await;
    assert_eq!(code, 200, "{html}");
    assert!(
        html.contains("Cannot list pods in ") && !html.contains("etl-1"),
        "{html}"
    );
}

#[tokio::test]
async fn kept_pod_lists_are_per_identity_and_bounded() {
    let f = common::start_behind_proxy().await;
    let (alice, bob) = (common::ALICE, common::BOB);
    let page = async |who: &[(&str, &str)], path: &str| {
        let (code, html) = common::http(f.addr, "GET", path, who, "").await;
        assert_eq!(code, 200, "{html}");
        html
    };
    // alice may list batch; her list is now kept
    let html = page(&alice, "/?context=proxy%40demo&namespace=batch").await;
    assert!(html.contains(r#"data-pod="etl-1""#), "{html}");
    // bob may not: he gets the cluster's refusal, never alice's list
    let html = page(&bob, "/?context=proxy%40demo&namespace=batch").await;
    assert!(
        html.contains("Cannot list pods in ")
            && html.contains(r#"User "bob" cannot list resource "pods""#)
            && !html.contains("etl-1"),
        "{html}"
    );
    let mut feed = Feed::open(
        f.addr,
        "/api/pods/watch?context=proxy%40demo&namespace=batch&limit=10",
        &bob,
    )
    .await;
    let (name, data) = feed.next().await;
    assert_eq!(name, "problem", "{data}");
    assert!(data.contains("forbidden"), "{data}");
    // the same name in other groups is someone else
    let html = page(
        &[
            ("X-Forwarded-User", "alice"),
            ("X-Forwarded-Groups", "viewers"),
        ],
        "/?context=proxy%40demo&namespace=batch",
    )
    .await;
    assert!(!html.contains("etl-1"), "{html}");
    // however many people look, only so many lists are kept
    for i in 0..podterm::server::cluster::watch::MAX_WATCHES + 5 {
        let user = format!("dev-{i}");
        let html = page(
            &[
                ("X-Forwarded-User", user.as_str()),
                ("X-Forwarded-Groups", "developers"),
            ],
            "/?context=proxy%40demo&namespace=batch",
        )
        .await;
        assert!(html.contains(r#"data-pod="etl-1""#), "{html}");
    }
    assert!(f.state.clusters.watches.len() <= podterm::server::cluster::watch::MAX_WATCHES);
}
