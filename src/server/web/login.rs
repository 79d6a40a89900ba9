//! Logging in and out: the login page and form, the access token or a person's own
//! Kubernetes token checked and bound to one cluster context, the login cookie set and
//! cleared, and where to go next.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;

use crate::server::AppState;
use crate::server::web::auth::{Mode, cross_origin, too_many_tries};
use crate::server::web::client::client;
use crate::server::web::identity::Identity;
use crate::server::web::login_cookie::{self, LoginCookie};
use crate::server::web::login_page::{self, ClusterChoice, LoginPage};
use crate::server::web::logins::random_hex;

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
    let from = client(auth, headers, peer);
    let ip = from.ip;
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
    tracing::info!(user = identity.name(), from = %from.address, "logged in");
    // A new login replaces the one this browser had (user-token mode: for another context).
    for old in login_cookie::candidates(headers, &state.base_path) {
        auth.end_login(&old);
    }
    let id = auth.start_login(identity);
    let cookie =
        login_cookie_for(state, headers, peer).set(&id, auth.config.login_lifetime.as_secs());
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
        state.auth.end_login(&id);
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
    // The cluster a user-token login is for.
    let cluster = (mode == Mode::UserToken).then(|| ClusterChoice {
        contexts: state
            .clusters
            .contexts()
            .into_iter()
            .map(|c| c.name)
            .collect(),
        chosen: context
            .map(str::to_string)
            .or_else(|| state.clusters.current())
            .unwrap_or_default(),
    });
    let page = login_page::render(LoginPage {
        base: state.base_path.clone(),
        mode,
        next: next.to_string(),
        error: error.map(str::to_string),
        cluster,
    });
    (status, Html(page)).into_response()
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
