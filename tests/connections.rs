//! Connections: a client that opens many and never finishes its requests (slowloris) is
//! cut off by the header-read timeout and the per-address and total limits, and `/healthz`
//! keeps answering everyone else, also when podterm may open only a few files.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::{BEARER, Fixture, Options, start_with, type_in, ws_with};
use podterm::server::web::connections::{Connections, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

/// The start of a request whose headers never end.
const HALF_SENT: &[u8] = b"GET / HTTP/1.1\r\nHost: podterm\r\nX-Slow: ";

/// A connection to `to` from the loopback address `from`.
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))?;
    timeout(Duration::from_secs(2), socket.connect(to))
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// `count` connections from `from`, each with a request that never ends.
async fn half_sent(from: &str, to: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let Ok(mut stream) = connect_from(from, to).await else {
            continue;
        };
        // A write can fail on a connection the server already closed: that one is not held.
        if stream.write_all(HALF_SENT).await.is_ok() {
            held.push(stream);
        }
    }
    held
}

/// Whether the server closed this connection (end of stream or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // a 408 or 400 answer before the close is fine
            Ok(Ok(_)) => {}
        }
    }
}

/// `GET /healthz` from `from`: the answer, or what went wrong, within `wait`.
async fn healthz(from: &str, to: SocketAddr, wait: Duration) -> Result<String, String> {
    let exchange = async {
        let mut stream = connect_from(from, to).await.map_err(|e| e.to_string())?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: podterm\r\nConnection: close\r\n\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .await
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    timeout(wait, exchange)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {wait:?}")))
}

fn answered_ok(answer: &Result<String, String>) -> bool {
    answer
        .as_ref()
        .is_ok_and(|a| a.starts_with("HTTP/1.1 200") && a.ends_with("ok"))
}

/// The fixture's podterm again, on a second address with these limits.
async fn limited(f: &Fixture, settings: Settings) -> (SocketAddr, Arc<Connections>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Connections::new(
        settings,
        f.state.auth.config.trusted_proxies.clone(),
        f.state.metrics.clone(),
    );
    tokio::spawn(podterm::server::serve_with(
        listener,
        f.state.clone(),
        connections.clone(),
        std::future::pending(),
    ));
    (addr, connections)
}

fn settings(total: usize, per_address: usize, header_seconds: u64) -> Settings {
    Settings {
        header_read_timeout: Duration::from_secs(header_seconds),
        max_connections: total,
        max_connections_per_address: per_address,
    }
}

/// Waits until `connections` counts `open`, for at most two seconds.
async fn until_open(connections: &Connections, open: usize) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while connections.open() != open {
        assert!(
            Instant::now() < deadline,
            "{} connections open, not {open}",
            connections.open()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn metric(f: &Fixture, line_start: &str) -> u64 {
    let text = f.state.metrics.render(&f.state.sessions);
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_and_others_are_still_served() {
    let f = start_with(Options::default()).await;
    let (addr, connections) = limited(&f, settings(10, 4, 10)).await;
    let mut held = half_sent("127.0.0.2", addr, 4).await;
    until_open(&connections, 4).await;
    let mut over = half_sent("127.0.0.2", addr, 1).await;
    if let Some(stream) = over.first_mut() {
        assert!(
            closed_within(stream, Duration::from_secs(1)).await,
            "a fifth connection from one address was kept"
        );
    }
    for stream in &mut held {
        assert!(
            !closed_within(stream, Duration::from_millis(100)).await,
            "a connection within the limit was closed"
        );
    }
    let answer = healthz("127.0.0.1", addr, Duration::from_secs(2)).await;
    assert!(answered_ok(&answer), "{answer:?}");
    assert_eq!(
        metric(&f, "podterm_connections_refused_total{limit=\"address\"}"),
        1
    );
}

#[tokio::test]
async fn the_total_is_kept_and_places_come_back_when_connections_close() {
    let f = start_with(Options::default()).await;
    let (addr, connections) = limited(&f, settings(10, 4, 10)).await;
    let _two = half_sent("127.0.0.2", addr, 4).await;
    let _three = half_sent("127.0.0.3", addr, 4).await;
    let mut four = half_sent("127.0.0.4", addr, 2).await;
    until_open(&connections, 10).await;
    let refused = healthz("127.0.0.1", addr, Duration::from_secs(2)).await;
    assert!(!answered_ok(&refused), "served over the total: {refused:?}");
    four.pop();
    until_open(&connections, 9).await;
    let answer = healthz("127.0.0.1", addr, Duration::from_secs(2)).await;
    assert!(answered_ok(&answer), "{answer:?}");
    assert_eq!(
        metric(&f, "podterm_connections_refused_total{limit=\"total\"}"),
        1
    );
}

#[tokio::test]
async fn a_trusted_proxy_is_held_only_to_the_total() {
    let f = start_with(Options {
        trusted_proxies: vec!["127.0.0.5/32"],
        ..Default::default()
    })
    .await;
    let (addr, connections) = limited(&f, settings(10, 2, 10)).await;
    let _proxied = half_sent("127.0.0.5", addr, 10).await;
    until_open(&connections, 10).await;
    let mut over = half_sent("127.0.0.5", addr, 1).await;
    if let Some(stream) = over.first_mut() {
        assert!(closed_within(stream, Duration::from_secs(1)).await);
    }
    assert_eq!(connections.open(), 10);
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_header_read_timeout() {
    let f = start_with(Options::default()).await;
    let (addr, connections) = limited(&f, settings(100, 50, 1)).await;
    let started = Instant::now();
    let mut held = half_sent("127.0.0.2", addr, 20).await;
    assert_eq!(held.len(), 20);
    for stream in &mut held {
        assert!(
            closed_within(stream, Duration::from_secs(3)).await,
            "a half-sent request was held past the header-read timeout"
        );
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
    until_open(&connections, 0).await;
    assert!(metric(&f, "podterm_header_read_timeouts_total") >= 20);
}

#[tokio::test]
async fn silent_and_idle_kept_alive_connections_are_closed_after_the_timeout() {
    let f = start_with(Options::default()).await;
    let (addr, connections) = limited(&f, settings(100, 50, 1)).await;
    let mut silent = connect_from("127.0.0.2", addr).await.unwrap();
    let mut kept = connect_from("127.0.0.2", addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: podterm\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 1024];
    let n = timeout(Duration::from_secs(2), kept.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
    assert!(closed_within(&mut kept, Duration::from_secs(3)).await);
    until_open(&connections, 0).await;
}

#[tokio::test]
async fn terminals_count_until_they_close_and_do_not_hold_up_shutdown() {
    let f = start_with(Options::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Connections::new(settings(10, 4, 1), vec![], f.state.metrics.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(podterm::server::serve_with(
        listener,
        f.state.clone(),
        connections.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let mut ws = ws_with(addr, "/ws/exec/default/toolbox/shell", &[BEARER])
        .await
        .expect("a terminal");
    type_in(&mut ws, "echo hi\n").await;
    // upgraded, and past the header-read timeout: still counted
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(connections.open(), 1);
    stop.send(()).unwrap();
    timeout(Duration::from_secs(5), serving)
        .await
        .expect("an open terminal held up the listener's shutdown")
        .unwrap()
        .unwrap();
    drop(ws);
    until_open(&connections, 0).await;
}

/// podterm as built, with at most `open_files` files, serving the demo cluster.
struct Limited {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Limited {
    fn start(open_files: u64, args: &[&str]) -> Self {
        use std::io::BufRead;
        let root = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
        let mut child = std::process::Command::new("prlimit")
            .arg(format!("--nofile={open_files}:{open_files}"))
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_podterm"))
            .args(["--demo", "--listen", "127.0.0.1:0"])
            .args(["--token", "connections-test-token-0000000000000000"])
            .args(args)
            .current_dir(root)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prlimit (util-linux) runs podterm");
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("podterm exited before listening");
            }
            if let Some(addr) = line
                .strip_prefix("podterm ")
                .and_then(|l| l.split("http://").nth(1))
            {
                break addr.trim().parse().unwrap();
            }
        };
        // the rest of the banner is not read: keep the pipe drained so writes never block
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, addr }
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn healthz_answers_while_one_address_holds_all_it_can_with_few_files() {
    let podterm = Limited::start(256, &["--header-read-timeout-seconds", "2"]);
    let addr = podterm.addr;
    let answer = healthz("127.0.0.1", addr, Duration::from_secs(2)).await;
    assert!(answered_ok(&answer), "before: {answer:?}");
    // More than the process has files for.
    let mut held = half_sent("127.0.0.2", addr, 300).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = healthz("127.0.0.1", addr, Duration::from_secs(2)).await;
    assert!(answered_ok(&answer), "while held: {answer:?}");
    // Kept ones end at the header-read timeout, refused ones at once.
    let deadline = Instant::now() + Duration::from_secs(5);
    for stream in &mut held {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            closed_within(stream, left).await,
            "a half-sent request was still open 5 s later"
        );
    }
    let answer = healthz("127.0.0.2", addr, Duration::from_secs(2)).await;
    assert!(
        answered_ok(&answer),
        "the address is served again: {answer:?}"
    );
}
