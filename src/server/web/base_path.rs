//! Serving under a path prefix (`/terminal` behind a proxy), chosen at run time.
//!
//! Pages and API requests arrive with the prefix (the proxy passes the path through);
//! podterm removes it and routes as if served at the root. Requests without it still work
//! (probes at `/healthz`), except that a stripped `/terminal` deep link under the base
//! `/terminal` would read as the dashboard: proxies must not strip the prefix. Everything
//! podterm sends to the browser (links, assets, redirects, server-function, socket and feed
//! URLs) carries it.

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

/// `""` for the root, else `/a/b`: leading slash, no trailing slash.
pub fn normalize(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let path = if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    };
    let ok = path.split('/').skip(1).all(|segment| {
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    });
    if ok {
        Ok(path)
    } else {
        Err(format!(
            "base path {raw:?} must be path segments of letters, digits and -._~ (like /terminal)"
        ))
    }
}

/// The request's path without the prefix, when it has it.
fn strip<'a>(base: &str, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

pub async fn middleware(State(base): State<String>, mut request: Request, next: Next) -> Response {
    if !base.is_empty()
        && let Some(rest) = strip(&base, request.uri().path())
    {
        let path_and_query = match request.uri().query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_string(),
        };
        if let Ok(uri) = path_and_query.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(normalize("").unwrap(), "");
        assert_eq!(normalize("/").unwrap(), "");
        assert_eq!(normalize("terminal/").unwrap(), "/terminal");
        assert_eq!(normalize("/a/b-c").unwrap(), "/a/b-c");
        for bad in ["/a//b", "/../x", "/a b", "/a?b", "/é"] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
        assert_eq!(strip("/terminal", "/terminal"), Some("/"));
        assert_eq!(strip("/terminal", "/terminal/pkg/x.js"), Some("/pkg/x.js"));
        assert_eq!(strip("/terminal", "/terminals"), None);
        assert_eq!(strip("/terminal", "/pkg/x.js"), None);
    }
}
