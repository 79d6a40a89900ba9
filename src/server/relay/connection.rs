//! One browser connection to a session: output (from the offset the page asked
//! for) and events to the page; keys, resizes, acknowledgements and keepalives from it.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use bytes::{Bytes, BytesMut};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::sync::{MutexGuard, mpsc, watch};
use tokio_tungstenite::tungstenite;

use crate::protocol::{ClientMessage, DEAD_AFTER_SECS, ErrorReason, KEEPALIVE_SECS, ServerEvent};
use crate::server::relay::session::{Input, Link, Session};
use crate::server::relay::upstream::ToPod;

/// Input held for a command that does not read it, before the connection is given up.
const MAX_WAITING_INPUT: usize = 4 << 20;

/// Output chunks (one per upstream frame, a few KiB) are joined into messages up to this
/// size: one write and one browser event instead of dozens during a flood.
const OUTPUT_MESSAGE: usize = 64 * 1024;

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

type Sender = SplitSink<WebSocket, Message>;
type Receiver = SplitStream<WebSocket>;

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
    // Subscribed before anything else, so a take-over from now on is seen.
    let mut link = session.link();
    if link.borrow_and_update().generation != generation {
        return Left::Replaced;
    }
    let attached = ServerEvent::Attached {
        session: session.id.clone(),
        offset,
        resumed,
    };
    if send_event(&mut tx, &attached).await.is_err() {
        session.detach(generation);
        return Left::Dropped;
    }
    // The output sent so far, so acknowledgements cannot run ahead of it.
    let sent = AtomicU64::new(offset);
    let (reply_tx, replies) = mpsc::channel::<ServerEvent>(8);
    let sending = Sending {
        session: &session,
        link,
        generation,
        sent: &sent,
        replies,
    };
    let left = tokio::select! {
        left = sending.run(&mut tx, offset) => left,
        left = receive(&session, &mut rx, &sent, &reply_tx) => left,
    };
    if left == Left::Delivered || left == Left::Replaced {
        // The page may still be sending (acknowledgements); closing with its data unread
        // would reset the connection and could lose the last event on its side. Read until
        // its close reply.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(message)) = rx.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    } else {
        session.detach(generation);
    }
    left
}

async fn send_event(tx: &mut Sender, event: &ServerEvent) -> Result<(), axum::Error> {
    tx.send(Message::Text(event.to_json().into())).await
}

/// The sending half: the session's output from where the page is, its end, replies to the
/// page's messages, and keepalive pings.
struct Sending<'a> {
    session: &'a Session,
    link: watch::Receiver<Link>,
    generation: u64,
    sent: &'a AtomicU64,
    replies: mpsc::Receiver<ServerEvent>,
}

impl Sending<'_> {
    async fn run(mut self, tx: &mut Sender, offset: u64) -> Left {
        let session = self.session;
        let mut progress = session.progress();
        let mut keepalive = tokio::time::interval(Duration::from_secs(KEEPALIVE_SECS));
        keepalive.tick().await;
        let mut cursor = offset;
        loop {
            progress.borrow_and_update();
            let read = session.read(cursor);
            for message in batches(read.chunks, OUTPUT_MESSAGE) {
                let len = message.len() as u64;
                if tx.send(Message::Binary(message)).await.is_err() {
                    return Left::Dropped;
                }
                cursor += len;
                self.sent.store(cursor, Ordering::Release);
            }
            cursor = cursor.max(read.next);
            if let Some(end) = read.end {
                return self.deliver_end(tx, end).await;
            }
            tokio::select! {
                _ = progress.changed() => {}
                changed = self.link.changed() => {
                    let current = *self.link.borrow_and_update();
                    if changed.is_err() || current.generation != self.generation {
                        let event = ServerEvent::Error {
                            reason: ErrorReason::Ended,
                            message: "this terminal was opened again in another window".into(),
                        };
                        let _ = send_event(tx, &event).await;
                        close(tx).await;
                        return Left::Replaced;
                    }
                }
                reply = self.replies.recv() => {
                    if let Some(reply) = reply
                        && send_event(tx, &reply).await.is_err()
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
    }

    /// The session's last event (an end of its own when it has none for the page).
    async fn deliver_end(&self, tx: &mut Sender, end: Option<ServerEvent>) -> Left {
        let event = end.unwrap_or_else(|| ServerEvent::Error {
            reason: ErrorReason::Ended,
            message: "this session has ended".into(),
        });
        if send_event(tx, &event).await.is_err() {
            return Left::Dropped;
        }
        self.session.mark_delivered();
        close(tx).await;
        Left::Delivered
    }
}

/// Input from the page that waits for the command to read it.
#[derive(Default)]
struct Waiting {
    inputs: VecDeque<Input>,
    /// Keystroke bytes among them.
    bytes: usize,
    /// Handed to the exec stream but not yet all sent.
    unflushed: bool,
}

impl Waiting {
    fn pending(&self) -> bool {
        !self.inputs.is_empty() || self.unflushed
    }
}

/// Writes the waiting input to the exec stream from this task, holding the session's
/// writer only while there is something to send. Cancel-safe: input leaves `waiting` only
/// once the stream has taken it, and the writer stays held until it is sent.
async fn write_waiting<'a>(
    session: &'a Session,
    writer: &mut Option<MutexGuard<'a, ToPod>>,
    waiting: &mut Waiting,
) -> Result<(), tungstenite::Error> {
    let to_pod = match writer {
        Some(held) => held,
        None => writer.insert(session.to_pod().lock().await),
    };
    while !waiting.inputs.is_empty() {
        to_pod.ready().await?;
        let Some(input) = waiting.inputs.pop_front() else {
            break;
        };
        let typed = to_pod.start(input)?;
        waiting.bytes -= typed;
        waiting.unflushed = true;
        session.count_input(typed);
        session.touched();
    }
    to_pod.flush().await?;
    waiting.unflushed = false;
    *writer = None;
    Ok(())
}

/// The receiving half: keys, resizes, acknowledgements and keepalives from the page, until
/// it goes away, goes silent or closes the session.
async fn receive(
    session: &Session,
    rx: &mut Receiver,
    sent: &AtomicU64,
    replies: &mpsc::Sender<ServerEvent>,
) -> Left {
    let dead_after = Duration::from_secs(DEAD_AFTER_SECS);
    let mut heard = tokio::time::Instant::now();
    // One timer for the connection's life, moved on only when it fires: a timer set per
    // message was a timer-wheel entry made and dropped for every keystroke.
    let silence = tokio::time::sleep(dead_after);
    tokio::pin!(silence);
    // Input waits here while the command does not read it, so acknowledgements and
    // pings behind it in the socket are still handled (a paste cannot freeze output).
    let mut waiting = Waiting::default();
    let mut writer = None;
    loop {
        let next = tokio::select! {
            written = write_waiting(session, &mut writer, &mut waiting), if waiting.pending() => {
                if written.is_err() {
                    // The cluster side is gone; the session reports how and the sending
                    // half delivers its end.
                    drop(writer.take());
                    std::future::pending::<()>().await;
                }
                continue;
            }
            () = &mut silence => {
                if heard + dead_after > tokio::time::Instant::now() {
                    silence.as_mut().reset(heard + dead_after);
                    continue;
                }
                tracing::info!(session = %session.id, "the page went silent; waiting for it to come back");
                return Left::Dropped;
            }
            next = rx.next() => next,
        };
        heard = tokio::time::Instant::now();
        let message = match next {
            None | Some(Err(_)) => return Left::Dropped,
            Some(Ok(message)) => message,
        };
        let flow = match message {
            Message::Binary(data) => handle_input(data, &mut waiting, replies),
            Message::Text(text) => match ClientMessage::parse(text.as_str()) {
                Ok(control) => handle_control(session, control, &mut waiting, sent, replies),
                Err(message) => {
                    let _ = replies.try_send(ServerEvent::Error {
                        reason: ErrorReason::BadRequest,
                        message,
                    });
                    ControlFlow::Continue(())
                }
            },
            Message::Close(_) => ControlFlow::Break(Left::Dropped),
            Message::Ping(_) | Message::Pong(_) => ControlFlow::Continue(()),
        };
        if let ControlFlow::Break(left) = flow {
            return left;
        }
    }
}

/// Keys for the command; the page is let go when too much waits unread.
fn handle_input(
    data: Bytes,
    waiting: &mut Waiting,
    replies: &mpsc::Sender<ServerEvent>,
) -> ControlFlow<Left> {
    waiting.bytes += data.len();
    if waiting.bytes > MAX_WAITING_INPUT {
        let _ = replies.try_send(ServerEvent::Error {
            reason: ErrorReason::BadRequest,
            message: "the command is not reading its input; more than 4 MiB is waiting".into(),
        });
        return ControlFlow::Break(Left::Dropped);
    }
    waiting.inputs.extend(Input::stdin(data));
    ControlFlow::Continue(())
}

/// One control message from the page.
fn handle_control(
    session: &Session,
    control: ClientMessage,
    waiting: &mut Waiting,
    sent: &AtomicU64,
    replies: &mpsc::Sender<ServerEvent>,
) -> ControlFlow<Left> {
    match control {
        ClientMessage::Resize { cols, rows } => {
            waiting.inputs.push_back(Input::Resize(cols, rows));
        }
        ClientMessage::Ack { offset } => {
            session.ack(offset.min(sent.load(Ordering::Acquire)));
        }
        ClientMessage::Ping => {
            let _ = replies.try_send(ServerEvent::Pong);
        }
        ClientMessage::Close => {
            session.close();
            return ControlFlow::Break(Left::Closed);
        }
        ClientMessage::Broadcast { on, terminals } => session.broadcast(on, terminals),
    }
    ControlFlow::Continue(())
}

/// Joins consecutive chunks into messages of at most `limit` bytes (a larger chunk goes
/// alone); a lone chunk is passed on without a copy.
fn batches(chunks: Vec<Bytes>, limit: usize) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut pending: Vec<Bytes> = Vec::new();
    let mut size = 0;
    let flush = |pending: &mut Vec<Bytes>, out: &mut Vec<Bytes>| match pending.len() {
        0 => {}
        1 => out.extend(pending.pop()),
        _ => {
            let mut joined = BytesMut::with_capacity(pending.iter().map(Bytes::len).sum());
            for chunk in pending.drain(..) {
                joined.extend_from_slice(&chunk);
            }
            out.push(joined.freeze());
        }
    };
    for chunk in chunks {
        if size + chunk.len() > limit {
            flush(&mut pending, &mut out);
            size = 0;
        }
        size += chunk.len();
        pending.push(chunk);
    }
    flush(&mut pending, &mut out);
    out
}

/// A normal close towards the browser, on a whole socket or its sending half.
pub async fn close<S>(tx: &mut S)
where
    S: futures::Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code: crate::protocol::CLOSE_NORMAL,
        reason: "".into(),
    };
    let _ = tx.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), tx.close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> Vec<Bytes> {
        let mut next = 0u8;
        sizes
            .iter()
            .map(|&n| {
                let chunk: Vec<u8> = (0..n)
                    .map(|_| {
                        next = next.wrapping_add(1);
                        next
                    })
                    .collect();
                Bytes::from(chunk)
            })
            .collect()
    }

    #[test]
    fn batches_join_in_order_up_to_the_limit() {
        let input = chunks(&[3, 4, 2, 9, 1, 1]);
        let whole: Vec<u8> = input.iter().flat_map(|c| c.to_vec()).collect();
        let out = batches(input, 8);
        let sizes: Vec<usize> = out.iter().map(Bytes::len).collect();
        // 3+4 fit; 2 starts a new one; 9 is over the limit and goes alone; 1+1 join.
        assert_eq!(sizes, vec![7, 2, 9, 2]);
        assert_eq!(out.concat(), whole);
        assert!(batches(Vec::new(), 8).is_empty());
    }

    #[test]
    fn a_lone_chunk_is_not_copied() {
        let input = chunks(&[5]);
        let pointer = input[0].as_ptr();
        let out = batches(input, 64);
        assert_eq!(out[0].as_ptr(), pointer);
    }
}
