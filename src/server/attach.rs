//! One browser connection attached to a session: output (from the offset the page asked
//! for) and events to the page; keys, resizes, acknowledgements and keepalives from it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::session::{Input, Session};
use crate::protocol::{ClientMessage, DEAD_AFTER_SECS, ErrorReason, KEEPALIVE_SECS, ServerEvent};

/// How a connection ended, for the log.
#[derive(Debug, PartialEq, Eq)]
pub enum Left {
    /// The session ended and the page has its last output and event.
    Delivered,
    /// The page asked to end the session.
    Closed,
    /// Another connection took the session over.
    Replaced,
    /// The connection dropped or went silent; the session waits for the page.
    Dropped,
}

/// Serves the connection until it drops or the session ends. `offset` is where the page's
/// output resumes; `generation` identifies this connection to the session.
pub async fn serve(
    session: Arc<Session>,
    socket: WebSocket,
    offset: u64,
    resumed: bool,
    generation: u64,
) -> Left {
    let (mut tx, mut rx) = socket.split();
    let attached = ServerEvent::Attached {
        session: session.id.clone(),
        offset,
        resumed,
    };
    if tx
        .send(Message::Text(attached.to_json().into()))
        .await
        .is_err()
    {
        session.detach(generation);
        return Left::Dropped;
    }
    // The output sent so far, so acknowledgements cannot run ahead of it.
    let sent = AtomicU64::new(offset);
    let (reply_tx, mut replies) = mpsc::channel::<ServerEvent>(8);

    let outgoing = async {
        let mut progress = session.progress();
        let mut link = session.link();
        let mut keepalive = tokio::time::interval(Duration::from_secs(KEEPALIVE_SECS));
        keepalive.tick().await;
        let mut cursor = offset;
        loop {
            progress.borrow_and_update();
            let read = session.read(cursor);
            for chunk in read.chunks {
                let len = chunk.len() as u64;
                if tx.send(Message::Binary(chunk)).await.is_err() {
                    return Left::Dropped;
                }
                cursor += len;
                sent.store(cursor, Ordering::Release);
            }
            cursor = cursor.max(read.next);
            if let Some(end) = read.end {
                let event = end.unwrap_or_else(|| ServerEvent::Error {
                    reason: ErrorReason::Ended,
                    message: "this session has ended".into(),
                });
                let _ = tx.send(Message::Text(event.to_json().into())).await;
                session.mark_delivered();
                close(&mut tx).await;
                return Left::Delivered;
            }
            tokio::select! {
                _ = progress.changed() => {}
                changed = link.changed() => {
                    let current = *link.borrow_and_update();
                    if changed.is_err() || current.generation != generation {
                        let event = ServerEvent::Error {
                            reason: ErrorReason::Ended,
                            message: "this terminal was opened again in another window".into(),
                        };
                        let _ = tx.send(Message::Text(event.to_json().into())).await;
                        close(&mut tx).await;
                        return Left::Replaced;
                    }
                }
                reply = replies.recv() => {
                    if let Some(reply) = reply
                        && tx.send(Message::Text(reply.to_json().into())).await.is_err()
                    {
                        return Left::Dropped;
                    }
                }
                _ = keepalive.tick() => {
                    if tx.send(Message::Ping(Default::default())).await.is_err() {
                        return Left::Dropped;
                    }
                }
            }
        }
    };

    let incoming = async {
        let dead_after = Duration::from_secs(DEAD_AFTER_SECS);
        loop {
            let message = match tokio::time::timeout(dead_after, rx.next()).await {
                Err(_) => {
                    tracing::info!(session = %session.id, "the page went silent; waiting for it to come back");
                    return Left::Dropped;
                }
                Ok(None | Some(Err(_))) => return Left::Dropped,
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Binary(data) => {
                    if !session.send(Input::Stdin(data)).await {
                        // The session is over; the outgoing side delivers its end.
                        std::future::pending::<()>().await;
                    }
                }
                Message::Text(text) => match ClientMessage::parse(text.as_str()) {
                    Ok(ClientMessage::Resize { cols, rows }) => {
                        session.send(Input::Resize(cols, rows)).await;
                    }
                    Ok(ClientMessage::Ack { offset }) => {
                        session.ack(offset.min(sent.load(Ordering::Acquire)));
                    }
                    Ok(ClientMessage::Ping) => {
                        let _ = reply_tx.try_send(ServerEvent::Pong);
                    }
                    Ok(ClientMessage::Close) => {
                        session.close();
                        return Left::Closed;
                    }
                    Err(message) => {
                        let _ = reply_tx.try_send(ServerEvent::Error {
                            reason: ErrorReason::BadRequest,
                            message,
                        });
                    }
                },
                Message::Close(_) => return Left::Dropped,
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    };

    let left = tokio::select! {
        left = outgoing => left,
        left = incoming => left,
    };
    if left != Left::Delivered && left != Left::Replaced {
        session.detach(generation);
    }
    left
}

async fn close(tx: &mut futures::stream::SplitSink<WebSocket, Message>) {
    let frame = CloseFrame {
        code: 1000,
        reason: "".into(),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), tx.close()).await;
}
