//! Log follows: a container whose log holds `bytes` of lines is followed from its start
//! (`follow=true`), straight from the API server and through podterm's
//! `/api/logs/NS/POD/CONTAINER`, as fast as the reader can; podterm's memory is sampled
//! throughout. Then a follow whose reader stops reading, with the whole log still to send.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde::Serialize;

use crate::Error;
use crate::servers::{Cluster, Podterm, Process};
use crate::terminal::Path;

pub const LOG_NAMESPACE: &str = crate::servers::NAMESPACE;
pub const LOG_POD: &str = "logger";
pub const LOG_CONTAINER: &str = "log";
/// The last line of the logger's log.
const END: &[u8] = b"LOG-END";

/// The logger: `bytes` of 100-byte lines as fast as it can write them, then the end mark,
/// then it idles (a follow of it never ends by itself).
pub fn logger_pod(bytes: u64) -> String {
    let line = "podterm benchmark log line, padded to one hundred bytes with a fixed text: abcdefghijklmnopqrs";
    format!(
        "{{name: {LOG_POD}, namespace: {LOG_NAMESPACE}, containers: [{{name: {LOG_CONTAINER}, \
         image: 'busybox:1.36', command: [sh, -c, \"yes '{line}' | head -c {bytes}; echo; echo {end}; sleep 86400\"]}}]}}",
        end = String::from_utf8_lossy(END)
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct Follow {
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
    pub rss_before: u64,
    pub rss_peak: u64,
    /// podterm's CPU seconds per GB read through it (0 for the direct path).
    pub podterm_cpu_per_gb: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stall {
    pub seconds: f64,
    pub rss_before: u64,
    pub rss_peak: u64,
}

/// Adds the logger (through the testcluster's own controls) and waits until it has written
/// its whole log.
pub async fn start_logger(cluster: &Cluster, bytes: u64, limit: Duration) -> Result<(), Error> {
    let admin = cluster
        .admin_token
        .as_deref()
        .ok_or("the log follow needs the testcluster's own controls")?;
    let pod: serde_json::Value = serde_yaml::from_str(&logger_pod(bytes))?;
    let tls = crate::terminal::tls_connector(&cluster.ca_pem)?;
    let stream = tokio::net::TcpStream::connect(cluster.addr).await?;
    let name = rustls::pki_types::ServerName::try_from(cluster.addr.ip().to_string())?;
    let stream = tls.connect(name, stream).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::post("/testcluster/admin/pods")
        .header("host", cluster.addr.to_string())
        .header("authorization", format!("Bearer {admin}"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::from(pod.to_string())))?;
    let response = sender.send_request(request).await?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        return Err(format!(
            "adding the logger: {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    wait_written(cluster, limit).await
}

/// Waits until the logger has written its whole log (read straight from the API server).
async fn wait_written(cluster: &Cluster, limit: Duration) -> Result<(), Error> {
    let started = Instant::now();
    loop {
        let path = format!(
            "/api/v1/namespaces/{LOG_NAMESPACE}/pods/{LOG_POD}/log?container={LOG_CONTAINER}&tailLines=2"
        );
        // Until it starts, the log is refused ("waiting to start").
        let last = match direct(cluster, &path).await {
            Ok(body) => {
                let body = body.collect().await?.to_bytes();
                if body.windows(END.len()).any(|w| w == END) {
                    return Ok(());
                }
                String::from_utf8_lossy(&body).into_owned()
            }
            Err(e) => e.to_string(),
        };
        if started.elapsed() > limit {
            return Err(
                format!("the logger did not finish its log within {limit:?}: {last}").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Follows the whole log from its start until the end mark.
pub async fn follow(cluster: &Cluster, podterm: &Podterm, path: Path) -> Result<Follow, Error> {
    let process = &podterm.process;
    let rss_before = process.rss()?;
    let cpu_before = process.cpu()?;
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn(sample_rss(process.pid(), sampling.clone()));
    let started = Instant::now();
    let mut body = match path {
        Path::Direct => {
            direct(
                cluster,
                &format!(
                    "/api/v1/namespaces/{LOG_NAMESPACE}/pods/{LOG_POD}/log?container={LOG_CONTAINER}&follow=true"
                ),
            )
            .await?
        }
        Path::Podterm => through_podterm(podterm).await?,
    };
    let mut bytes = 0u64;
    let mut tail = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        bytes += data.len() as u64;
        tail.extend_from_slice(&data[data.len().saturating_sub(64)..]);
        if tail.windows(END.len()).any(|w| w == END) {
            break;
        }
        tail.drain(..tail.len().saturating_sub(END.len()));
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(body);
    sampling.store(false, Ordering::Release);
    let rss_peak = sampler.await?.max(rss_before);
    let cpu = process.cpu()?.saturating_sub(cpu_before).as_secs_f64();
    Ok(Follow {
        bytes,
        seconds,
        mb_per_s: bytes as f64 / 1e6 / seconds,
        rss_before,
        rss_peak,
        podterm_cpu_per_gb: match path {
            Path::Podterm => cpu / (bytes as f64 / 1e9),
            Path::Direct => 0.0,
        },
    })
}

/// A follow through podterm whose reader takes the first bytes, then stops reading.
pub async fn stall(podterm: &Podterm, stalled: Duration) -> Result<Stall, Error> {
    let process = &podterm.process;
    let rss_before = process.rss()?;
    let mut body = through_podterm(podterm).await?;
    let _ = body.frame().await;
    let started = Instant::now();
    let mut rss_peak = rss_before;
    while started.elapsed() < stalled {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rss_peak = rss_peak.max(process.rss()?);
    }
    drop(body);
    Ok(Stall {
        seconds: stalled.as_secs_f64(),
        rss_before,
        rss_peak,
    })
}

async fn sample_rss(pid: u32, running: Arc<AtomicBool>) -> u64 {
    let mut peak = 0;
    while running.load(Ordering::Acquire) {
        if let Ok(rss) = Process::rss_of(pid) {
            peak = peak.max(rss);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak
}

type Body = hyper::body::Incoming;

async fn through_podterm(podterm: &Podterm) -> Result<Body, Error> {
    let stream = tokio::net::TcpStream::connect(podterm.addr).await?;
    let path = format!("/api/logs/{LOG_NAMESPACE}/{LOG_POD}/{LOG_CONTAINER}?follow=true");
    send(stream, podterm.addr.to_string(), &path, &podterm.token).await
}

async fn direct(cluster: &Cluster, path: &str) -> Result<Body, Error> {
    let tls = crate::terminal::tls_connector(&cluster.ca_pem)?;
    let stream = tokio::net::TcpStream::connect(cluster.addr).await?;
    let name = rustls::pki_types::ServerName::try_from(cluster.addr.ip().to_string())?;
    let stream = tls.connect(name, stream).await?;
    send(stream, cluster.addr.to_string(), path, &cluster.token).await
}

async fn send<S>(stream: S, host: String, path: &str, token: &str) -> Result<Body, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header("host", host)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())?;
    let response = tokio::time::timeout(Duration::from_secs(60), sender.send_request(request))
        .await
        .map_err(|_| format!("GET {path}: no answer within 60 s"))??;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        return Err(format!("GET {path}: {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(response.into_body())
}
