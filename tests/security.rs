//! Safe by default: every route needs a login, cross-site use is refused, the cluster's
//! RBAC decides as the person, and every session leaves an audit trail.

mod common;

use std::time::Duration;

use podterm::protocol::{ErrorReason, ServerEvent};
use podterm::server::web::auth::Mode;

use common::{
    BEARER, Options, get, http, read_until, start, start_with, terminal, type_in, ws_with,
};

/// The `name=value` of the session cookie a response sets.
fn session_cookie(response: &str) -> String {
    let line = response
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie:"))
        .expect("a cookie");
    line.split_once(':')
        .unwrap()
        .1
        .trim()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn error_event(event: Option<ServerEvent>) -> (ErrorReason, String) {
    match event {
        Some(ServerEvent::Error { reason, message }) => (reason, message),
        other => panic!("expected an error event, got {other:?}"),
    }
}

#[tokio::test]
async fn every_kind_of_route_refuses_unauthenticated_use() {
    let f = start().await;
    let (code, response) = http(f.addr, "GET", "/", &[("Accept", "text/html")], "").await;
    assert_eq!(code, 303, "a browser is sent to the login page");
    assert!(
        response
            .to_lowercase()
            .contains("location: /login?next=%2f"),
        "{response}"
    );
    for (method, path) in [
        ("GET", "/"),
        ("POST", "/api/dashboard"),
        ("GET", "/api/pods/watch?namespace=default"),
        ("GET", "/admin/sessions"),
        ("GET", "/terminal?pod=x"),
    ] {
        let (code, _) = http(f.addr, method, path, &[], "").await;
        assert_eq!(code, 401, "{method} {path}");
    }
    assert_eq!(
        ws_with(f.addr, "/ws/exec/default/toolbox/shell", &[])
            .await
            .err(),
        Some(401)
    );
    let (code, _) = http(
        f.addr,
        "GET",
        "/",
        &[("Authorization", "Bearer wrong-token-0123456789")],
        "",
    )
    .await;
    assert_eq!(code, 401, "a wrong token is no token");
    // health stays open and says nothing
    let (code, body) = http(f.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(code, 200);
    assert!(!body.contains("toolbox"));
}

#[tokio::test]
async fn login_sets_a_session_cookie_and_logout_ends_it() {
    let f = start().await;
    let (code, page) = http(f.addr, "GET", "/login?token=not-the-token", &[], "").await;
    assert_eq!(code, 401);
    assert!(page.contains("That access token is not right."));
    let (code, response) = http(
        f.addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={}&next=%2F%3Fnamespace%3Dshop", common::TOKEN),
    )
    .await;
    assert_eq!(code, 303, "{response}");
    let cookie_line = response
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie:"))
        .expect("a cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie_line.contains(attribute), "{cookie_line}");
    }
    assert!(
        response
            .to_lowercase()
            .contains("location: /?namespace=shop")
    );
    let cookie = session_cookie(&response);
    let (code, page) = http(f.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(code, 200);
    assert!(page.contains("toolbox"));
    // an open redirect is not possible
    let (_, response) = http(
        f.addr,
        "GET",
        &format!("/login?token={}&next=//evil.example", common::TOKEN),
        &[],
        "",
    )
    .await;
    assert!(
        response.to_lowercase().contains("location: /\r\n"),
        "{response}"
    );
    http(f.addr, "POST", "/logout", &[("Cookie", &cookie)], "").await;
    assert_eq!(
        http(f.addr, "GET", "/", &[("Cookie", &cookie)], "").await.0,
        401
    );
}

#[tokio::test]
async fn cross_origin_websockets_and_posts_are_refused() {
    let f = start_with(Options {
        allowed_origins: vec!["https://podterm.example.com"],
        ..Default::default()
    })
    .await;
    let path = "/ws/exec/default/toolbox/shell";
    assert_eq!(
        ws_with(f.addr, path, &[BEARER, ("Origin", "https://evil.example")])
            .await
            .err(),
        Some(403)
    );
    let same = format!("http://{}", f.addr);
    assert!(
        ws_with(f.addr, path, &[BEARER, ("Origin", &same)])
            .await
            .is_ok()
    );
    assert!(
        ws_with(
            f.addr,
            path,
            &[BEARER, ("Origin", "https://podterm.example.com")]
        )
        .await
        .is_ok()
    );

    // server functions with a session cookie need a same-origin Origin
    let (_, response) = http(
        f.addr,
        "GET",
        &format!("/login?token={}", common::TOKEN),
        &[],
        "",
    )
    .await;
    let cookie = session_cookie(&response);
    let form = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let (code, _) = http(
        f.addr,
        "POST",
        "/api/dashboard",
        &[form[0], form[1], ("Origin", "https://evil.example")],
        "",
    )
    .await;
    assert_eq!(code, 403);
    let opaque = |site| {
        [
            form[0],
            form[1],
            ("Origin", "null"),
            ("Sec-Fetch-Site", site),
        ]
    };
    let (code, _) = http(f.addr, "POST", "/api/dashboard", &opaque("cross-site"), "").await;
    assert_eq!(code, 403, "an opaque origin from another site");
    let (code, _) = http(f.addr, "POST", "/api/dashboard", &opaque("same-origin"), "").await;
    assert_eq!(code, 200, "our own form under no-referrer");
    let (code, body) = http(
        f.addr,
        "POST",
        "/api/dashboard",
        &[form[0], form[1], ("Origin", &same)],
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("toolbox"));
}

#[tokio::test]
async fn the_clusters_rbac_decides_and_podterm_asks_first() {
    let f = start().await;
    // bob's context: may list shop's pods, may not exec
    let (_, page) = get(f.addr, "/?context=bob%40demo").await;
    assert!(
        page.contains("Not allowed: you may not open shells in namespace shop"),
        "{page}"
    );
    let mut ws = terminal(
        &f,
        "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=bob%40demo",
    )
    .await;
    let (reason, message) = error_event(read_until(&mut ws, b"").await.1);
    assert_eq!(reason, ErrorReason::Forbidden);
    assert!(
        message.starts_with("not allowed: you may not open a shell in pod web-7d4b9c6f5-abcde"),
        "{message}"
    );
}

#[tokio::test]
async fn proxy_mode_impersonates_and_ignores_spoofed_headers() {
    let f = common::start_behind_proxy().await;
    let alice = common::ALICE;
    // the proxy user may only impersonate: what alice sees is alice's RBAC
    let (code, page) = http(
        f.addr,
        "GET",
        "/?context=proxy%40demo&namespace=shop",
        &alice,
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert!(
        page.contains("web-7d4b9c6f5-abcde") && page.contains("alice"),
        "{page}"
    );
    let mut ws = ws_with(
        f.addr,
        "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=proxy%40demo",
        &alice,
    )
    .await
    .unwrap();
    type_in(&mut ws, "echo as-al''ice\n").await;
    read_until(&mut ws, b"as-alice").await;
    let bob = common::BOB;
    let mut ws = ws_with(
        f.addr,
        "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=proxy%40demo",
        &bob,
    )
    .await
    .unwrap();
    assert_eq!(
        error_event(read_until(&mut ws, b"").await.1).0,
        ErrorReason::Forbidden
    );
    // without the header there is nobody
    assert_eq!(http(f.addr, "GET", "/", &[], "").await.0, 401);

    // the same headers from an address that is not a trusted proxy are ignored
    let f = start_with(Options {
        mode: Mode::Proxy,
        trusted_proxies: vec!["192.0.2.1/32"],
        ..Default::default()
    })
    .await;
    assert_eq!(http(f.addr, "GET", "/", &alice, "").await.0, 401);
    assert_eq!(
        ws_with(f.addr, "/ws/exec/shop/web-7d4b9c6f5-abcde/web", &alice)
            .await
            .err(),
        Some(401)
    );
}

/// Opens a shell in shop's web pod as `who`: Ok once it echoes, else the error event.
async fn shell_in_shop(f: &common::Fixture, who: &[(&str, &str)]) -> Result<(), String> {
    let path = "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=proxy%40demo";
    let mut ws = ws_with(f.addr, path, who).await.unwrap();
    type_in(&mut ws, "echo op''ened\n").await;
    match read_until(&mut ws, b"opened").await.1 {
        None => Ok(()),
        Some(event) => Err(format!("{event:?}")),
    }
}

#[tokio::test]
async fn an_allowed_answer_is_kept_for_seconds_and_a_denial_not_at_all() {
    let f = common::start_behind_proxy().await;
    let alice = common::ALICE;
    shell_in_shop(&f, &alice).await.unwrap();
    let granted = f.cluster.spec().policy.clone();
    let mut revoked = granted.clone();
    for rule in &mut revoked {
        rule.resources.retain(|r| r != "pods/exec");
    }
    f.cluster.set_policy(revoked).await.unwrap();
    let since = std::time::Instant::now();
    // The exec itself is the cluster's to refuse at once; podterm's own question, with
    // its words, is kept for at most five seconds (plus the real API server's delay).
    loop {
        match shell_in_shop(&f, &alice).await {
            Err(event) if event.contains("you may not open a shell") => break,
            Err(event) => assert!(event.contains("Forbidden"), "{event}"),
            Ok(()) => assert!(
                since.elapsed() < Duration::from_secs(10),
                "still allowed {:?} after the right was taken",
                since.elapsed()
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    f.cluster.set_policy(granted).await.unwrap();
    let since = std::time::Instant::now();
    // The denial was not kept: the new right works well before an allowed answer expires.
    while let Err(event) = shell_in_shop(&f, &alice).await {
        assert!(
            since.elapsed() < Duration::from_secs(3),
            "still denied {:?} after the right came back: {event}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn token_mode_never_impersonates() {
    let f = start().await;
    // a spoofed user header changes nothing: podterm calls as the context's own user
    let (_, page) = http(
        f.addr,
        "GET",
        "/?context=proxy%40demo&namespace=shop",
        &[BEARER, ("X-Forwarded-User", "alice")],
        "",
    )
    .await;
    assert!(
        page.contains("Cannot list pods in"),
        "the proxy user itself may not list pods: {page}"
    );
}

#[tokio::test]
async fn user_token_mode_acts_with_the_persons_own_token() {
    let f = start_with(Options {
        mode: Mode::UserToken,
        ..Default::default()
    })
    .await;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (code, page) = http(f.addr, "POST", "/login", &form, "token=not-a-real-token").await;
    assert_eq!(code, 401);
    assert!(
        page.contains("The cluster did not accept that token."),
        "{page}"
    );
    let token = f.cluster.token("alice");
    let (code, response) = http(f.addr, "POST", "/login", &form, &format!("token={token}")).await;
    assert_eq!(code, 303, "{response}");
    assert!(!response.contains(&token), "the token is never sent back");
    let cookie = session_cookie(&response);
    // the admin context's connection, but alice's token: alice's RBAC
    let (_, page) = http(
        f.addr,
        "GET",
        "/?namespace=shop",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert!(
        page.contains("web-7d4b9c6f5-abcde") && page.contains("alice"),
        "{page}"
    );
    assert!(!page.contains(&token));
    let (_, page) = http(
        f.addr,
        "GET",
        "/?namespace=kube-system",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert!(
        page.contains("User \\u0022alice\\u0022 cannot list")
            || page.contains("User &quot;alice&quot; cannot list")
            || page.contains("User \"alice\" cannot list"),
        "{page}"
    );
}

fn audit_lines(f: &common::Fixture) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&f.audit_log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect()
}

#[tokio::test]
async fn audit_lines_and_recordings() {
    let f = start_with(Options {
        record: true,
        ..Default::default()
    })
    .await;
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    type_in(&mut ws, "echo au''dit; exit 3\n").await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert_eq!(event, Some(ServerEvent::Exit { code: 3 }));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = audit_lines(&f);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["audit"], "session_start");
    let end = &lines[1];
    assert_eq!(end["audit"], "session_end");
    for field in [
        "user",
        "from",
        "context",
        "namespace",
        "pod",
        "container",
        "command",
        "start",
        "duration_ms",
        "exit_code",
        "bytes_in",
        "bytes_out",
    ] {
        assert!(!end[field].is_null(), "{field} missing from {end}");
    }
    assert_eq!(end["exit_code"], 3);
    assert_eq!(end["pod"], "toolbox");
    assert!(end["bytes_out"].as_u64().unwrap() > 0 && end["bytes_in"].as_u64().unwrap() > 0);
    let casts: Vec<_> = std::fs::read_dir(f.state.recordings.as_ref().unwrap().dir.clone())
        .unwrap()
        .collect();
    assert_eq!(casts.len(), 1);
    let cast = std::fs::read_to_string(casts[0].as_ref().unwrap().path()).unwrap();
    assert!(cast.starts_with("{\"") && cast.contains("\"version\":2") && cast.contains("audit"));
    assert!(
        !cast.contains("\"i\""),
        "typed input is not recorded unless enabled"
    );
}

#[tokio::test]
async fn broadcast_input_is_audited_once_per_start_and_stop() {
    use futures::SinkExt;
    use podterm::protocol::ClientMessage;
    use tokio_tungstenite::tungstenite::Message;
    let f = start_with(Options::default()).await;
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    let say =
        |on, terminals| Message::Text(ClientMessage::Broadcast { on, terminals }.to_json().into());
    // Said twice (as after a reconnect), written once; the session ends while it is on.
    for message in [say(true, 2), say(true, 3), say(false, 0), say(true, 2)] {
        ws.send(message).await.unwrap();
    }
    type_in(&mut ws, "exit 0\n").await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert_eq!(event, Some(ServerEvent::Exit { code: 0 }));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = audit_lines(&f);
    let kinds: Vec<&str> = lines.iter().map(|l| l["audit"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "broadcast_start",
            "broadcast_stop",
            "broadcast_start",
            "broadcast_stop",
            "session_end"
        ]
    );
    assert_eq!(lines[1]["terminals"], 2);
    assert_eq!(lines[1]["pod"], "toolbox");
    assert_eq!(lines[1]["session"], lines[0]["session"]);
    assert!(!lines[1]["user"].is_null() && !lines[1]["time"].is_null());
}

#[tokio::test]
async fn limits_and_the_administrators_view() {
    let f = start_with(Options {
        sessions_per_user: 1,
        ..Default::default()
    })
    .await;
    let mut first = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    type_in(&mut first, "echo one-''open\n").await;
    read_until(&mut first, b"one-open").await;
    let mut second = terminal(&f, "/ws/exec/default/busybox/busybox").await;
    assert_eq!(
        error_event(read_until(&mut second, b"").await.1).0,
        ErrorReason::TooMany
    );

    let (code, body) = get(f.addr, "/admin/sessions").await;
    assert_eq!(code, 200);
    let sessions: Vec<serde_json::Value> =
        serde_json::from_str(body.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["pod"], "toolbox");
    let id = sessions[0]["id"].as_str().unwrap();
    assert_eq!(
        http(
            f.addr,
            "DELETE",
            &format!("/admin/sessions/{id}"),
            &[BEARER],
            ""
        )
        .await
        .0,
        204
    );
    let (reason, message) = error_event(read_until(&mut first, b"").await.1);
    assert_eq!(reason, ErrorReason::Ended);
    assert!(message.contains("an administrator ended this session"));
    assert_eq!(
        http(f.addr, "DELETE", "/admin/sessions/nope", &[BEARER], "")
            .await
            .0,
        404
    );
}

/// The response's CSP header names the nonce its hydration scripts carry.
fn assert_nonce_matches(path: &str, response: &str) {
    let lower = response.to_lowercase();
    let (head, body) = lower.split_once("\r\n\r\n").unwrap();
    let csp = head
        .lines()
        .find(|l| l.starts_with("content-security-policy:"))
        .unwrap_or_else(|| panic!("{path}: no CSP"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("{path}: the CSP names no nonce: {csp}"));
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "{path}: the hydration scripts do not carry the CSP's nonce {nonce}"
    );
}

// Several worker threads, as in production: leptos_axum's static-file path could take a
// concurrent page's headers when the CSP was set through its ResponseOptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_carry_security_headers() {
    let f = start().await;
    let (_, response) = get(f.addr, "/").await;
    assert_nonce_matches("/", &response);
    let head = response.split("\r\n\r\n").next().unwrap().to_lowercase();
    let csp = head
        .lines()
        .find(|l| l.starts_with("content-security-policy:"))
        .expect("a CSP");
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    // Concurrent pages, error pages and static files: each page keeps its own nonce.
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..24 {
        let path = ["/", "/no-such-page", "/pkg/large.bin"][i % 3];
        let addr = f.addr;
        requests.spawn(async move {
            let answer = tokio::time::timeout(Duration::from_secs(15), get(addr, path))
                .await
                .unwrap_or_else(|_| panic!("{path} did not answer"));
            (path, answer.1)
        });
    }
    while let Some(done) = requests.join_next().await {
        let (path, response) = done.unwrap();
        if path != "/pkg/large.bin" {
            assert_nonce_matches(path, &response);
        }
    }
    assert!(head.contains("x-content-type-options: nosniff"));
    assert!(head.contains("referrer-policy: no-referrer"));
    // Built files are revalidated: after an upgrade a page never mixes old and new ones.
    let (_, file) = get(f.addr, "/pkg/large.bin").await;
    let file_head = file.split("\r\n\r\n").next().unwrap().to_lowercase();
    assert!(file_head.contains("cache-control: no-cache"), "{file_head}");
    // The build's compressed copy goes to browsers that take gzip, the file to the others.
    let (_, packed) = http(
        f.addr,
        "GET",
        "/pkg/app.js",
        &[("Accept-Encoding", "gzip")],
        "",
    )
    .await;
    let (packed_head, packed_body) = packed.split_once("\r\n\r\n").unwrap();
    assert!(
        packed_head
            .to_lowercase()
            .contains("content-encoding: gzip"),
        "{packed_head}"
    );
    assert_eq!(packed_body, "its compressed copy");
    let (_, plain) = get(f.addr, "/pkg/app.js").await;
    assert_eq!(plain.split_once("\r\n\r\n").unwrap().1, "the file");
    let (_, login) = http(f.addr, "GET", "/login", &[], "").await;
    assert!(
        login
            .to_lowercase()
            .contains("content-security-policy: default-src 'self'")
    );
}

#[tokio::test]
async fn pages_are_not_cached_and_hsts_and_host_names_are_settings() {
    let f = start_with(Options {
        allowed_hosts: vec!["podterm.example"],
        hsts_seconds: Some(31536000),
        ..Default::default()
    })
    .await;
    let host = ("Host", "podterm.example");
    let header = |response: &str, name: &str| {
        response.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let (code, page) = http(f.addr, "GET", "/", &[BEARER, host], "").await;
    assert_eq!(code, 200);
    assert_eq!(header(&page, "cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        header(&page, "strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
    let (_, answer) = http(
        f.addr,
        "POST",
        "/api/dashboard",
        &[
            BEARER,
            host,
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "",
    )
    .await;
    assert_eq!(
        header(&answer, "cache-control").as_deref(),
        Some("no-store")
    );
    let (_, file) = http(f.addr, "GET", "/pkg/app.js", &[host], "").await;
    assert_eq!(header(&file, "cache-control").as_deref(), Some("no-cache"));
    // Another name for this address is not served; probes still are.
    let (code, _) = http(f.addr, "GET", "/", &[BEARER, ("Host", "evil.example")], "").await;
    assert_eq!(code, 421);
    let (code, _) = http(f.addr, "GET", "/login", &[("Host", "evil.example")], "").await;
    assert_eq!(code, 421);
    let (code, _) = http(f.addr, "GET", "/healthz", &[("Host", "10.1.2.3:3000")], "").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn readiness_asks_the_cluster_at_most_once_a_second() {
    let (cluster, seen) = common::recording_server().await;
    let server = format!("http://{cluster}");
    let f = start_with(Options {
        kubeconfig: Some(Box::new(move |k| {
            common::with_context(k, "recorded", &server, true)
        })),
        ..Default::default()
    })
    .await;
    let started = std::time::Instant::now();
    for _ in 0..20 {
        let (code, _) = http(f.addr, "GET", "/readyz", &[], "").await;
        assert_eq!(code, 200, "a refusal is an answer");
    }
    let asked = seen.lock().unwrap().len();
    let most = 1 + started.elapsed().as_secs() as usize;
    assert!((1..=most).contains(&asked), "asked {asked} times");
}
