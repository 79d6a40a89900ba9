//! Sessions that never leave a mess, against the testcluster in its default `linger` mode
//! (the runtime keeps an exec's shell running when its client goes away): processes ended
//! after the grace period, on close and on shutdown; resume with nothing lost or doubled;
//! bounded memory under a flood to a reader that stopped; faults; hostile input.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use podterm::protocol::{ClientMessage, ErrorReason, OUTPUT_WINDOW, ServerEvent};
use podterm::server::web::auth::Mode;
use tokio_tungstenite::tungstenite::Message;

use common::{BEARER, Fixture, Options, Ws, start, start_with, terminal, type_in, ws_with};

const SHELL: &str = "/ws/exec/default/toolbox/shell";

fn quick() -> Options {
    Options {
        grace: Duration::from_secs(1),
        ..Default::default()
    }
}

/// A page's view of one connection: output offsets, acknowledgements, events.
struct Page {
    ws: Ws,
    session: String,
    received: u64,
    output: Vec<u8>,
}

impl Page {
    /// Reads the `attached` event every connection starts with.
    async fn attach(mut ws: Ws) -> Page {
        loop {
            match next_message(&mut ws).await {
                Some(Message::Text(text)) => {
                    match serde_json::from_str::<ServerEvent>(text.as_str()).unwrap() {
                        ServerEvent::Attached {
                            session, offset, ..
                        } => {
                            return Page {
                                ws,
                                session,
                                received: offset,
                                output: Vec::new(),
                            };
                        }
                        other => panic!("expected attached, got {other:?}"),
                    }
                }
                Some(_) => {}
                None => panic!("closed before attaching"),
            }
        }
    }

    async fn open(f: &Fixture, path: &str) -> Page {
        Page::attach(terminal(f, path).await).await
    }

    async fn control(&mut self, message: ClientMessage) {
        self.ws
            .send(Message::Text(message.to_json().into()))
            .await
            .unwrap();
    }

    async fn keys(&mut self, text: &str) {
        type_in(&mut self.ws, text).await;
    }

    /// Reads (acknowledging as it goes) until `needle` appears or an event arrives.
    async fn read_until(&mut self, needle: &str) -> Option<ServerEvent> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        // Only the new output (and the needle's length before it) is searched each time.
        let mut searched = 0;
        loop {
            if !needle.is_empty() && contains(&self.output[searched..], needle.as_bytes()) {
                return None;
            }
            searched = self.output.len().saturating_sub(needle.len());
            let message = tokio::time::timeout_at(deadline, next_message(&mut self.ws))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out waiting for {needle:?}; output: {}",
                        String::from_utf8_lossy(&self.output)
                    )
                });
            match message {
                Some(Message::Binary(data)) => {
                    self.received += data.len() as u64;
                    self.output.extend_from_slice(&data);
                    let ack = ClientMessage::Ack {
                        offset: self.received,
                    };
                    // The server may already have closed; the next read says so.
                    let _ = self.ws.send(Message::Text(ack.to_json().into())).await;
                }
                Some(Message::Text(text)) => {
                    let event: ServerEvent = serde_json::from_str(text.as_str()).unwrap();
                    if event != ServerEvent::Pong {
                        return Some(event);
                    }
                }
                Some(_) => {}
                None => return None,
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }
}

async fn next_message(ws: &mut Ws) -> Option<Message> {
    match ws.next().await {
        Some(Ok(message)) => Some(message),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The session's processes in a container (not its main process).
async fn session_processes(
    f: &Fixture,
    namespace: &str,
    pod: &str,
    container: &str,
) -> Vec<String> {
    f.cluster
        .processes(namespace, pod, container)
        .await
        .into_iter()
        .filter(|p| !p.main)
        .map(|p| p.command.join(" "))
        .collect()
}

/// Waits until the container runs at least `count` session processes (jobs start
/// asynchronously after the shell prints).
async fn wait_for_processes(
    f: &Fixture,
    namespace: &str,
    pod: &str,
    container: &str,
    count: usize,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let running = session_processes(f, namespace, pod, container).await;
        if running.len() >= count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {count} processes, found {running:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_no_processes(
    f: &Fixture,
    namespace: &str,
    pod: &str,
    container: &str,
    within: Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = session_processes(f, namespace, pod, container).await;
        if left.is_empty() {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("processes left behind after {within:?}: {left:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts the usual suspects from a shell: a REPL in the foreground would hide the
/// others, so everything runs as background jobs, one of them ignoring SIGHUP.
async fn start_stragglers(page: &mut Page, python: bool) {
    page.read_until("# ").await;
    let mut line =
        String::from("sleep 1000 & setsid sleep 1001 & (trap '' HUP; exec sleep 1002) & ");
    if python {
        line.push_str("python3 -c 'import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(1000)' & ");
    }
    line.push_str("echo sta''rted\n");
    page.keys(&line).await;
    page.read_until("started").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_page_leaves_no_processes_after_the_grace_period() {
    let f = start_with(quick()).await;
    let mut page = Page::open(&f, SHELL).await;
    start_stragglers(&mut page, true).await;
    // a REPL in the foreground too
    page.keys("python3 -q\n").await;
    page.read_until(">>> ").await;
    wait_for_processes(&f, "default", "toolbox", "shell", 6).await;
    drop(page); // no close message: as when a tab dies or the network goes
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !session_processes(&f, "default", "toolbox", "shell")
            .await
            .is_empty(),
        "the grace period keeps the session"
    );
    wait_for_no_processes(
        &f,
        "default",
        "toolbox",
        "shell",
        Duration::from_secs(1 + 5),
    )
    .await;
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    assert!(audit.contains("did not come back within 1 s"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busybox_sessions_are_cleaned_up_too() {
    let f = start_with(quick()).await;
    let mut page = Page::open(&f, "/ws/exec/default/busybox/busybox").await;
    start_stragglers(&mut page, false).await;
    wait_for_processes(&f, "default", "busybox", "busybox", 4).await;
    // closing the terminal ends the session at once, without waiting for the grace period
    page.control(ClientMessage::Close).await;
    wait_for_no_processes(&f, "default", "busybox", "busybox", Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_jobs_are_ended_after_the_shell_exits() {
    let f = start_with(quick()).await;
    let mut page = Page::open(&f, SHELL).await;
    page.read_until("# ").await;
    page.keys("setsid sleep 1003 & exit 4\n").await;
    assert_eq!(
        page.read_until("").await,
        Some(ServerEvent::Exit { code: 4 })
    );
    wait_for_no_processes(&f, "default", "toolbox", "shell", Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_tells_pages_and_ends_processes() {
    let f = start().await;
    let mut page = Page::open(&f, SHELL).await;
    start_stragglers(&mut page, false).await;
    let sessions = f.state.sessions.clone();
    let shutdown = tokio::spawn(async move { sessions.shutdown(Duration::from_secs(15)).await });
    match page.read_until("").await {
        Some(ServerEvent::Error { reason, message }) => {
            assert_eq!(reason, ErrorReason::Ended);
            assert!(message.contains("shutting down"), "{message}");
        }
        other => panic!("expected the shutdown notice, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(15), shutdown)
        .await
        .unwrap()
        .unwrap();
    // shutdown returns once cleanup is done
    assert_eq!(
        session_processes(&f, "default", "toolbox", "shell").await,
        Vec::<String>::new()
    );
    assert_eq!(f.state.sessions.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_resumes_with_nothing_lost_or_doubled() {
    let f = start().await;
    let mut page = Page::open(&f, SHELL).await;
    page.read_until("# ").await;
    page.keys("for i in $(seq 1 400); do echo line-$i; sleep 0.005; done; echo fini''shed\n")
        .await;
    page.read_until("line-50\r\n").await;
    // the connection drops mid-stream, without a close
    let Page {
        ws,
        session,
        received,
        mut output,
    } = page;
    drop(ws);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let path = format!("{SHELL}?resume={session}&offset={received}");
    let mut page = Page::open(&f, &path).await;
    assert_eq!(page.received, received, "resumes where the page left off");
    assert_eq!(page.session, session);
    page.read_until("finished").await;
    output.extend_from_slice(&page.output);
    let text = String::from_utf8_lossy(&output);
    let lines: Vec<u32> = text
        .split("\r\n")
        .filter_map(|l| l.split_once("line-").map(|(_, n)| n))
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(lines, (1..=400).collect::<Vec<u32>>(), "{text}");
    // the resumed session is the same shell
    page.keys("echo $PODTERM_SESSION\n").await;
    page.read_until(&format!("{session}\r\n")).await;
}

/// The content of the page's `<meta name=NAME>`.
fn meta(html: &str, name: &str) -> Option<String> {
    let tag = format!(r#"<meta name="{name}" content=""#);
    let rest = &html[html.find(&tag)? + tag.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Polls until podterm holds `count` sessions (running or waiting for their page).
async fn wait_for_sessions(f: &Fixture, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while f.state.sessions.count() != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} sessions, expected {count}",
            f.state.sessions.count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_page_starts_its_shell_and_its_socket_takes_it() {
    let f = start_with(quick()).await;
    let page = "/terminal?namespace=default&pod=toolbox&container=shell";
    let visit = |site: &'static str| {
        [
            BEARER,
            ("Sec-Fetch-Mode", "navigate"),
            ("Sec-Fetch-Dest", "document"),
            ("Sec-Fetch-Site", site),
        ]
    };

    // a link from another site, or a prefetch, starts nothing
    for headers in [visit("cross-site").to_vec(), visit("same-site").to_vec(), {
        let mut h = visit("none").to_vec();
        h.push(("Sec-Purpose", "prefetch"));
        h
    }] {
        let (code, html) = common::http(f.addr, "GET", page, &headers, "").await;
        assert_eq!(code, 200, "{html}");
        assert_eq!(
            meta(&html, "podterm-session").as_deref(),
            Some(""),
            "{html}"
        );
        assert_eq!(meta(&html, "podterm-socket").as_deref(), Some(SHELL));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.state.sessions.count(), 0);

    // a page the person opened: its shell starts with the render, the socket takes it,
    // output from the beginning
    let (_, html) = common::http(f.addr, "GET", page, &visit("none"), "").await;
    let id = meta(&html, "podterm-session").unwrap();
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id:?}"
    );
    let mut claimed = Page::open(&f, &format!("{SHELL}?start={id}")).await;
    assert_eq!(
        (claimed.session.as_str(), claimed.received),
        (id.as_str(), 0)
    );
    claimed.read_until("# ").await;
    claimed.keys("echo $PODTERM_SESSION\n").await;
    claimed.read_until(&format!("{id}\r\n")).await;
    assert_eq!(f.state.sessions.count(), 1, "one session for one page");

    // it is taken once: another socket with the id gets a session of its own, as does a
    // made-up id
    for path in [format!("{SHELL}?start={id}"), format!("{SHELL}?start=0000")] {
        let mut other = Page::open(&f, &path).await;
        assert_ne!(other.session, id);
        other.read_until("# ").await;
        other.control(ClientMessage::Close).await;
    }
    wait_for_sessions(&f, 1).await;

    // a page whose socket never comes: its session ends after the grace period
    let (_, html) = common::http(f.addr, "GET", page, &visit("same-origin"), "").await;
    assert_ne!(meta(&html, "podterm-session").unwrap(), "");
    wait_for_sessions(&f, 2).await;
    wait_for_sessions(&f, 1).await;
    claimed.keys("echo st''ill\n").await;
    claimed.read_until("still").await;

    // a start with a command or a resume is not a request podterm makes
    for bad in [
        format!("{SHELL}?start={id}&command=id"),
        format!("{SHELL}?start={id}&resume={id}&offset=0"),
        format!("{SHELL}?start="),
    ] {
        let mut ws = terminal(&f, &bad).await;
        assert!(
            matches!(
                common::read_until(&mut ws, b"").await.1,
                Some(ServerEvent::Error {
                    reason: ErrorReason::BadRequest,
                    ..
                })
            ),
            "{bad}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_takes_over_and_is_bound_to_the_person() {
    let f = start_with(Options {
        mode: Mode::Proxy,
        trusted_proxies: vec!["127.0.0.1/32"],
        ..Default::default()
    })
    .await;
    let as_user = |user: &'static str| {
        [
            ("X-Forwarded-User", user),
            ("X-Forwarded-Groups", "developers"),
        ]
    };
    let shell = "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=proxy%40demo";
    let mut first = Page::attach(ws_with(f.addr, shell, &as_user("alice")).await.unwrap()).await;
    first.read_until("# ").await;
    let resume = format!("{shell}&resume={}&offset={}", first.session, first.received);

    // someone else with the session's id gets nothing
    let mut other = ws_with(f.addr, &resume, &as_user("mallory")).await.unwrap();
    let (_, event) = common::read_until(&mut other, b"").await;
    assert!(
        matches!(
            event,
            Some(ServerEvent::Error {
                reason: ErrorReason::Ended,
                ..
            })
        ),
        "{event:?}"
    );

    // the same person in a second window takes the session over; the first is told
    let mut second = Page::attach(ws_with(f.addr, &resume, &as_user("alice")).await.unwrap()).await;
    match first.read_until("").await {
        Some(ServerEvent::Error { message, .. }) => assert!(message.contains("another window")),
        other => panic!("{other:?}"),
    }
    second.keys("echo sec''ond\n").await;
    second.read_until("second").await;

    // a resume for a different pod, or a made-up id, is refused the same way
    let wrong = format!(
        "/ws/exec/shop/web-7d4b9c6f5-fghij/web?context=proxy%40demo&resume={}&offset=0",
        first.session
    );
    let mut ws = ws_with(f.addr, &wrong, &as_user("alice")).await.unwrap();
    assert!(matches!(
        common::read_until(&mut ws, b"").await.1,
        Some(ServerEvent::Error { .. })
    ));
    let mut ws = ws_with(
        f.addr,
        &format!("{shell}&resume=0000&offset=0"),
        &as_user("alice"),
    )
    .await
    .unwrap();
    assert!(matches!(
        common::read_until(&mut ws, b"").await.1,
        Some(ServerEvent::Error { .. })
    ));
}

/// Resident memory of this process (podterm and the testcluster both run in it).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_to_a_stopped_reader_stays_bounded_and_ctrl_c_gets_through() {
    let f = start().await;
    let mut page = Page::open(&f, SHELL).await;
    page.read_until("# ").await;
    let before = rss_bytes();
    page.keys("yes flood-flood-flood-flood\n").await;
    // the page stops reading: nothing acknowledged, the socket not read
    tokio::time::sleep(Duration::from_secs(3)).await;
    let buffered = f.state.sessions.buffered_bytes();
    assert!(
        buffered <= OUTPUT_WINDOW + 64 * 1024,
        "podterm holds {buffered} bytes of output for one stopped page"
    );
    let grown = rss_bytes().saturating_sub(before);
    assert!(grown < 64 << 20, "memory grew by {grown} bytes");
    // a resize and Ctrl-C still get through while the output waits
    page.control(ClientMessage::Resize {
        cols: 123,
        rows: 45,
    })
    .await;
    page.keys("\x03").await;
    page.keys("stty size; echo after-fl''ood\n").await;
    page.read_until("after-flood").await;
    assert!(page.text().contains("45 123"), "the resize arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_pod_or_a_cut_connection_reads_as_a_message() {
    let f = start().await;
    let mut busy = Page::open(&f, SHELL).await;
    busy.read_until("# ").await;

    // the connection to the cluster is cut: the page is told, and can start again
    f.cluster.cut_exec_connections();
    match busy.read_until("").await {
        Some(ServerEvent::Error { reason, message }) => {
            assert_eq!(reason, ErrorReason::Unreachable, "{message}");
            assert!(message.contains("connection to the cluster"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut again = Page::open(&f, SHELL).await;
    again.read_until("# ").await;

    // a pod deleted mid-session ends that session only
    let mut other = Page::open(&f, "/ws/exec/default/busybox/busybox").await;
    other.read_until("# ").await;
    f.cluster.delete_pod("default", "busybox").await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(15), other.read_until(""))
        .await
        .expect("the page hears about the deleted pod");
    assert!(
        matches!(
            event,
            Some(ServerEvent::Error { .. } | ServerEvent::Exit { .. })
        ),
        "{event:?}"
    );
    again.keys("echo still-h''ere\n").await;
    again.read_until("still-here").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_away_for_a_moment_reads_as_unreachable() {
    let f = start().await;
    // the API server goes away for a moment: new sessions say so, then work again
    f.cluster.restart_listener(Duration::from_secs(2)).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut ws = terminal(&f, SHELL).await;
    match common::read_until(&mut ws, b"").await.1 {
        Some(ServerEvent::Error { reason, .. }) => assert_eq!(reason, ErrorReason::Unreachable),
        other => panic!("{other:?}"),
    }
    // Back once the cluster answers (the real kube-apiserver takes seconds to start).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while common::http(f.addr, "GET", "/readyz", &[], "").await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cluster is back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut back = Page::open(&f, SHELL).await;
    back.read_until("# ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_get_errors_or_clamps_and_hurt_no_one() {
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    let f = start().await;
    let mut bystander = Page::open(&f, SHELL).await;
    bystander.read_until("# ").await;

    let mut page = Page::open(&f, SHELL).await;
    page.read_until("# ").await;
    for bad in [
        "{\"type\":\"teleport\"}",
        "not json",
        "{\"type\":\"ack\",\"offset\":-1}",
        "[]",
    ] {
        page.ws.send(Message::Text(bad.into())).await.unwrap();
        match page.read_until("").await {
            Some(ServerEvent::Error { reason, .. }) => assert_eq!(reason, ErrorReason::BadRequest),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // sizes out of range are clamped; a storm of resizes is absorbed
    page.control(ClientMessage::Resize {
        cols: 0,
        rows: 65535,
    })
    .await;
    for i in 0..2000u16 {
        page.control(ClientMessage::Resize {
            cols: 20 + i % 200,
            rows: 10 + i % 50,
        })
        .await;
    }
    page.control(ClientMessage::Resize {
        cols: 65535,
        rows: 0,
    })
    .await;
    page.keys("stty size; echo si''zed\n").await;
    page.read_until("sized").await;
    assert!(page.text().contains("1 1000"), "{}", page.text());
    page.control(ClientMessage::Resize { cols: 80, rows: 24 })
        .await;
    // acknowledging more than was sent changes nothing
    page.control(ClientMessage::Ack { offset: u64::MAX }).await;
    // binary garbage is just input: a program reading raw bytes gets exactly them
    page.keys("stty raw -echo; head -c 6 | od -An -tx1; stty sane; echo gar''bage-ok\n")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    page.ws
        .send(Message::Binary(
            vec![0xff, 0xfe, 0x00, 0x07, 0x1b, 0x80].into(),
        ))
        .await
        .unwrap();
    page.read_until("garbage-ok").await;
    assert!(page.text().contains("ff fe 00 07 1b 80"), "{}", page.text());

    // invalid UTF-8 in a text frame, and an oversized message: that connection is closed
    let mut broken = Page::open(&f, SHELL).await;
    let frame = Frame::message(vec![b'{', 0xc3, 0x28, b'}'], OpCode::Data(Data::Text), true);
    let _ = broken.ws.send(Message::Frame(frame)).await;
    assert!(broken.read_until("").await.is_none(), "closed");
    let mut huge = Page::open(&f, SHELL).await;
    let _ = huge
        .ws
        .send(Message::Binary(vec![b'x'; 1 << 20].into()))
        .await;
    assert!(huge.read_until("").await.is_none(), "closed");

    bystander.keys("echo unhar''med\n").await;
    bystander.read_until("unharmed").await;
    let _ = BEARER;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_paste_into_a_program_that_echoes_does_not_freeze() {
    let f = start().await;
    let mut page = Page::open(&f, SHELL).await;
    page.read_until("# ").await;
    page.keys("cat\n").await;
    // 2 MiB of lines, sent at once as a page sends a paste, before reading anything: the
    // echo and cat's output exceed the output window while input is still arriving
    let line = format!("{}\n", "p".repeat(1023));
    for _ in 0..64 {
        page.keys(&line.repeat(32)).await;
    }
    page.keys("\x04").await;
    page.keys("echo all-do''ne\n").await;
    page.read_until("all-done").await;
}
