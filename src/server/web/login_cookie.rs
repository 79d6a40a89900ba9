//! The login cookie: its name, its attributes, and finding it among the cookies a
//! browser sends.
//!
//! Over HTTPS it is `__Host-podterm_session`: browsers only keep such a cookie when it is
//! `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot set or shadow it.
//! Under a base path the path goes into the name (`__Host-podterm_session!terminal`), as
//! `Path` must stay `/`. Over plain HTTP it is `podterm_session` with `Path` set to the base
//! path. Several cookies of that name may arrive (one planted for a parent path or domain,
//! or an empty one): the first that names a live login counts.

use axum::http::{HeaderMap, header};

/// The cookie's name over plain HTTP, and the stem of the HTTPS one.
pub const COOKIE: &str = "podterm_session";
const HOST_PREFIX: &str = "__Host-";

/// How the login cookie is named and scoped for one request.
pub struct LoginCookie {
    name: String,
    path: String,
    secure: bool,
}

impl LoginCookie {
    /// `secure` when the browser reached podterm over HTTPS; `base` as normalised.
    pub fn new(secure: bool, base: &str) -> Self {
        if secure {
            let suffix = base.replace('/', "!");
            Self {
                name: format!("{HOST_PREFIX}{COOKIE}{suffix}"),
                path: "/".into(),
                secure,
            }
        } else {
            Self {
                name: COOKIE.into(),
                path: if base.is_empty() { "/" } else { base }.into(),
                secure,
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Set-Cookie` value that stores `id` for `max_age_secs`.
    pub fn set(&self, id: &str, max_age_secs: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={id}; HttpOnly; SameSite=Lax; Path={}; Max-Age={max_age_secs}{secure}",
            self.name, self.path
        )
    }

    /// The `Set-Cookie` value that removes it.
    pub fn clear(&self) -> String {
        self.set("", 0)
    }
}

/// Every value of a login cookie in the request, in the order sent: cookies named as
/// either kind for this base path.
pub fn candidates(headers: &HeaderMap, base: &str) -> Vec<String> {
    let secure_name = LoginCookie::new(true, base).name;
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            let v = v.trim();
            ((k == COOKIE || k == secure_name) && !v.is_empty()).then(|| v.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, cookie.parse().unwrap());
        h
    }

    #[test]
    fn names_and_attributes() {
        let plain = LoginCookie::new(false, "/terminal");
        assert_eq!(
            plain.set("abc", 60),
            "podterm_session=abc; HttpOnly; SameSite=Lax; Path=/terminal; Max-Age=60"
        );
        let https = LoginCookie::new(true, "/terminal");
        assert_eq!(
            https.set("abc", 60),
            "__Host-podterm_session!terminal=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        assert!(
            LoginCookie::new(true, "")
                .clear()
                .starts_with("__Host-podterm_session=;")
        );
        assert!(LoginCookie::new(false, "").set("x", 1).contains("Path=/;"));
    }

    #[test]
    fn every_candidate_in_order_and_empty_ones_skipped() {
        let h = headers("a=1; podterm_session=; podterm_session=old; __Host-podterm_session=new");
        assert_eq!(candidates(&h, ""), ["old", "new"]);
        let h = headers("__Host-podterm_session=root; __Host-podterm_session!terminal=mine");
        assert_eq!(candidates(&h, "/terminal"), ["mine"]);
    }
}
