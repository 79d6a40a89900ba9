//! Each running pod watch holds a connection to the cluster: one person's pages cannot make
//! podterm run more than its cap, whatever namespaces they ask for.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use podterm::server::cluster::watch::MAX_WATCHES_PER_PERSON;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An open pod feed, read as raw server-sent events.
struct Feed {
    stream: TcpStream,
    seen: String,
}

impl Feed {
    /// Opens the feed of `namespace`: Ok once its first pods arrived, or Err with the
    /// refusal (status line, headers and body).
    async fn open(addr: SocketAddr, namespace: &str) -> Result<Self, String> {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /api/pods/watch?namespace={namespace} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: text/event-stream\r\n{}: {}\r\n\r\n",
            common::BEARER.0,
            common::BEARER.1
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut feed = Self {
            stream,
            seen: String::new(),
        };
        feed.read_until("\r\n\r\n").await;
        if !feed.seen.starts_with("HTTP/1.1 200") {
            let mut rest = Vec::new();
            tokio::time::timeout(Duration::from_secs(20), feed.stream.read_to_end(&mut rest))
                .await
                .expect("the refusal within 20 s")
                .unwrap();
            return Err(feed.seen + &String::from_utf8_lossy(&rest));
        }
        feed.read_until("event: pods").await;
        Ok(feed)
    }

    async fn read_until(&mut self, needle: &str) {
        let mut buf = vec![0u8; 16384];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.seen.contains(needle) {
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {needle:?} within 20 s: {}", self.seen))
                .unwrap();
            assert!(n > 0, "the feed ended: {}", self.seen);
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
}

/// Waits (a few seconds at most) until `count` watches run.
async fn running_settles_at(f: &common::Fixture, count: usize) {
    let watches = &f.state.clusters.watches;
    for _ in 0..50 {
        if watches.running() == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(watches.running(), count, "watches running");
}

#[tokio::test]
async fn one_person_runs_at_most_their_cap_of_watches() {
    let f = common::start().await;
    let mut feeds = Vec::new();
    for i in 0..MAX_WATCHES_PER_PERSON {
        let feed = Feed::open(f.addr, &format!("made-up-{i}")).await;
        feeds.push(feed.unwrap_or_else(|refusal| panic!("feed {i} refused: {refusal}")));
    }
    running_settles_at(&f, MAX_WATCHES_PER_PERSON).await;

    // more namespaces, made up or not: refused, saying what to do
    for namespace in (MAX_WATCHES_PER_PERSON..60)
        .map(|i| format!("made-up-{i}"))
        .chain(["default".to_string()])
    {
        let refusal = Feed::open(f.addr, &namespace)
            .await
            .err()
            .unwrap_or_else(|| panic!("the feed of {namespace}, past the cap, was served"));
        assert!(refusal.starts_with("HTTP/1.1 429"), "{refusal}");
        assert!(refusal.contains("close other podterm pages"), "{refusal}");
    }
    running_settles_at(&f, MAX_WATCHES_PER_PERSON).await;
    // a page for it says so where the pods would be
    let (code, html) = common::get(f.addr, "/?namespace=one-too-many-page").await;
    assert_eq!(code, 200, "{html}");
    assert!(
        html.contains("Cannot list pods in ") && html.contains("close other podterm pages"),
        "{html}"
    );
    // a namespace already watched is shared, at no cost
    let again = Feed::open(f.addr, "made-up-0").await;
    assert!(again.is_ok(), "{:?}", again.err());
    running_settles_at(&f, MAX_WATCHES_PER_PERSON).await;

    // a closed page gives its place to the next one (once podterm sees it closed)
    drop(feeds.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let _next = loop {
        match Feed::open(f.addr, "one-too-many").await {
            Ok(feed) => break feed,
            Err(refusal) if tokio::time::Instant::now() < deadline => {
                assert!(refusal.starts_with("HTTP/1.1 429"), "{refusal}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(refusal) => panic!("the closed page's place was not given back: {refusal}"),
        }
    };
    running_settles_at(&f, MAX_WATCHES_PER_PERSON).await;
}
