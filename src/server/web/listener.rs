//! The accept loop: a header-read timeout, a total and a per-address connection limit, and
//! graceful shutdown. A client that opens connections and never finishes its requests
//! (slowloris) can hold neither the process's files nor everyone else's place.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
    counts: Mutex<Counts>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
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

    /// A place for a connection from `peer`, held until the returned slot is dropped.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Refusal> {
        let peer = peer.to_canonical();
        let key = (!self.exempt.iter().any(|net| net.contains(&peer))).then(|| client_key(peer));
        let mut counts = self.counts();
        if counts.total >= self.settings.max_connections {
            return Err(Refusal::Total);
        }
        if let Some(key) = key {
            let held = counts.by_address.entry(key).or_default();
            if *held >= self.settings.per_address() {
                return Err(Refusal::Address);
            }
            *held += 1;
        }
        counts.total += 1;
        drop(counts);
        self.metrics.connections_open.inc();
        Ok(Slot {
            connections: self.clone(),
            key,
        })
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.counts().total
    }

    fn release(&self, key: Option<IpAddr>) {
        let mut counts = self.counts();
        counts.total = counts.total.saturating_sub(1);
        if let Some(key) = key
            && let Some(held) = counts.by_address.get_mut(&key)
        {
            *held -= 1;
            if *held == 0 {
                counts.by_address.remove(&key);
            }
        }
        drop(counts);
        self.metrics.connections_open.dec();
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
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

/// A socket that holds its place for as long as it lives: after a WebSocket upgrade the
/// socket outlives hyper's connection, and must still count.
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets
/// open requests finish and returns. Upgraded connections (terminals) have left hyper by
/// then and do not hold this up.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    connections: Arc<Connections>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let builder = http_builder(connections.settings().header_read_timeout);
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    let mut accept_errors = AcceptErrors::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = accept(&listener, &mut accept_errors) => accepted,
            () = &mut shutdown => break,
        };
        let slot = match connections.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                // Closed at once rather than left to pile up in the kernel's backlog.
                drop(stream);
                connections.metrics.connection_refused(refusal.label());
                tracing::debug!(%peer, limit = refusal.label(), "refused a connection over the limit");
                continue;
            }
        };
        // Keystrokes and their echoes are tiny writes: never hold them back for Nagle.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let connection = builder
            .serve_connection(io, with_peer(router.clone(), peer))
            .with_upgrades();
        let metrics = connections.metrics.clone();
        let stop = stop.clone();
        tracker.spawn(async move {
            if let Err(e) = until_stopped(connection, stop).await {
                connection_ended_with(&e, &metrics, peer);
            }
        });
    }
    drop(listener);
    stop.cancel();
    tracker.close();
    tracker.wait().await;
    Ok(())
}

fn http_builder(header_read_timeout: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder
}

/// Runs a connection; once `stop` fires, it finishes the request in flight and closes.
async fn until_stopped<S>(
    connection: http1::UpgradeableConnection<TokioIo<Counted>, S>,
    stop: CancellationToken,
) -> Result<(), hyper::Error>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result,
        () = stop.cancelled() => connection.as_mut().graceful_shutdown(),
    }
    connection.await
}

/// The router, with the peer's address on every request (`ConnectInfo<SocketAddr>`).
fn with_peer(
    router: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> {
    use tower::ServiceExt;
    hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    })
}

fn connection_ended_with(error: &hyper::Error, metrics: &Metrics, peer: SocketAddr) {
    if error.is_timeout() {
        metrics.header_read_timeouts.inc();
        tracing::debug!(%peer, "closed a connection that did not send its request headers in time");
    } else {
        tracing::debug!(%peer, "connection ended: {error}");
    }
}

/// The next connection. Errors such as running out of files are waited out, not spun on.
async fn accept(listener: &TcpListener, errors: &mut AcceptErrors) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                errors.log(&e);
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
}

const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// Logs accept errors once in a while, with how many there were since.
#[derive(Default)]
struct AcceptErrors {
    logged: Option<Instant>,
    since: u64,
}

impl AcceptErrors {
    fn log(&mut self, error: &io::Error) {
        self.since += 1;
        if self
            .logged
            .is_some_and(|at| at.elapsed() < ACCEPT_ERROR_LOG_EVERY)
        {
            return;
        }
        tracing::error!(
            "cannot accept connections: {error} ({} times in a row); if podterm ran out of files, lower --max-connections or raise its open-file limit",
            self.since
        );
        self.logged = Some(Instant::now());
        self.since = 0;
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
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
