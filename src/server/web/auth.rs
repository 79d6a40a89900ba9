//! Who is calling: the checks every request passes before it is served (a login cookie,
//! a bearer token, or a trusted proxy's headers). Whom a request acts for is `identity`,
//! the live logins `logins`; logging in and out is `login`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::server::AppState;
use crate::server::web::client::{Client, client, forwarded, served_host};
use crate::server::web::identity::{Caller, Identity};
use crate::server::web::impersonation::ImpersonationPolicy;
use crate::server::web::login_cookie;
use crate::server::web::login_throttle::{LoginThrottle, retry_after_seconds};
use crate::server::web::logins::Logins;

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
    pub login_lifetime: Duration,
    pub admin_users: Vec<String>,
    pub admin_groups: Vec<String>,
    /// Whom a proxy's users may be impersonated as (proxy mode).
    pub impersonation: ImpersonationPolicy,
    /// When not empty, the only `Host` names served (health checks excepted).
    pub allowed_hosts: Vec<String>,
    /// `Strict-Transport-Security: max-age=` this, when set.
    pub hsts_seconds: Option<u64>,
}

pub struct Auth {
    pub config: AuthConfig,
    logins: Logins,
    pub(super) throttle: LoginThrottle,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Self {
        Self::with_throttle(config, LoginThrottle::default())
    }

    pub fn with_throttle(config: AuthConfig, throttle: LoginThrottle) -> Self {
        Self {
            config,
            logins: Logins::default(),
            throttle,
        }
    }

    pub(super) fn start_login(&self, identity: Identity) -> String {
        self.logins.start(identity, self.config.login_lifetime)
    }

    pub(super) fn end_login(&self, id: &str) {
        self.logins.end(id);
    }

    pub(super) fn token_matches(&self, offered: &str) -> bool {
        self.config.token.as_ref().is_some_and(|t| {
            t.expose_secret()
                .as_bytes()
                .ct_eq(offered.as_bytes())
                .into()
        })
    }

    /// The first cookie-borne login that is still live.
    fn login_from(&self, headers: &HeaderMap, base: &str) -> Option<Identity> {
        login_cookie::candidates(headers, base)
            .iter()
            .find_map(|id| self.logins.find(id))
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
    pub(super) fn secure(&self, headers: &HeaderMap, peer: IpAddr) -> bool {
        self.is_trusted_proxy(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                == Some("https")
    }
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
    let from = client(auth, request.headers(), peer);
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
    // A log follow holds a stream open, a debug container changes a pod, a transfer moves
    // files: only our own pages may start one, whatever the credentials.
    let streams = ["/ws/", "/api/logs/", "/api/debug/", "/api/files/"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    // A download is a navigation, which carries no Origin: Fetch Metadata says where from.
    let foreign = path.starts_with("/api/files/")
        && matches!(
            request
                .headers()
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok()),
            Some("cross-site" | "same-site")
        );
    if (by_cookie && unsafe_method || streams) && !auth.origin_allowed(request.headers(), peer.ip())
        || foreign
    {
        tracing::warn!(from = %from.address, %path, "refused a cross-origin request");
        return cross_origin();
    }
    let admin = auth.is_admin(&identity);
    request.extensions_mut().insert(Caller {
        identity,
        from: from.address,
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
    from: &Client,
) -> Result<(Option<Identity>, bool), Refusal> {
    let auth = &state.auth;
    match auth.config.mode {
        Mode::Token => match bearer(headers) {
            Some(offered) => {
                auth.throttle
                    .check(from.ip)
                    .map_err(Refusal::TooManyTries)?;
                if auth.token_matches(&offered) {
                    Ok((Some(Identity::TokenHolder), false))
                } else {
                    auth.throttle.count(from.ip);
                    Ok((None, false))
                }
            }
            None => Ok((auth.login_from(headers, &state.base_path), true)),
        },
        Mode::UserToken => Ok((auth.login_from(headers, &state.base_path), true)),
        // The proxy's own session cookie rides along like ours: check Origin too.
        Mode::Proxy if auth.is_trusted_proxy(peer.ip()) => {
            proxied(state, headers, &from.address).map(|identity| (identity, true))
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

pub(super) fn cross_origin() -> Response {
    (
        StatusCode::FORBIDDEN,
        "cross-origin requests are not allowed",
    )
        .into_response()
}

pub(super) fn too_many_tries(wait: Duration) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer  tok ".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("tok"));
    }
}
