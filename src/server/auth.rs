//! Who is calling: login (an access token, the person's own Kubernetes token, or a trusted
//! proxy's headers), session cookies, and the checks every request passes before it is served.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::AppState;

pub const COOKIE: &str = "podterm_session";

/// How people prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One access token for everyone; podterm calls the cluster with its own credentials.
    Token,
    /// A trusted proxy names the person in headers; every cluster call impersonates them.
    Proxy,
    /// Each person logs in with their own Kubernetes bearer token, used for their calls.
    UserToken,
}

/// Settings for authentication, from the command line.
pub struct AuthConfig {
    pub mode: Mode,
    /// The access token (token mode).
    pub token: Option<SecretString>,
    pub user_header: String,
    pub groups_header: String,
    pub trusted_proxies: Vec<IpNet>,
    pub allowed_origins: Vec<String>,
    pub session_lifetime: Duration,
    pub admin_users: Vec<String>,
    pub admin_groups: Vec<String>,
}

/// Whom a request acts for.
#[derive(Clone)]
pub enum Identity {
    /// The holder of the access token; cluster calls use podterm's own credentials.
    TokenHolder,
    /// Named by a trusted proxy; cluster calls carry Impersonate-User/Group.
    Proxied { user: String, groups: Vec<String> },
    /// Logged in with their own Kubernetes token; cluster calls use it.
    OwnToken {
        user: String,
        groups: Vec<String>,
        token: Arc<SecretString>,
        key: Arc<str>,
    },
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints a token.
        write!(f, "{}", self.name())
    }
}

impl Identity {
    /// A name for logs and audit.
    pub fn name(&self) -> &str {
        match self {
            Identity::TokenHolder => "token-holder",
            Identity::Proxied { user, .. } | Identity::OwnToken { user, .. } => user,
        }
    }

    pub fn groups(&self) -> &[String] {
        match self {
            Identity::TokenHolder => &[],
            Identity::Proxied { groups, .. } | Identity::OwnToken { groups, .. } => groups,
        }
    }

    /// Distinguishes identities for per-identity caches (no secret in it).
    pub fn cache_key(&self) -> String {
        match self {
            Identity::TokenHolder => "shared".into(),
            // JSON keeps names with ':' or ',' from colliding.
            Identity::Proxied { user, groups } => {
                format!("proxy:{}", serde_json::json!([user, groups]))
            }
            Identity::OwnToken { key, .. } => format!("token:{key}"),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub identity: Identity,
    /// Where the request came from (the proxy's client address when it is trusted).
    pub from: String,
    pub admin: bool,
}

struct LoginSession {
    identity: Identity,
    expires: Instant,
}

pub struct Auth {
    pub config: AuthConfig,
    sessions: Mutex<HashMap<String, LoginSession>>,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Self {
        Self {
            config,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, LoginSession>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start_session(&self, identity: Identity) -> String {
        let id = random_hex(32);
        let mut sessions = self.sessions();
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            id.clone(),
            LoginSession {
                identity,
                expires: now + self.config.session_lifetime,
            },
        );
        id
    }

    fn session(&self, id: &str) -> Option<Identity> {
        let mut sessions = self.sessions();
        match sessions.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.identity.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    fn end_session(&self, id: &str) {
        self.sessions().remove(id);
    }

    fn token_matches(&self, offered: &str) -> bool {
        self.config.token.as_ref().is_some_and(|t| {
            t.expose_secret()
                .as_bytes()
                .ct_eq(offered.as_bytes())
                .into()
        })
    }

    fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
    }

    fn is_admin(&self, identity: &Identity) -> bool {
        match identity {
            Identity::TokenHolder => true,
            _ => {
                self.config.admin_users.iter().any(|u| u == identity.name())
                    || identity
                        .groups()
                        .iter()
                        .any(|g| self.config.admin_groups.contains(g))
            }
        }
    }

    /// The origins a browser page of ours can have: the served host, and the configured ones.
    pub fn origin_allowed(&self, headers: &HeaderMap, peer: IpAddr) -> bool {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            // Browsers always send Origin on WebSocket and cross-site requests; its absence
            // means a script, which must authenticate on its own.
            return true;
        };
        // Under `Referrer-Policy: no-referrer` a browser's own form posts say `Origin: null`;
        // Fetch Metadata then tells whether the request came from our own pages.
        if origin == "null" {
            return headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
                == Some("same-origin");
        }
        if self
            .config
            .allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin)
        {
            return true;
        }
        let trusted = self.is_trusted_proxy(peer);
        let forwarded = |name: &str| {
            trusted
                .then(|| headers.get(name).and_then(|v| v.to_str().ok()))
                .flatten()
                .map(|v| v.split(',').next().unwrap_or("").trim().to_string())
        };
        let host = forwarded("x-forwarded-host").or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        let scheme = forwarded("x-forwarded-proto").unwrap_or_else(|| "http".into());
        host.is_some_and(|host| origin == format!("{scheme}://{host}"))
    }

    /// Whether cookies should be marked Secure: the proxy in front says the scheme is https.
    fn secure(&self, headers: &HeaderMap, peer: IpAddr) -> bool {
        self.is_trusted_proxy(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                == Some("https")
    }
}

pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Paths served to anyone: health, the login page, and static files that hold no data.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/login" | "/logout" | "/favicon.svg"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

/// Authenticates every request that is not public, and checks cross-site use.
pub async fn middleware(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if is_public(&path) {
        return next.run(request).await;
    }
    let auth = &state.auth;
    let headers = request.headers();
    let from = client_address(auth, headers, peer);
    let mut by_cookie = false;
    let identity = match auth.config.mode {
        Mode::Token => {
            if bearer(headers).is_some_and(|t| auth.token_matches(&t)) {
                Some(Identity::TokenHolder)
            } else {
                by_cookie = true;
                cookie(headers, COOKIE).and_then(|id| auth.session(&id))
            }
        }
        Mode::UserToken => {
            by_cookie = true;
            cookie(headers, COOKIE).and_then(|id| auth.session(&id))
        }
        Mode::Proxy if auth.is_trusted_proxy(peer.ip()) => {
            // The proxy's own session cookie rides along like ours: check Origin too.
            by_cookie = true;
            let user = headers
                .get(auth.config.user_header.as_str())
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|u| !u.is_empty());
            user.map(|user| Identity::Proxied {
                user: user.to_string(),
                groups: headers
                    .get_all(auth.config.groups_header.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(|g| g.trim().to_string())
                    .filter(|g| !g.is_empty())
                    .collect(),
            })
        }
        Mode::Proxy => None,
    };
    let Some(identity) = identity else {
        return unauthenticated(&request, auth.config.mode, &state.base_path);
    };
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if (by_cookie && unsafe_method || path.starts_with("/ws/"))
        && !auth.origin_allowed(request.headers(), peer.ip())
    {
        tracing::warn!(%from, %path, "refused a cross-origin request");
        return (
            StatusCode::FORBIDDEN,
            "cross-origin requests are not allowed",
        )
            .into_response();
    }
    let admin = auth.is_admin(&identity);
    request.extensions_mut().insert(Caller {
        identity,
        from,
        admin,
    });
    next.run(request).await
}

/// The client's address: the peer, or the first X-Forwarded-For hop when the peer is a
/// trusted proxy.
fn client_address(auth: &Auth, headers: &HeaderMap, peer: SocketAddr) -> String {
    if !auth.is_trusted_proxy(peer.ip()) {
        return peer.to_string();
    }
    // Proxies append to what the client sent: the nearest hop that is not one of our
    // proxies is the client; anything left of it could be made up.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    hops.iter()
        .rev()
        .find(|hop| {
            hop.parse::<IpAddr>()
                .map_or(true, |ip| !auth.is_trusted_proxy(ip))
        })
        .map(|hop| hop.to_string())
        .unwrap_or_else(|| peer.to_string())
}

fn unauthenticated(request: &Request, mode: Mode, base: &str) -> Response {
    let wants_page = request.method() == Method::GET
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if wants_page && mode != Mode::Proxy {
        let next = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        return Redirect::to(&format!(
            "{base}/login?next={}",
            crate::protocol::encode(next)
        ))
        .into_response();
    }
    let message = match mode {
        Mode::Proxy => "podterm expects its trusted proxy to name the user",
        _ => "authentication required: log in, or send Authorization: Bearer <token>",
    };
    (StatusCode::UNAUTHORIZED, message).into_response()
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// Only local paths, so a login link cannot send the person elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines in URLs, so "/\t/host" would read as "//host".
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b > 0x20 && b != 0x7f && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

/// `GET /login`: the form; with `?token=` (the start-up banner's link), logs in directly.
pub async fn login_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    // Only the access token travels in a link (the banner's); a person's own Kubernetes
    // token in a URL would end up in histories and logs, and invite login CSRF.
    if let Some(token) = query
        .token
        .filter(|_| state.auth.config.mode == Mode::Token)
    {
        return log_in(&state, &headers, peer, &token, &next).await;
    }
    login_form(
        state.auth.config.mode,
        &state.base_path,
        &next,
        None,
        StatusCode::OK,
    )
}

/// `POST /login`.
pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !state.auth.origin_allowed(&headers, peer.ip()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin requests are not allowed",
        )
            .into_response();
    }
    let next = safe_next(form.next.as_deref());
    log_in(&state, &headers, peer, form.token.trim(), &next).await
}

async fn log_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    token: &str,
    next: &str,
) -> Response {
    let auth = &state.auth;
    let identity = match auth.config.mode {
        Mode::Token if auth.token_matches(token) => Identity::TokenHolder,
        Mode::Token => {
            return login_form(
                Mode::Token,
                &state.base_path,
                next,
                Some("That access token is not right."),
                StatusCode::UNAUTHORIZED,
            );
        }
        Mode::UserToken => match state.clusters.who_am_i(token).await {
            Ok((user, groups)) => Identity::OwnToken {
                user,
                groups,
                token: Arc::new(SecretString::from(token.to_string())),
                key: random_hex(16).into(),
            },
            Err(why) => {
                return login_form(
                    Mode::UserToken,
                    &state.base_path,
                    next,
                    Some(&why),
                    StatusCode::UNAUTHORIZED,
                );
            }
        },
        Mode::Proxy => {
            return (
                StatusCode::NOT_FOUND,
                "there is no login here: the proxy in front of podterm logs people in",
            )
                .into_response();
        }
    };
    tracing::info!(user = identity.name(), from = %client_address(auth, headers, peer), "logged in");
    let id = auth.start_session(identity);
    let mut cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
        auth.config.session_lifetime.as_secs()
    );
    if auth.secure(headers, peer.ip()) {
        cookie.push_str("; Secure");
    }
    let mut response = Redirect::to(&format!("{}{next}", state.base_path)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /logout`: ends the session.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        state.auth.end_session(&id);
    }
    let mut response = Redirect::to(&format!("{}/login", state.base_path)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("podterm_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    response
}

fn login_form(
    mode: Mode,
    base: &str,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (label, help) = match mode {
        Mode::UserToken => (
            "Your Kubernetes token",
            "podterm acts as you: it uses this token for your calls to the cluster, keeps it on the server, and never shows it again.",
        ),
        _ => (
            "Access token",
            "The access token is in podterm's start-up message, or wherever your administrator keeps it.",
        ),
    };
    let error = error
        .map(|e| format!(r#"<p class="login-error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · podterm</title><link rel="stylesheet" href="{base}/pkg/podterm.css"><link rel="icon" href="{base}/favicon.svg" type="image/svg+xml"></head>
<body><main class="login"><h1>podterm</h1>
<form method="post" action="{base}/login">
<label for="token">{label}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}">
{error}
<p class="hint">{help}</p>
<button class="button primary" type="submit">Log in</button>
</form></main></body></html>"#,
        next = escape(next),
    );
    (status, Html(page)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/terminal?pod=a")), "/terminal?pod=a");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/\t/evil.example",
            "/\n/x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_nearest_hop_that_is_not_our_proxy() {
        let auth = Auth::new(AuthConfig {
            mode: Mode::Proxy,
            token: None,
            user_header: "x-forwarded-user".into(),
            groups_header: "x-forwarded-groups".into(),
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            allowed_origins: vec![],
            session_lifetime: Duration::from_secs(60),
            admin_users: vec![],
            admin_groups: vec![],
        });
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 192.0.2.7, 10.1.1.1".parse().unwrap(),
        );
        let proxy: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        assert_eq!(
            client_address(&auth, &h, proxy),
            "192.0.2.7",
            "a client-made first hop is not believed"
        );
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        assert_eq!(
            client_address(&auth, &h, stranger),
            "198.51.100.9:5000",
            "untrusted peers' headers are ignored"
        );
    }

    #[test]
    fn cookies_and_bearer() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; podterm_session=xyz; b=2".parse().unwrap(),
        );
        h.insert(header::AUTHORIZATION, "Bearer  tok ".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("xyz"));
        assert_eq!(bearer(&h).as_deref(), Some("tok"));
    }
}
