//! The accept loop: a header-read timeout, the connection limits (`connections`), and
//! graceful shutdown. A client that opens connections and never finishes its requests
//! (slowloris) can hold neither the process's files nor everyone else's place.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::server::web::connections::{Connections, Slot};
use crate::server::web::metrics::Metrics;

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
                connections.metrics().connection_refused(refusal.label());
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
        let metrics = connections.metrics().clone();
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
