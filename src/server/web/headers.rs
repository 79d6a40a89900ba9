//! Response headers that keep pages from being framed, sniffed or scripted by others.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// This response's script nonce, made by [`security_headers`] before the handler runs so the
/// page renders with the same value the header names (see `router`'s render context).
#[derive(Clone, Debug)]
pub struct PageNonce(pub String);

/// What the policy needs to know besides the nonce: the dev loop's live-reload port, and
/// how long browsers should insist on HTTPS (`--hsts-seconds`).
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicySettings {
    pub reload_port: Option<u32>,
    pub hsts_seconds: Option<u64>,
}

/// The Content-Security-Policy: only podterm's own scripts (plus the hydration script with
/// its nonce), wasm, and same-origin connections. xterm.js's DOM renderer injects style
/// elements, hence 'unsafe-inline' for styles only. `reload_port` opens the dev loop's
/// live-reload socket.
pub fn content_security_policy(nonce: Option<&str>, reload_port: Option<u32>) -> String {
    let nonce = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let reload = reload_port
        .map(|p| format!(" ws://127.0.0.1:{p} ws://localhost:{p}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'{reload}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

pub async fn security_headers(
    State(settings): State<PolicySettings>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = crate::server::web::logins::random_hex(16);
    request.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = content_security_policy(Some(&nonce), settings.reload_port);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    // Pages and server-function answers hold pod lists and names: no copy in the
    // browser's cache (Back after Log out). Built files say how they are cached.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(seconds) = settings.hsts_seconds
        && let Ok(value) = HeaderValue::from_str(&format!("max-age={seconds}"))
    {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
    response
}
