//! Operating podterm: readiness follows the cluster, metrics count what happened and
//! stay behind the login on the main address.

mod common;

use std::time::Duration;

use common::{BEARER, Options, get, http, read_until, start, start_with, terminal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_cluster() {
    let f = start().await;
    assert_eq!(http(f.addr, "GET", "/readyz", &[], "").await.0, 200);
    f.cluster.restart_listener(Duration::from_secs(4)).unwrap();
    // The last answer is kept for a second (`/readyz` is open to anyone).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, body) = http(f.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(code, 503);
    assert!(body.ends_with("not ready"), "says nothing more: {body}");
    // liveness does not depend on the cluster
    assert_eq!(http(f.addr, "GET", "/healthz", &[], "").await.0, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while http(f.addr, "GET", "/readyz", &[], "").await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "ready again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A sample's value from the text exposition.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_sessions_bytes_and_errors() {
    let f = start().await;
    assert_eq!(http(f.addr, "GET", "/metrics", &[], "").await.0, 401);

    let mut ws = terminal(
        &f,
        "/ws/exec/default/toolbox/shell?command=echo&command=metrics-hello",
    )
    .await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert!(event.is_some());
    let mut ws = terminal(&f, "/ws/exec/default/ghost/shell").await;
    read_until(&mut ws, b"").await;

    // the session's end is counted at once, and it leaves the active ones after its cleanup
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        let (code, text) = get(f.addr, "/metrics").await;
        assert_eq!(code, 200);
        if text.contains("podterm_sessions_ended_total{outcome=\"exited\"} 1")
            && text.contains("podterm_sessions_active 0")
        {
            break text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(text.contains("application/openmetrics-text"), "{text}");
    assert_eq!(sample(&text, "podterm_sessions_started_total"), 1.0);
    assert_eq!(sample(&text, "podterm_exec_setup_seconds_count"), 1.0);
    assert!(
        sample(
            &text,
            "podterm_bytes_relayed_total{direction=\"to_browser\"}"
        ) >= 14.0
    );
    assert_eq!(
        sample(&text, "podterm_errors_total{kind=\"not_found\"}"),
        1.0
    );
    assert_eq!(sample(&text, "podterm_sessions_active"), 0.0);
    let _ = BEARER;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_carries_the_base_path() {
    let f = start_with(Options {
        base_path: "/terminal",
        ..Default::default()
    })
    .await;
    let (code, page) = get(f.addr, "/terminal/?namespace=default").await;
    assert_eq!(code, 200, "{page}");
    for needle in [
        r#"<meta name="podterm-base" content="/terminal">"#,
        r#"href="/terminal/pkg/podterm.css""#,
        r#"href="/terminal/vendor/xterm/xterm-bundle.mjs""#,
        "/terminal/pkg/podterm.js",
        r#"action="/terminal/logout""#,
        r#"href="/terminal/""#,
        "toolbox",
    ] {
        assert!(page.contains(needle), "{needle} missing from:\n{page}");
    }
    // a deep link under the prefix is the terminal page, not the dashboard
    let (code, page) = get(
        f.addr,
        "/terminal/terminal?namespace=default&pod=toolbox&container=shell",
    )
    .await;
    assert_eq!(code, 200);
    assert!(
        page.contains(r#"data-pod="toolbox""#) && page.contains("terminal-pane"),
        "{page}"
    );
    // its head names the socket the page opens before its scripts load
    assert!(
        page.contains(
            r#"<meta name="podterm-socket" content="/terminal/ws/exec/default/toolbox/shell">"#
        ),
        "{page}"
    );
    // health at the root (probes) and under the prefix
    assert_eq!(http(f.addr, "GET", "/healthz", &[], "").await.0, 200);
    assert_eq!(
        http(f.addr, "GET", "/terminal/healthz", &[], "").await.0,
        200
    );
    // the login redirect and the login form stay under the prefix
    let (code, answer) = http(
        f.addr,
        "GET",
        "/terminal/?namespace=shop",
        &[("Accept", "text/html")],
        "",
    )
    .await;
    assert!((300..400).contains(&code), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("location: /terminal/login?next=%2f%3fnamespace%3dshop"),
        "{answer}"
    );
    let (_, form) = http(f.addr, "GET", "/terminal/login", &[], "").await;
    assert!(form.contains(r#"action="/terminal/login""#), "{form}");
    // terminals under the prefix
    let mut ws = terminal(
        &f,
        "/terminal/ws/exec/default/toolbox/shell?command=echo&command=prefixed",
    )
    .await;
    let (out, _) = read_until(&mut ws, b"prefixed").await;
    assert!(String::from_utf8_lossy(&out).contains("prefixed"));
}
