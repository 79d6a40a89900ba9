//! Opening an exec stream: the WebSocket upgrade of an `exec` or `attach` request, through
//! the caller's authenticated client. kube-rs's `Client::connect` does the same upgrade
//! but with tungstenite's default 128 KiB read buffer, which is zero-filled and so resident
//! for every session: with a thousand idle terminals that is most of podterm's memory.
//! Here the buffers are sized for a terminal (they grow for large frames), and a caller
//! that needs the stdin close of v5 can offer only that.

use http::header::{self, HeaderValue};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use kube::client::{Body, UpgradeConnectionError};
use kube::core::Status;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// An exec stream to the cluster.
pub type Upstream =
    tokio_tungstenite::WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// The one channel protocol with a stdin close (a program reading to its end needs it).
pub const V5: &str = "v5.channel.k8s.io";

/// The channel protocols podterm speaks, preferred first (v4 lacks only stdin close).
const PROTOCOLS: &str = "v5.channel.k8s.io, v4.channel.k8s.io";

/// What both sides of a terminal connection read at a time; frames larger than this grow
/// the buffer as needed.
pub const READ_BUFFER: usize = 8 * 1024;

/// The WebSocket settings of both the browser's and the API server's connection.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(16 << 20))
}

/// Opens the exec stream `request` names (an `exec` request built by kube-rs).
pub async fn connect(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
) -> Result<Upstream, kube::Error> {
    connect_with(client, request, PROTOCOLS).await
}

/// As `connect`, offering only `protocols` (a comma-separated list of those podterm reads).
pub async fn connect_with(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
    protocols: &'static str,
) -> Result<Upstream, kube::Error> {
    let (mut parts, body) = request.into_parts();
    let key = generate_key();
    let headers = &mut parts.headers;
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocols),
    );
    headers.insert(
        header::SEC_WEBSOCKET_KEY,
        HeaderValue::from_str(&key).map_err(|e| kube::Error::HttpError(e.into()))?,
    );
    let response = client
        .send(http::Request::from_parts(parts, Body::from(body)))
        .await?;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        return Err(api_error(response).await);
    }
    verify(&response, &key).map_err(kube::Error::UpgradeConnection)?;
    let upgraded = hyper::upgrade::on(response).await.map_err(|e| {
        kube::Error::UpgradeConnection(UpgradeConnectionError::GetPendingUpgrade(e))
    })?;
    Ok(
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(config()))
            .await,
    )
}

/// A refusal, as kube-rs reports one: the API server's Status, or one made from the body.
async fn api_error(response: http::Response<Body>) -> kube::Error {
    let code = response.status().as_u16();
    let text = match response.into_body().collect().await {
        Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        Err(e) => return e,
    };
    let status = serde_json::from_str::<Status>(&text).unwrap_or_else(|_| {
        Status::failure(text.trim(), "Failed to parse error data").with_code(code)
    });
    kube::Error::Api(status.boxed())
}

fn verify(response: &http::Response<Body>, key: &str) -> Result<(), UpgradeConnectionError> {
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        return Err(UpgradeConnectionError::ProtocolSwitch(response.status()));
    }
    let headers = response.headers();
    let is = |name: header::HeaderName, value: &str| {
        headers
            .get(name)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h.eq_ignore_ascii_case(value))
    };
    if !is(header::UPGRADE, "websocket") {
        return Err(UpgradeConnectionError::MissingUpgradeWebSocketHeader);
    }
    if !is(header::CONNECTION, "upgrade") {
        return Err(UpgradeConnectionError::MissingConnectionUpgradeHeader);
    }
    if headers
        .get(header::SEC_WEBSOCKET_ACCEPT)
        .map(|h| h.as_bytes())
        != Some(derive_accept_key(key.as_bytes()).as_bytes())
    {
        return Err(UpgradeConnectionError::SecWebSocketAcceptKeyMismatch);
    }
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|h| h.to_str().ok());
    if !matches!(protocol, Some("v5.channel.k8s.io" | "v4.channel.k8s.io")) {
        return Err(UpgradeConnectionError::SecWebSocketProtocolMismatch);
    }
    Ok(())
}
