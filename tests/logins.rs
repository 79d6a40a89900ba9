//! Logins under attack: cookies planted or shadowed, guessing, repeated proxy headers,
//! cross-site logout, and a person's own token kept to the cluster it was checked with.

mod common;

use std::net::IpAddr;

use podterm::protocol::{ErrorReason, ServerEvent};
use podterm::server::web::auth::Mode;

use common::{BEARER, Options, TOKEN, http, http_from, read_until, start, start_with, ws_with};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// The `Set-Cookie` line of a response.
fn set_cookie(response: &str) -> String {
    response
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie:"))
        .expect("a cookie")
        .split_once(':')
        .unwrap()
        .1
        .trim()
        .to_string()
}

/// The `name=value` part of the `Set-Cookie` line.
fn cookie_pair(response: &str) -> String {
    set_cookie(response).split(';').next().unwrap().to_string()
}

async fn log_in(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> String {
    let mut all = vec![FORM];
    all.extend_from_slice(headers);
    let (code, response) = http(addr, "POST", "/login", &all, &format!("token={TOKEN}")).await;
    assert_eq!(code, 303, "{response}");
    response
}

#[tokio::test]
async fn the_first_valid_login_cookie_counts() {
    let f = start().await;
    let valid = cookie_pair(&log_in(f.addr, &[]).await);
    for cookies in [
        format!("podterm_session=; {valid}"),
        format!("podterm_session=made-up; {valid}"),
        format!("{valid}; podterm_session=made-up"),
    ] {
        let (code, _) = http(f.addr, "GET", "/", &[("Cookie", &cookies)], "").await;
        assert_eq!(code, 200, "{cookies}");
    }
}

#[tokio::test]
async fn over_https_the_cookie_is_host_only_and_over_http_it_keeps_to_the_base_path() {
    let f = start_with(Options {
        trusted_proxies: vec!["127.0.0.1/32"],
        base_path: "/terminal",
        ..Default::default()
    })
    .await;
    let https = [("X-Forwarded-Proto", "https")];
    let line = set_cookie(&log_in(f.addr, &https).await);
    assert!(
        line.starts_with("__Host-podterm_session!terminal="),
        "{line}"
    );
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/;"] {
        assert!(line.contains(attribute), "{line}");
    }
    assert!(!line.to_lowercase().contains("domain"), "{line}");
    let cookie = line.split(';').next().unwrap().to_string();
    let (code, _) = http(f.addr, "GET", "/terminal/", &[("Cookie", &cookie)], "").await;
    assert_eq!(code, 200);

    let line = set_cookie(&log_in(f.addr, &[]).await);
    assert!(line.starts_with("podterm_session="), "{line}");
    assert!(line.contains("Path=/terminal;"), "{line}");
    assert!(!line.contains("Secure"), "{line}");
}

#[tokio::test]
async fn logout_from_another_site_is_refused() {
    let f = start().await;
    let cookie = cookie_pair(&log_in(f.addr, &[]).await);
    let (code, _) = http(
        f.addr,
        "POST",
        "/logout",
        &[("Cookie", &cookie), ("Origin", "http://evil.example")],
        "",
    )
    .await;
    assert_eq!(code, 403);
    let (code, _) = http(f.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert_eq!(code, 200, "still logged in");
    let origin = format!("http://{}", f.addr);
    let (code, response) = http(
        f.addr,
        "POST",
        "/logout",
        &[("Cookie", &cookie), ("Origin", &origin)],
        "",
    )
    .await;
    assert_eq!(code, 303);
    assert!(set_cookie(&response).contains("Max-Age=0"));
    assert_eq!(
        http(f.addr, "GET", "/", &[("Cookie", &cookie)], "").await.0,
        401
    );
}

#[tokio::test]
async fn guessing_is_throttled_per_address() {
    let f = start().await;
    let guesser: IpAddr = "127.0.0.2".parse().unwrap();
    let mut codes = Vec::new();
    for i in 0..12 {
        let wrong = format!("Bearer wrong-token-{i:032}");
        let (code, response) = http_from(
            guesser,
            f.addr,
            "GET",
            "/",
            &[("Authorization", &wrong)],
            "",
        )
        .await;
        if code == 429 {
            let retry = response
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("retry-after:")
                        .map(|v| v.trim().to_string())
                })
                .expect("Retry-After");
            assert!(retry.parse::<u64>().unwrap() >= 1, "{retry}");
        }
        codes.push(code);
    }
    assert_eq!(&codes[..10], [401; 10]);
    assert_eq!(&codes[10..], [429, 429]);
    // The right token from the throttled address waits too: guessing cannot go on.
    let (code, _) = http_from(guesser, f.addr, "GET", "/", &[BEARER], "").await;
    assert_eq!(code, 429);
    let (code, _) = http_from(
        guesser,
        f.addr,
        "POST",
        "/login",
        &[FORM],
        &format!("token={TOKEN}"),
    )
    .await;
    assert_eq!(code, 429);
    // Another address is not held up.
    assert_eq!(http(f.addr, "GET", "/", &[BEARER], "").await.0, 200);
}

#[tokio::test]
async fn repeated_proxy_headers_are_refused() {
    let f = common::start_behind_proxy().await;
    for headers in [
        [("X-Forwarded-User", "alice"), ("X-Forwarded-User", "admin")],
        [
            ("X-Forwarded-User", "alice"),
            ("X-Forwarded-Groups", "developers"),
        ],
    ] {
        let mut all = headers.to_vec();
        if headers[1].0 == "X-Forwarded-Groups" {
            all.push(("X-Forwarded-Groups", "admins"));
        }
        let (code, body) = http(f.addr, "GET", "/", &all, "").await;
        assert_eq!(code, 400, "{all:?}: {body}");
        assert!(body.contains("more than one"), "{body}");
    }
}

#[tokio::test]
async fn a_persons_token_only_goes_to_the_cluster_it_was_checked_with() {
    let (other, seen) = common::recording_server().await;
    let server = format!("http://{other}");
    let f = start_with(Options {
        mode: Mode::UserToken,
        kubeconfig: Some(Box::new(move |k| {
            common::with_context(k, "other", &server, false)
        })),
        ..Default::default()
    })
    .await;
    let (code, form) = http(f.addr, "GET", "/login?next=%2F%3Fcontext%3Dother", &[], "").await;
    assert_eq!(code, 200);
    assert!(
        form.contains(r#"<option value="other" selected>"#),
        "the login page offers the cluster the link names: {form}"
    );
    let (code, response) = http(
        f.addr,
        "POST",
        "/login",
        &[FORM],
        &format!("token={}&context=admin%40demo", f.cluster.token("alice")),
    )
    .await;
    assert_eq!(code, 303, "{response}");
    let cookie = cookie_pair(&response);
    let (code, page) = http(
        f.addr,
        "GET",
        "/?context=other&namespace=shop",
        &[("Cookie", &cookie)],
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert!(page.contains("log in for it"), "{page}");
    assert!(page.contains("/login?context=other"), "{page}");
    let mut ws = ws_with(
        f.addr,
        "/ws/exec/shop/web-7d4b9c6f5-abcde/web?context=other",
        &[("Cookie", &cookie)],
    )
    .await
    .unwrap();
    match read_until(&mut ws, b"").await.1 {
        Some(ServerEvent::Error { reason, message }) => {
            assert_eq!(reason, ErrorReason::Forbidden);
            assert!(message.contains("log in for it"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing was sent to the other cluster: {:?}",
        seen.lock().unwrap()
    );
    // Logging in there checks the token there, and only then.
    let (code, _) = http(
        f.addr,
        "POST",
        "/login",
        &[FORM, ("Cookie", &cookie)],
        &format!("token={}&context=other", f.cluster.token("alice")),
    )
    .await;
    assert_eq!(code, 401, "the stand-in cluster accepts no token");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("selfsubjectreviews"), "{seen:?}");
}
