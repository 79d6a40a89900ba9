//! The writing half of a terminal's exec stream. The attached page's own task writes its
//! input here (no hop through another task per keystroke); a keepalive task pings the
//! cluster and closes the stream at the end. One writer at a time holds it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::SplitSink;
use futures::{SinkExt, future::poll_fn};
use tokio_tungstenite::tungstenite::{Error, Message as UpMessage};
use tokio_util::sync::CancellationToken;

use crate::server::cluster::exec_channels as channels;
pub use crate::server::cluster::exec_stream::Upstream;
use crate::server::relay::session::{Input, Session, SharedRecorder, recording};
use crate::server::web::metrics::Metrics;

/// Pings to the cluster keep load balancers between podterm and the API server from
/// cutting an idle exec stream.
const UPSTREAM_PING: Duration = Duration::from_secs(30);

/// The exec stream's sink, with what writing input to it records and counts.
pub struct ToPod {
    sink: SplitSink<Upstream, UpMessage>,
    recorder: Option<SharedRecorder>,
    metrics: Arc<Metrics>,
}

impl ToPod {
    pub fn new(
        sink: SplitSink<Upstream, UpMessage>,
        recorder: Option<SharedRecorder>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            sink,
            recorder,
            metrics,
        }
    }

    /// Waits until the stream takes one more frame. Cancel-safe: nothing is taken yet.
    pub async fn ready(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.sink.poll_ready_unpin(cx)).await
    }

    /// Hands one input (at most one frame: see `Input::stdin`) to the stream, after
    /// `ready`; it leaves with the next `flush`.
    pub fn start(&mut self, input: Input) -> Result<usize, Error> {
        let (frame, typed) = match input {
            Input::Stdin(data) => {
                self.metrics.relayed_to_pod(data.len() as u64);
                if let Some(r) = &self.recorder {
                    recording(r).input(&data);
                }
                (channels::stdin_frame(&data), data.len())
            }
            Input::Resize(cols, rows) => {
                if let Some(r) = &self.recorder {
                    recording(r).resize(cols, rows);
                }
                (channels::resize_frame(cols, rows), 0)
            }
        };
        self.sink.start_send_unpin(UpMessage::Binary(frame))?;
        Ok(typed)
    }

    /// Sends what was handed over. Cancel-safe: what is not sent yet stays for the next.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.sink.poll_flush_unpin(cx)).await
    }

    async fn ping(&mut self) -> Result<(), Error> {
        self.sink.send(UpMessage::Ping(Bytes::new())).await
    }
}

/// Pings the cluster while the session runs (waiting for a page that is writing); closes
/// the exec stream when told to stop.
pub(super) async fn keep_alive(session: Arc<Session>, stop: CancellationToken) {
    let mut ping = tokio::time::interval(UPSTREAM_PING);
    ping.tick().await;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ping.tick() => {
                let pinged = tokio::select! {
                    () = stop.cancelled() => break,
                    pinged = async { session.to_pod().lock().await.ping().await } => pinged,
                };
                if pinged.is_err() {
                    // The cluster side is gone; the reader reports how.
                    stop.cancelled().await;
                    return;
                }
            }
        }
    }
    // A page's task may hold the sink in a write the cluster does not take; it lets go
    // when the session's end reaches it.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = session.to_pod().lock().await.sink.close().await;
    })
    .await;
}
