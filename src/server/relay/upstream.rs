//! The writer of a terminal's exec stream: browser input, resizes and keepalive pings to
//! the cluster.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as UpMessage;
use tokio_util::sync::CancellationToken;

use crate::server::cluster::exec_channels as channels;
pub use crate::server::cluster::exec_stream::Upstream;
use crate::server::relay::session::{Input, Session, SharedRecorder};
use crate::server::web::metrics::Metrics;

/// Pings to the cluster keep load balancers between podterm and the API server from
/// cutting an idle exec stream.
const UPSTREAM_PING: Duration = Duration::from_secs(30);

/// Sends browser input and keepalive pings to the cluster, until told to stop; then closes
/// the exec stream.
pub(super) async fn write(
    mut up_tx: futures::stream::SplitSink<Upstream, UpMessage>,
    mut input: mpsc::Receiver<Input>,
    stop: CancellationToken,
    session: Arc<Session>,
    recorder: Option<SharedRecorder>,
    metrics: Arc<Metrics>,
) {
    let mut ping = tokio::time::interval(UPSTREAM_PING);
    ping.tick().await;
    loop {
        let frames: Vec<Bytes> = tokio::select! {
            () = stop.cancelled() => break,
            _ = ping.tick() => {
                if up_tx.send(UpMessage::Ping(Bytes::new())).await.is_err() {
                    break;
                }
                continue;
            }
            next = input.recv() => match next {
                None => break,
                Some(Input::Stdin(data)) => {
                    session.count_input(data.len());
                    metrics.relayed("to_pod", data.len() as u64);
                    if let Some(r) = &recorder {
                        r.lock().unwrap_or_else(|e| e.into_inner()).input(&data);
                    }
                    channels::stdin_frames(&data).collect()
                }
                Some(Input::Resize(cols, rows)) => {
                    if let Some(r) = &recorder {
                        r.lock().unwrap_or_else(|e| e.into_inner()).resize(cols, rows);
                    }
                    vec![channels::resize_frame(cols, rows)]
                }
            },
        };
        for frame in frames {
            tokio::select! {
                () = stop.cancelled() => return close_upstream(up_tx).await,
                sent = up_tx.send(UpMessage::Binary(frame)) => if sent.is_err() {
                    // The cluster side is gone; the reader reports how.
                    stop.cancelled().await;
                    return;
                },
            }
        }
    }
    close_upstream(up_tx).await;
}

async fn close_upstream(mut up_tx: futures::stream::SplitSink<Upstream, UpMessage>) {
    let _ = tokio::time::timeout(Duration::from_secs(2), up_tx.close()).await;
}
