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

use crate::server::AppState;
use crate::server::web::impersonation::ImpersonationPolicy;
use crate::server::web::login_cookie::{self, LoginCookie};
use crate::server::web::login_throttle::{LoginThrottle, retry_after_seconds};

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
    /// Whom a proxy's users may be impersonated as (proxy mode).
    pub impersonation: ImpersonationPolicy,
    /// When not empty, the only `Host` names served (health checks excepted).
    pub allowed_hosts: Vec<String>,
    /// `Strict-Transport-Security: max-age=` this, when set.
    pub hsts_seconds: Option<u64>,
}

/// Whom a request acts for.
#[derive(Clone)]
pub enum Identity {
    /// The holder of the access token; cluster calls use podterm's own credentials.
    TokenHolder,
    /// Named by a trusted proxy; cluster calls carry Impersonate-User/Group.
    Proxied { user: String, groups: Vec<String> },
    /// Logged in with their own Kubernetes token; cluster calls use it, and only with the
    /// cluster context it was checked against.
    OwnToken {
        user: String,
        groups: Vec<String>,
        token: Arc<SecretString>,
        key: Arc<str>,
        context: Arc<str>,
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
    throttle: LoginThrottle,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Self {
        Self::with_throttle(config, LoginThrottle::default())
    }

    pub fn with_throttle(config: AuthConfig, throttle: LoginThrottle) -> Self {
        Self {
            config,
            sessions: Mutex::new(HashMap::new()),
            throttle,
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

    /// The first cookie-borne login that is still live.
    fn session_from(&self, headers: &HeaderMap, base: &str) -> Option<Identity> {
        login_cookie::candidates(headers, base)
            .iter()
            .find_map(|id| self.session(id))
    }

    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        // A `[::]` listener sees IPv4 clients as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        self.config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
    }

    /// Whether the request names a host podterm serves (always, without a list).
    fn host_allowed(&self, headers: &HeaderMap, peer: IpAddr) -> bool {
        if self.config.allowed_hosts.is_empty() {
            return true;
        }
        served_host(headers, self.is_trusted_proxy(peer)).is_some_and(|host| {
            self.config
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&host))
        })
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
        let scheme = trusted
            .then(|| forwarded(headers, "x-forwarded-proto"))
            .flatten()
            .unwrap_or_else(|| "http".into());
        served_host(headers, trusted).is_some_and(|host| origin == format!("{scheme}://{host}"))
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

/// The first value of a header a trusted proxy sets.
fn forwarded(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.split(',').next().unwrap_or("").trim().to_string())
}

/// The host the browser asked for: a trusted proxy's `X-Forwarded-Host`, else `Host`.
fn served_host(headers: &HeaderMap, trusted: bool) -> Option<String> {
    trusted
        .then(|| forwarded(headers, "x-forwarded-host"))
        .flatten()
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
}

pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
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
    is_health(path)
        || matches!(path, "/login" | "/logout" | "/favicon.svg")
        || path.starts_with("/pkg/")
        || path.starts_with("/vendor/")
}

/// Probes ask by address, whatever the host allow-list says.
fn is_health(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Authenticates every request that is not public, and checks cross-site use.
pub async fn middleware(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let auth = &state.auth;
    if !is_health(&path) && !auth.host_allowed(request.headers(), peer.ip()) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "podterm does not serve this host name: use the address your administrator gave you",
        )
            .into_response();
    }
    if is_public(&path) {
        return next.run(request).await;
    }
    let from = client_address(auth, request.headers(), peer);
    let (identity, by_cookie) = match identify(&state, request.headers(), peer, &from) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
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
        return cross_origin();
    }
    let admin = auth.is_admin(&identity);
    request.extensions_mut().insert(Caller {
        identity,
        from,
        admin,
    });
    next.run(request).await
}

/// Who the request is from, and whether a cookie (or a proxy's cookie) said so; a
/// refusal when the request may not go on at all.
fn identify(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    from: &str,
) -> Result<(Option<Identity>, bool), Refusal> {
    let auth = &state.auth;
    match auth.config.mode {
        Mode::Token => match bearer(headers) {
            Some(offered) => {
                let ip = client_ip(auth, headers, peer);
                auth.throttle.check(ip).map_err(Refusal::TooManyTries)?;
                if auth.token_matches(&offered) {
                    Ok((Some(Identity::TokenHolder), false))
                } else {
                    auth.throttle.count(ip);
                    Ok((None, false))
                }
            }
            None => Ok((auth.session_from(headers, &state.base_path), true)),
        },
        Mode::UserToken => Ok((auth.session_from(headers, &state.base_path), true)),
        // The proxy's own session cookie rides along like ours: check Origin too.
        Mode::Proxy if auth.is_trusted_proxy(peer.ip()) => {
            proxied(state, headers, from).map(|identity| (identity, true))
        }
        Mode::Proxy => Ok((None, false)),
    }
}

/// The person a trusted proxy names, if podterm may act as them.
fn proxied(state: &AppState, headers: &HeaderMap, from: &str) -> Result<Option<Identity>, Refusal> {
    let config = &state.auth.config;
    for name in [&config.user_header, &config.groups_header] {
        if headers.get_all(name.as_str()).iter().count() > 1 {
            return Err(Refusal::RepeatedHeader(name.clone()));
        }
    }
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(user) = value(&config.user_header)
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    let groups: Vec<String> = value(&config.groups_header)
        .unwrap_or("")
        .split(',')
        .map(|g| g.trim().to_string())
        .filter(|g| !g.is_empty())
        .collect();
    match config.impersonation.check(user, &groups) {
        Ok(groups) => Ok(Some(Identity::Proxied {
            user: user.to_string(),
            groups,
        })),
        Err(why) => {
            tracing::warn!(user, ?groups, %from, reason = %why, "refused a proxied person");
            state.audit.login_refused(user, &groups, from, &why);
            Err(Refusal::NotImpersonable(why))
        }
    }
}

/// Why a request goes no further than authentication.
enum Refusal {
    TooManyTries(Duration),
    RepeatedHeader(String),
    NotImpersonable(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::TooManyTries(wait) => too_many_tries(wait),
            Refusal::RepeatedHeader(name) => (
                StatusCode::BAD_REQUEST,
                format!(
                    "podterm refuses a request with more than one {name} header: the proxy should send one"
                ),
            )
                .into_response(),
            Refusal::NotImpersonable(why) => (
                StatusCode::FORBIDDEN,
                format!("{why}. Ask your administrator."),
            )
                .into_response(),
        }
    }
}

fn cross_origin() -> Response {
    (
        StatusCode::FORBIDDEN,
        "cross-origin requests are not allowed",
    )
        .into_response()
}

fn too_many_tries(wait: Duration) -> Response {
    let seconds = retry_after_seconds(wait);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        format!("Too many login attempts from here. Try again in {seconds} seconds."),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
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

/// The client's IP address, as [`client_address`] finds it.
fn client_ip(auth: &Auth, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    let from = client_address(auth, headers, peer);
    from.parse::<IpAddr>()
        .unwrap_or_else(|_| peer.ip())
        .to_canonical()
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
    context: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
    context: Option<String>,
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

/// The cluster context a login is for: asked for, else the one `next` names.
fn login_context(asked: Option<&str>, next: &str) -> Option<String> {
    asked
        .map(str::to_string)
        .or_else(|| {
            #[derive(Deserialize)]
            struct Named {
                context: Option<String>,
            }
            let uri: axum::http::Uri = next.parse().ok()?;
            Query::<Named>::try_from_uri(&uri).ok()?.0.context
        })
        .filter(|c| !c.is_empty())
}

/// `GET /login`: the form; with `?token=` (the start-up banner's link), logs in directly.
pub async fn login_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    let context = login_context(query.context.as_deref(), &next);
    // Only the access token travels in a link (the banner's); a person's own Kubernetes
    // token in a URL would end up in histories and logs, and invite login CSRF.
    if let Some(token) = query
        .token
        .filter(|_| state.auth.config.mode == Mode::Token)
    {
        return log_in(&state, &headers, peer, &token, &next, context).await;
    }
    login_form(&state, &next, context.as_deref(), None, StatusCode::OK)
}

/// `POST /login`.
pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !state.auth.origin_allowed(&headers, peer.ip()) {
        return cross_origin();
    }
    let next = safe_next(form.next.as_deref());
    let context = login_context(form.context.as_deref(), &next);
    log_in(&state, &headers, peer, form.token.trim(), &next, context).await
}

async fn log_in(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    token: &str,
    next: &str,
    context: Option<String>,
) -> Response {
    let auth = &state.auth;
    if auth.config.mode == Mode::Proxy {
        return (
            StatusCode::NOT_FOUND,
            "there is no login here: the proxy in front of podterm logs people in",
        )
            .into_response();
    }
    let ip = client_ip(auth, headers, peer);
    if let Err(wait) = auth.throttle.check(ip) {
        return too_many_tries(wait);
    }
    let identity = match auth.config.mode {
        Mode::UserToken => {
            // Every check asks the cluster: count them all, so podterm is no oracle.
            auth.throttle.count(ip);
            match own_token_identity(state, token, context.as_deref()).await {
                Ok(identity) => identity,
                Err(why) => {
                    return login_form(
                        state,
                        next,
                        context.as_deref(),
                        Some(&why),
                        StatusCode::UNAUTHORIZED,
                    );
                }
            }
        }
        _ if auth.token_matches(token) => Identity::TokenHolder,
        _ => {
            auth.throttle.count(ip);
            return login_form(
                state,
                next,
                None,
                Some("That access token is not right."),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    tracing::info!(user = identity.name(), from = %client_address(auth, headers, peer), "logged in");
    // A new login replaces the one this browser had (user-token mode: for another context).
    for old in login_cookie::candidates(headers, &state.base_path) {
        auth.end_session(&old);
    }
    let id = auth.start_session(identity);
    let cookie =
        login_cookie_for(state, headers, peer).set(&id, auth.config.session_lifetime.as_secs());
    let mut response = Redirect::to(&format!("{}{next}", state.base_path)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Checks a person's own token with the context they log in for; the login is bound to it.
async fn own_token_identity(
    state: &AppState,
    token: &str,
    context: Option<&str>,
) -> Result<Identity, String> {
    let context = match context {
        Some(c) => c.to_string(),
        None => state
            .clusters
            .current()
            .ok_or("podterm has no cluster contexts to log in to")?,
    };
    let (user, groups) = state.clusters.who_am_i(&context, token).await?;
    Ok(Identity::OwnToken {
        user,
        groups,
        token: Arc::new(SecretString::from(token.to_string())),
        key: random_hex(16).into(),
        context: context.into(),
    })
}

fn login_cookie_for(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> LoginCookie {
    LoginCookie::new(state.auth.secure(headers, peer.ip()), &state.base_path)
}

/// `POST /logout`: ends the login; only from podterm's own pages.
pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if !state.auth.origin_allowed(&headers, peer.ip()) {
        return cross_origin();
    }
    for id in login_cookie::candidates(&headers, &state.base_path) {
        state.auth.end_session(&id);
    }
    let mut response = Redirect::to(&format!("{}/login", state.base_path)).into_response();
    if let Ok(value) = HeaderValue::from_str(&login_cookie_for(&state, &headers, peer).clear()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn login_form(
    state: &AppState,
    next: &str,
    context: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mode = state.auth.config.mode;
    let base = &state.base_path;
    let (label, help) = match mode {
        Mode::UserToken => (
            "Your Kubernetes token",
            "podterm acts as you: it uses this token for your calls to this cluster only, keeps it on the server, and never shows it again. Another cluster needs its own login, which replaces this one.",
        ),
        _ => (
            "Access token",
            "The access token is in podterm's start-up message, or wherever your administrator keeps it.",
        ),
    };
    let error = error
        .map(|e| format!(r#"<p class="login-error" role="alert">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let contexts = if mode == Mode::UserToken {
        context_choice(state, context)
    } else {
        String::new()
    };
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · podterm</title><link rel="stylesheet" href="{base}/pkg/podterm.css"><link rel="icon" href="{base}/favicon.svg" type="image/svg+xml"></head>
<body><main class="login"><h1>podterm</h1>
<form method="post" action="{base}/login">
{contexts}<label for="token">{label}</label>
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

/// The cluster a user-token login is for: a choice when there are several.
fn context_choice(state: &AppState, chosen: Option<&str>) -> String {
    let contexts = state.clusters.contexts();
    let chosen = chosen
        .map(str::to_string)
        .or_else(|| state.clusters.current())
        .unwrap_or_default();
    if contexts.len() < 2 {
        return format!(
            r#"<input type="hidden" name="context" value="{}">"#,
            escape(&chosen)
        );
    }
    let options: String = contexts
        .iter()
        .map(|c| {
            let selected = if c.name == chosen { " selected" } else { "" };
            format!(
                r#"<option value="{0}"{selected}>{0}</option>"#,
                escape(&c.name)
            )
        })
        .collect();
    format!(
        r#"<label for="context">Cluster</label>
<select id="context" name="context">{options}</select>
"#
    )
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
            impersonation: ImpersonationPolicy::default(),
            allowed_hosts: vec![],
            hsts_seconds: None,
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
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:5000".parse().unwrap();
        assert_eq!(
            client_address(&auth, &h, mapped),
            "192.0.2.7",
            "an IPv4 proxy seen by a [::] listener is still the proxy"
        );
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        assert_eq!(
            client_address(&auth, &h, stranger),
            "198.51.100.9:5000",
            "untrusted peers' headers are ignored"
        );
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer  tok ".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("tok"));
    }

    #[test]
    fn a_login_is_for_the_context_asked_for_or_the_one_next_names() {
        assert_eq!(
            login_context(Some("a"), "/?context=b").as_deref(),
            Some("a")
        );
        assert_eq!(
            login_context(None, "/terminal?pod=x&context=b%40c").as_deref(),
            Some("b@c")
        );
        assert_eq!(login_context(None, "/"), None);
        assert_eq!(login_context(Some(""), "/"), None);
    }
}
