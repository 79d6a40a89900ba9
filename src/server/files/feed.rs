//! A program fed a stream: an exec whose stdin podterm writes itself, in frames of up to
//! `FRAME` bytes. kube-rs's `AttachedProcess` sends stdin in 4 KiB messages, which holds
//! an upload to a fraction of the link; here the exec stream is opened with v5 only (its
//! stdin close is what tells the program its input ended) and written directly.

use bytes::{BufMut, Bytes, BytesMut};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::AttachParams;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use super::run::{Ended, RunError, Runner, Stderr, ended};
use crate::server::cluster::exec_channels::{CLOSE, STATUS, STDERR, STDIN};
use crate::server::cluster::exec_stream::{Upstream, V5, connect_with};
use crate::server::cluster::kube_errors::classify;

/// The largest stdin frame: big enough that per-message costs vanish, small enough that
/// podterm holds little.
pub const FRAME: usize = 256 * 1024;

/// How the program's side of the stream ended: its Status (none if the stream broke) and
/// the start of its standard error.
type Finish = (Option<Status>, String);

/// A running program whose stdin is being written.
pub struct Feed {
    program: String,
    sink: SplitSink<Upstream, Message>,
    /// Filled by the reader when the program ends, early or not.
    finish: oneshot::Receiver<Finish>,
    ended: Option<Finish>,
    /// Bytes waiting for a frame, the channel byte first.
    frame: BytesMut,
}

/// A write did not go through: the program ended before its input did (a full disk, a
/// deleted pod; `close` says how) or the stream to the cluster broke.
pub struct Stopped;

impl Runner {
    /// Starts `argv` with stdin to be fed; `None` where the cluster does not speak v5 (the
    /// caller falls back to kube-rs's exec).
    pub async fn feed(&self, argv: &[&str]) -> Result<Option<Feed>, RunError> {
        let params = AttachParams::default()
            .container(&self.container)
            .stdin(true)
            .stdout(false)
            .stderr(true);
        let request = kube::core::Request::new(self.pods.resource_url())
            .exec(&self.pod, argv.iter().map(|a| a.to_string()), &params)
            .map_err(|e| RunError::Failed(classify(&kube::Error::BuildRequest(e))))?;
        let client = kube::Client::from(self.pods.clone());
        let stream = match connect_with(&client, request, V5).await {
            Ok(stream) => stream,
            Err(kube::Error::UpgradeConnection(_)) => return Ok(None),
            Err(e) => return Err(RunError::Failed(classify(&e))),
        };
        let (sink, source) = stream.split();
        let (tx, finish) = oneshot::channel();
        tokio::spawn(async move {
            let _ = tx.send(read(source).await);
        });
        Ok(Some(Feed {
            program: argv[0].to_string(),
            sink,
            finish,
            ended: None,
            frame: empty_frame(),
        }))
    }
}

fn empty_frame() -> BytesMut {
    let mut frame = BytesMut::with_capacity(FRAME + 1);
    frame.put_u8(STDIN);
    frame
}

/// Reads the program's side until its Status: standard error kept, the rest ignored.
async fn read(mut source: futures::stream::SplitStream<Upstream>) -> Finish {
    let mut stderr = Stderr::default();
    while let Some(Ok(message)) = source.next().await {
        let Message::Binary(data) = message else {
            continue;
        };
        match data.first() {
            Some(&STDERR) => stderr.add(&data[1..]),
            Some(&STATUS) => {
                let status = serde_json::from_slice::<Status>(&data[1..]).ok();
                return (status, stderr.text());
            }
            _ => {}
        }
    }
    (None, stderr.text())
}

impl Feed {
    /// Adds `data` to the program's input; a frame goes out once `FRAME` bytes wait, or
    /// at `flush`.
    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), Stopped> {
        while !data.is_empty() {
            let room = FRAME + 1 - self.frame.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.frame.extend_from_slice(now);
            data = later;
            if self.frame.len() == FRAME + 1 {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Sends what waits, watching for the program's end meanwhile.
    pub async fn flush(&mut self) -> Result<(), Stopped> {
        if self.frame.len() == 1 {
            return Ok(());
        }
        let frame = std::mem::replace(&mut self.frame, empty_frame()).freeze();
        self.send(frame).await
    }

    async fn send(&mut self, frame: Bytes) -> Result<(), Stopped> {
        if self.ended.is_some() {
            return Err(Stopped);
        }
        tokio::select! {
            sent = self.sink.send(Message::Binary(frame)) => sent.map_err(|_| Stopped),
            finish = &mut self.finish => {
                self.ended = Some(finish.unwrap_or((None, String::new())));
                Err(Stopped)
            }
        }
    }

    /// Ends the input and waits for the program's end.
    pub async fn close(mut self) -> Result<Ended, RunError> {
        let closed = match self.flush().await {
            Ok(()) => self.send(Bytes::from_static(&[CLOSE, STDIN])).await,
            Err(stopped) => Err(stopped),
        };
        let (status, stderr) = match self.ended.take() {
            Some(finish) => finish,
            None if closed.is_ok() => (&mut self.finish).await.unwrap_or((None, String::new())),
            None => (None, String::new()),
        };
        let _ = self.sink.close().await;
        ended(&self.program, status, stderr)
    }

    /// Stops the program's input where it is; its output is not awaited.
    pub async fn abort(mut self) {
        let _ = self.sink.close().await;
    }
}
