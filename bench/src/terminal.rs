//! One interactive terminal, opened either straight at the API server (the v5 exec channel
//! protocol over TLS, as kubectl speaks it) or through podterm (its browser protocol, acking
//! output as the page does). The measurements use both through the same calls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};

use crate::Error;
use crate::servers::{Cluster, Podterm};

/// The page acknowledges at least this often (podterm's ACK_EVERY).
const ACK_EVERY: u64 = 64 * 1024;

/// And the rest at its keepalive tick, this often (the page's TICK_MS).
const ACK_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Direct,
    Podterm,
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Direct => "direct",
            Path::Podterm => "podterm",
        }
    }
}

/// What reading a terminal gave.
#[derive(Debug)]
pub enum Read {
    Output(Bytes),
    /// The command ended (exit code, when known).
    Ended(Option<i32>),
}

/// TLS to the API server, trusting its CA only.
pub fn tls_connector(ca_pem: &[u8]) -> Result<tokio_rustls::TlsConnector, Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem)?)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// How to reach both servers.
#[derive(Clone)]
pub struct Endpoints {
    cluster_addr: SocketAddr,
    cluster_token: String,
    tls: tokio_rustls::TlsConnector,
    podterm_addr: SocketAddr,
    podterm_token: String,
}

impl Endpoints {
    pub fn new(cluster: &Cluster, podterm: &Podterm) -> Result<Self, Error> {
        Ok(Self {
            cluster_addr: cluster.addr,
            cluster_token: cluster.token.clone(),
            tls: tls_connector(&cluster.ca_pem)?,
            podterm_addr: podterm.addr,
            podterm_token: podterm.token.clone(),
        })
    }

    pub async fn open(
        &self,
        path: Path,
        namespace: &str,
        pod: &str,
        container: &str,
        command: &[&str],
    ) -> Result<Terminal, Error> {
        let mut query = String::new();
        for arg in command {
            query.push_str("&command=");
            query.push_str(&encode(arg));
        }
        let config = WebSocketConfig::default()
            .max_message_size(Some(64 << 20))
            .max_frame_size(Some(64 << 20));
        match path {
            Path::Direct => {
                let url = format!(
                    "wss://{}/api/v1/namespaces/{namespace}/pods/{pod}/exec?container={container}&stdin=true&stdout=true&tty=true{query}",
                    self.cluster_addr
                );
                let mut request = url.into_client_request()?;
                let headers = request.headers_mut();
                headers.insert("Sec-WebSocket-Protocol", "v5.channel.k8s.io".parse()?);
                headers.insert(
                    "Authorization",
                    format!("Bearer {}", self.cluster_token).parse()?,
                );
                let tcp = tokio::net::TcpStream::connect(self.cluster_addr).await?;
                tcp.set_nodelay(true)?;
                let tls = self
                    .tls
                    .connect(
                        ServerName::try_from(self.cluster_addr.ip().to_string())?,
                        tcp,
                    )
                    .await?;
                let (ws, _) =
                    tokio_tungstenite::client_async_with_config(request, tls, Some(config)).await?;
                Ok(Terminal::Direct(ws))
            }
            Path::Podterm => {
                let url = format!(
                    "ws://{}/ws/exec/{namespace}/{pod}/{container}?{}",
                    self.podterm_addr,
                    query.trim_start_matches('&')
                );
                let mut request = url.into_client_request()?;
                request.headers_mut().insert(
                    "Authorization",
                    format!("Bearer {}", self.podterm_token).parse()?,
                );
                let tcp = tokio::net::TcpStream::connect(self.podterm_addr).await?;
                tcp.set_nodelay(true)?;
                let (mut ws, _) =
                    tokio_tungstenite::client_async_with_config(request, tcp, Some(config)).await?;
                // The first message says which session this is, or why there is none.
                match ws.next().await {
                    Some(Ok(Message::Text(text))) => {
                        let event: serde_json::Value = serde_json::from_str(&text)?;
                        if event["type"] != "attached" {
                            return Err(format!("podterm refused the terminal: {text}").into());
                        }
                    }
                    other => {
                        return Err(format!("podterm sent no attached event: {other:?}").into());
                    }
                }
                Ok(Terminal::Podterm(PodtermWs {
                    ws,
                    received: 0,
                    acked: 0,
                    acked_at: std::time::Instant::now(),
                }))
            }
        }
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

type DirectWs = WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

pub struct PodtermWs {
    ws: WebSocketStream<tokio::net::TcpStream>,
    received: u64,
    acked: u64,
    acked_at: std::time::Instant,
}

// One per session, held for its whole life: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Terminal {
    Direct(DirectWs),
    Podterm(PodtermWs),
}

impl Terminal {
    pub async fn send(&mut self, input: &[u8]) -> Result<(), Error> {
        match self {
            Terminal::Direct(ws) => {
                let mut frame = Vec::with_capacity(input.len() + 1);
                frame.push(0);
                frame.extend_from_slice(input);
                ws.send(Message::Binary(frame.into())).await?;
            }
            Terminal::Podterm(p) => p.ws.send(Message::Binary(input.to_vec().into())).await?,
        }
        Ok(())
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) -> Result<(), Error> {
        match self {
            Terminal::Direct(ws) => {
                let mut frame = vec![4];
                frame.extend_from_slice(
                    json!({"Width": cols, "Height": rows})
                        .to_string()
                        .as_bytes(),
                );
                ws.send(Message::Binary(frame.into())).await?;
            }
            Terminal::Podterm(p) => {
                let text = json!({"type": "resize", "cols": cols, "rows": rows}).to_string();
                p.ws.send(Message::Text(text.into())).await?;
            }
        }
        Ok(())
    }

    /// A keepalive as the page sends it (podterm takes a silent connection for dead).
    pub async fn ping(&mut self) -> Result<(), Error> {
        if let Terminal::Podterm(p) = self {
            p.ws.send(Message::Text(r#"{"type":"ping"}"#.into()))
                .await?;
        }
        Ok(())
    }

    /// The next output, or the end. Acknowledges podterm output like the page.
    pub async fn read(&mut self) -> Result<Read, Error> {
        loop {
            match self {
                Terminal::Direct(ws) => match ws.next().await {
                    Some(Ok(Message::Binary(data))) => match data.first() {
                        Some(1 | 2) if data.len() > 1 => return Ok(Read::Output(data.slice(1..))),
                        Some(3) => {
                            let status: serde_json::Value = serde_json::from_slice(&data[1..])?;
                            let code = if status["status"] == "Success" {
                                Some(0)
                            } else {
                                status["details"]["causes"]
                                    .as_array()
                                    .and_then(|c| c.iter().find(|c| c["reason"] == "ExitCode"))
                                    .and_then(|c| c["message"].as_str()?.parse().ok())
                            };
                            return Ok(Read::Ended(code));
                        }
                        _ => {}
                    },
                    Some(Ok(Message::Close(_))) | None => return Ok(Read::Ended(None)),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                },
                Terminal::Podterm(p) => match p.ws.next().await {
                    Some(Ok(Message::Binary(data))) => {
                        p.received += data.len() as u64;
                        if p.received - p.acked >= ACK_EVERY || p.acked_at.elapsed() >= ACK_SETTLE {
                            p.acked = p.received;
                            p.acked_at = std::time::Instant::now();
                            let ack = json!({"type": "ack", "offset": p.received}).to_string();
                            p.ws.send(Message::Text(ack.into())).await?;
                        }
                        return Ok(Read::Output(data));
                    }
                    Some(Ok(Message::Text(text))) => {
                        let event: serde_json::Value = serde_json::from_str(&text)?;
                        match event["type"].as_str() {
                            Some("exit") => {
                                return Ok(Read::Ended(event["code"].as_i64().map(|c| c as i32)));
                            }
                            Some("error") => {
                                return Err(format!("podterm: {}", event["message"]).into());
                            }
                            _ => {}
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(Read::Ended(None)),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                },
            }
        }
    }

    /// Reads until `needle` shows up in the output; fails on the end or after `limit`.
    pub async fn read_until(&mut self, needle: &[u8], limit: Duration) -> Result<(), Error> {
        let mut tail: Vec<u8> = Vec::new();
        let work = async {
            loop {
                match self.read().await? {
                    Read::Output(data) => {
                        tail.extend_from_slice(&data);
                        if tail.windows(needle.len()).any(|w| w == needle) {
                            return Ok(());
                        }
                        let keep = tail.len().saturating_sub(needle.len());
                        tail.drain(..keep);
                    }
                    Read::Ended(code) => {
                        return Err(format!(
                            "the terminal ended (exit code {code:?}) before {:?} showed",
                            String::from_utf8_lossy(needle)
                        )
                        .into());
                    }
                }
            }
        };
        tokio::time::timeout(limit, work)
            .await
            .map_err(|_| format!("no {:?} within {limit:?}", String::from_utf8_lossy(needle)))?
    }

    /// Ends the session as the page does when a tab is closed.
    pub async fn close(self) {
        match self {
            Terminal::Direct(mut ws) => {
                let _ = ws.close(None).await;
            }
            Terminal::Podterm(mut p) => {
                let _ = p.ws.send(Message::Text(r#"{"type":"close"}"#.into())).await;
                let _ = tokio::time::timeout(Duration::from_secs(5), async {
                    while let Some(Ok(_)) = p.ws.next().await {}
                })
                .await;
            }
        }
    }
}
