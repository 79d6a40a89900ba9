//! Who sent a request: the peer, or the client a trusted proxy forwards for; and the host
//! the browser asked for.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};

use crate::server::web::auth::Auth;

/// Who sent a request: for logs and audit (`address`), and for throttling (`ip`).
pub(super) struct Client {
    pub address: String,
    pub ip: IpAddr,
}

/// The peer, or the nearest X-Forwarded-For hop that is not one of our proxies when the
/// peer is a trusted proxy.
pub(super) fn client(auth: &Auth, headers: &HeaderMap, peer: SocketAddr) -> Client {
    match forwarded_client(auth, headers, peer) {
        Some(hop) => Client {
            ip: hop.parse::<IpAddr>().unwrap_or(peer.ip()).to_canonical(),
            address: hop.to_string(),
        },
        None => Client {
            address: peer.to_string(),
            ip: peer.ip().to_canonical(),
        },
    }
}

fn forwarded_client<'h>(auth: &Auth, headers: &'h HeaderMap, peer: SocketAddr) -> Option<&'h str> {
    if !auth.is_trusted_proxy(peer.ip()) {
        return None;
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
        .copied()
}

/// The first value of a header a trusted proxy sets.
pub(super) fn forwarded(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(value.split(',').next().unwrap_or("").trim().to_string())
}

/// The host the browser asked for: a trusted proxy's `X-Forwarded-Host`, else `Host`.
pub(super) fn served_host(headers: &HeaderMap, trusted: bool) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::server::web::auth::{AuthConfig, Mode};
    use crate::server::web::impersonation::ImpersonationPolicy;

    #[test]
    fn the_client_is_the_nearest_hop_that_is_not_our_proxy() {
        let auth = Auth::new(AuthConfig {
            mode: Mode::Proxy,
            token: None,
            user_header: "x-forwarded-user".into(),
            groups_header: "x-forwarded-groups".into(),
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            allowed_origins: vec![],
            login_lifetime: Duration::from_secs(60),
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
            client(&auth, &h, proxy).address,
            "192.0.2.7",
            "a client-made first hop is not believed"
        );
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:5000".parse().unwrap();
        assert_eq!(
            client(&auth, &h, mapped).address,
            "192.0.2.7",
            "an IPv4 proxy seen by a [::] listener is still the proxy"
        );
        let stranger: SocketAddr = "198.51.100.9:5000".parse().unwrap();
        assert_eq!(
            client(&auth, &h, stranger).address,
            "198.51.100.9:5000",
            "untrusted peers' headers are ignored"
        );
    }
}
