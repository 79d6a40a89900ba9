//! `pods/attach`: a client joins the container's main process, its output from now on and
//! (with `stdin`) its input. Leaving does not end the process; the process ending ends
//! every attached session with a Success status.

use futures::stream::SplitStream;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::protocol::{self, Protocol};
use super::{Input, Session, Sink, finish, read_client, send};
use crate::cluster::Cluster;
use crate::runtime::main_io::{STDERR, STDOUT};

pub(super) async fn run(
    cluster: &Cluster,
    session: &Session,
    protocol: Protocol,
    mut sink: Sink,
    stream: SplitStream<axum::extract::ws::WebSocket>,
    cut: CancellationToken,
) {
    let target = &session.target;
    let request = &session.request;
    let (input_tx, mut input_rx) = mpsc::channel::<Input>(64);
    let (gone_tx, mut gone) = mpsc::channel::<()>(1);
    // A container without a main process of its own (an idle one) has nothing to say.
    let Some(io) = cluster.runtime.main_io(&target.key, &target.pod_uid) else {
        let reader = tokio::spawn(read_client(stream, protocol, input_tx, None, gone_tx));
        tokio::select! {
            _ = gone.recv() => {}
            () = cut.cancelled() => {}
        }
        reader.abort();
        return;
    };
    tracing::info!(container = ?target.key, tty = io.tty(), "attached");
    let channel_of = |stream: u8| match stream {
        STDOUT => request.stdout.then_some(protocol::STDOUT),
        STDERR => request.stderr.then_some(protocol::STDERR),
        _ => None,
    };
    let mut output = io.subscribe();
    let mut ended = io.ended();
    let reader = tokio::spawn(read_client(stream, protocol, input_tx, io.pty(), gone_tx));
    let stdin = request.stdin;
    let typing = {
        let io = io.clone();
        tokio::spawn(async move {
            while let Some(item) = input_rx.recv().await {
                // A client closing its stdin detaches it; the process's stdin stays open
                // for the next one (no `stdinOnce`).
                if let Input::Data(data) = item
                    && stdin
                {
                    io.write(&data).await;
                }
            }
        })
    };
    loop {
        tokio::select! {
            chunk = output.recv() => match chunk {
                Ok((stream, bytes)) => {
                    if let Some(channel) = channel_of(stream)
                        && send(&mut sink, protocol, channel, &bytes).await.is_err()
                    {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(container = ?target.key, n, "an attached client fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = async { drop(ended.wait_for(|e| *e).await) } => {
                // Output sent before the end is still queued: send it, then the status.
                while let Ok((stream, bytes)) = output.try_recv() {
                    if let Some(channel) = channel_of(stream) {
                        let _ = send(&mut sink, protocol, channel, &bytes).await;
                    }
                }
                reader.abort();
                typing.abort();
                tracing::info!(container = ?target.key, "the attached process ended");
                finish(sink, protocol, protocol::exit_status(protocol, 0, &[])).await;
                return;
            }
            _ = gone.recv() => break,
            () = cut.cancelled() => break,
        }
    }
    // Detached: the process goes on.
    reader.abort();
    typing.abort();
    tracing::info!(container = ?target.key, "detached");
}
