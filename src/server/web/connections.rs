//! How many connections podterm serves: a total (half the process's files by default) and
//! a share per client address, so no one client can take every place. Every listener of
//! the process counts here; the accept loop is `listener`.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnet::IpNet;

use crate::server::tally::Tally;
use crate::server::web::metrics::Metrics;

/// Default for `--header-read-timeout-seconds`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `--max-connections-per-address`: room for a busy office behind one NAT.
pub const DEFAULT_PER_ADDRESS: usize = 1024;
/// The default total never goes above this, however many files the process may open.
const MAX_DEFAULT_CONNECTIONS: usize = 16_384;

/// How many connections are served, and how long a request's headers may take.
#[derive(Clone, Debug)]
pub struct Settings {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
}

impl Settings {
    /// The defaults for a process that may open `open_files` files: half of them for
    /// clients, the rest for the API server connections behind terminals and for files.
    pub fn for_open_files(open_files: u64) -> Self {
        let half = usize::try_from(open_files / 2).unwrap_or(usize::MAX);
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: half.clamp(1, MAX_DEFAULT_CONNECTIONS),
            max_connections_per_address: DEFAULT_PER_ADDRESS,
        }
    }

    /// The defaults for this process's current open-file limit.
    pub fn from_open_file_limit() -> Self {
        Self::for_open_files(open_file_limit())
    }

    /// What one address may hold: never more than half of the total, so one address can
    /// never take every place.
    pub fn per_address(&self) -> usize {
        self.max_connections_per_address
            .min(self.max_connections / 2)
            .max(1)
    }
}

/// The soft open-file limit (the usual default, 1024, when it cannot be read).
pub fn open_file_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

/// Raises the soft open-file limit to the hard one, and returns the limit in force.
pub fn raise_open_file_limit() -> u64 {
    use rlimit::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::NOFILE, hard, hard)
    {
        tracing::debug!("cannot raise the open-file limit from {soft} to {hard}: {e}");
    }
    open_file_limit()
}

/// Which limit refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Total,
    Address,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Total => "total",
            Refusal::Address => "address",
        }
    }
}

/// The open connections, counted in total and per client address. Shared by every listener
/// of the process, as they share its files.
pub struct Connections {
    settings: Settings,
    /// Trusted proxies carry many people's connections: only the total applies to them.
    exempt: Vec<IpNet>,
    counts: Mutex<Tally<IpAddr>>,
    metrics: Arc<Metrics>,
}

impl Connections {
    pub fn new(settings: Settings, exempt: Vec<IpNet>, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            settings,
            exempt,
            counts: Mutex::default(),
            metrics,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(super) fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A place for a connection from `peer`, held until the returned slot is dropped.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refusal> {
        let peer = peer.to_canonical();
        let key = (!self.exempt.iter().any(|net| net.contains(&peer))).then(|| client_key(peer));
        let mut counts = self.counts();
        if counts.total() >= self.settings.max_connections {
            return Err(Refusal::Total);
        }
        if key.is_some_and(|key| counts.of(&key) >= self.settings.per_address()) {
            return Err(Refusal::Address);
        }
        counts.add(key);
        drop(counts);
        self.metrics.connections_open.inc();
        Ok(Slot {
            connections: self.clone(),
            key,
        })
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.counts().total()
    }

    fn release(&self, key: Option<IpAddr>) {
        self.counts().remove(key.as_ref());
        self.metrics.connections_open.dec();
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Tally<IpAddr>> {
        // The counts stay consistent even if a holder panicked: each change is one statement.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What one client is counted as: its IPv4 address, or its IPv6 /64 (one host is usually
/// given a whole /64, so counting single IPv6 addresses would limit nothing).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

/// A connection's place; given back when the socket closes.
pub struct Slot {
    connections: Arc<Connections>,
    key: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.release(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(total: usize, per_address: usize, exempt: &[&str]) -> Arc<Connections> {
        Connections::new(
            Settings {
                header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
                max_connections: total,
                max_connections_per_address: per_address,
            },
            exempt.iter().map(|n| n.parse().unwrap()).collect(),
            Arc::new(Metrics::new()),
        )
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_address_never_takes_more_than_half() {
        let c = connections(10, 1000, &[]);
        let held: Vec<Slot> = (0..5).map(|_| c.admit(ip("10.0.0.1")).unwrap()).collect();
        assert_eq!(c.admit(ip("10.0.0.1")).err(), Some(Refusal::Address));
        assert!(c.admit(ip("10.0.0.2")).is_ok());
        drop(held);
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn mapped_ipv4_and_one_ipv6_network_count_as_one_client() {
        let c = connections(100, 2, &[]);
        let _a = c.admit(ip("192.0.2.7")).unwrap();
        let _b = c.admit(ip("::ffff:192.0.2.7")).unwrap();
        assert_eq!(c.admit(ip("192.0.2.7")).err(), Some(Refusal::Address));
        let _c = c.admit(ip("2001:db8::1")).unwrap();
        let _d = c.admit(ip("2001:db8::2")).unwrap();
        assert_eq!(c.admit(ip("2001:db8::3")).err(), Some(Refusal::Address));
        assert!(c.admit(ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn trusted_proxies_are_held_only_to_the_total() {
        let c = connections(6, 1, &["10.1.0.0/16"]);
        let held: Vec<Slot> = (0..6).map(|_| c.admit(ip("10.1.2.3")).unwrap()).collect();
        assert_eq!(c.admit(ip("10.9.9.9")).err(), Some(Refusal::Total));
        drop(held);
        assert!(c.admit(ip("10.9.9.9")).is_ok());
    }

    #[test]
    fn defaults_leave_half_the_files_and_stay_bounded() {
        assert_eq!(Settings::for_open_files(256).max_connections, 128);
        assert_eq!(Settings::for_open_files(256).per_address(), 64);
        assert_eq!(
            Settings::for_open_files(1 << 20).max_connections,
            MAX_DEFAULT_CONNECTIONS
        );
        assert_eq!(Settings::for_open_files(0).per_address(), 1);
    }
}
