//! The listener: TLS (or plain HTTP when asked), HTTP/1.1 with upgrades, and restarts.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::api::{self, ConnInfo};
use crate::cluster::Cluster;
use crate::pki;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Server {
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Server {
    pub fn start(
        cluster: Arc<Cluster>,
        listen: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<Self> {
        Self::start_with(api::router(cluster.clone()), cluster, listen, tls)
    }

    /// Serves `app` (the API, or a kubelet's endpoints) for `cluster`.
    pub fn start_with(
        app: Router,
        cluster: Arc<Cluster>,
        listen: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<Self> {
        let listener = bind(listen)?;
        let addr = listener.local_addr()?;
        let (restart_tx, restart_rx) = tokio::sync::mpsc::unbounded_channel();
        cluster.set_restart_channel(restart_tx);
        let stop = CancellationToken::new();
        let acceptor = tls.map(TlsAcceptor::from);
        let task = tokio::spawn(run(
            listener,
            addr,
            app,
            acceptor,
            stop.clone(),
            restart_rx,
            cluster,
        ));
        Ok(Self {
            addr,
            stop,
            task: Some(task),
        })
    }

    pub async fn shutdown(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn run(
    mut listener: TcpListener,
    addr: SocketAddr,
    app: Router,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
    mut restarts: tokio::sync::mpsc::UnboundedReceiver<Duration>,
    cluster: Arc<Cluster>,
) {
    loop {
        let generation = stop.child_token();
        let accept = tokio::spawn(accept_loop(
            listener,
            app.clone(),
            tls.clone(),
            generation.clone(),
        ));
        tokio::select! {
            _ = stop.cancelled() => {
                let _ = accept.await;
                return;
            }
            Some(down) = restarts.recv() => {
                // Let the admin request's answer go out first.
                tokio::time::sleep(Duration::from_millis(50)).await;
                generation.cancel();
                cluster.cut_exec_connections();
                let _ = accept.await;
                tracing::info!("API listener stopped for {down:?}");
                tokio::time::sleep(down).await;
                listener = loop {
                    match bind(addr) {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::warn!("cannot listen on {addr} again yet: {e}");
                            tokio::select! {
                                _ = stop.cancelled() => return,
                                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                            }
                        }
                    }
                };
                tracing::info!("API listener back on {addr}");
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    token: CancellationToken,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = token.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (app, tls, token) = (app.clone(), tls.clone(), token.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = token.cancelled() => {}
                _ = serve_connection(stream, peer, app, tls) => {}
            }
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        Some(acceptor) => {
            let stream =
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, "TLS handshake failed: {e}");
                        return;
                    }
                    Err(_) => return,
                };
            let cert_identity = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .and_then(pki::identity_of);
            serve_http(
                TokioIo::new(stream),
                ConnInfo {
                    peer,
                    cert_identity,
                },
                app,
            )
            .await;
        }
        None => {
            serve_http(
                TokioIo::new(stream),
                ConnInfo {
                    peer,
                    cert_identity: None,
                },
                app,
            )
            .await
        }
    }
}

async fn serve_http<I>(io: I, info: ConnInfo, app: Router)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(info.clone());
        app.clone().oneshot(req)
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades()
        .await
    {
        tracing::debug!("connection ended: {e}");
    }
}
