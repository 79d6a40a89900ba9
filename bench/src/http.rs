//! Plain HTTP/1.1 requests to podterm, one connection each (as a first page load would).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use crate::Error;

pub struct Response {
    pub status: u16,
    pub body: Bytes,
    pub content_encoding: Option<String>,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
}

pub async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Result<Response, Error> {
    request(addr, path, token, None).await
}

/// GET with `Accept-Encoding`, so the body is what a browser would be sent.
pub async fn request(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    accept_encoding: Option<&str>,
) -> Result<Response, Error> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut builder = hyper::Request::get(path).header("host", addr.to_string());
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if let Some(encoding) = accept_encoding {
        builder = builder.header("accept-encoding", encoding);
    }
    let started = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(60),
        sender.send_request(builder.body(Empty::<Bytes>::new())?),
    )
    .await
    .map_err(|_| format!("GET {path}: no answer within 60 s"))??;
    let status = response.status().as_u16();
    let content_encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Response {
        status,
        body,
        content_encoding,
        elapsed: started.elapsed(),
    })
}
