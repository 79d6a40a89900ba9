//! Terminal sessions: a pod's exec stream that outlives any one browser connection.
//!
//! A session reads the exec's output into its replay buffer (`replay`), which holds what
//! the page has not yet acknowledged. Browser connections attach to it (`connection`),
//! detach, and re-attach within the grace period, replaying from the offset the page
//! reached. When the session ends — the command exits, the grace period passes, the person
//! closes it, an administrator or a limit ends it, podterm shuts down — its processes in
//! the pod are ended (`reaper`) and the audit trail says how it went. The live sessions
//! are kept by `registry`.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::{Notify, watch};
use tokio_tungstenite::tungstenite::Message as UpMessage;
use tokio_util::sync::CancellationToken;

use crate::model::Target;
use crate::protocol::{ErrorReason, ServerEvent};
use crate::server::cluster::exec_channels::{self as channels, Incoming, Outcome};
use crate::server::cluster::kube_errors::Failure;
use crate::server::relay::end::{End, describe};
use crate::server::relay::reaper;
use crate::server::relay::registry::Sessions;
use crate::server::relay::replay::{Read, Replay};
use crate::server::relay::upstream::{self, ToPod, Upstream};
use crate::server::trail::admission::Ticket;
use crate::server::trail::audit::{Audit, SessionFacts};
use crate::server::trail::recording::Recorder;
use crate::server::web::metrics::Metrics;

/// Browser input on its way to the command.
#[derive(Debug)]
pub enum Input {
    Stdin(Bytes),
    Resize(u16, u16),
}

impl Input {
    /// Typed bytes as inputs of at most one frame each.
    pub fn stdin(data: Bytes) -> impl Iterator<Item = Input> {
        channels::stdin_pieces(data).map(Input::Stdin)
    }
}

/// Which browser connection the session belongs to right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub generation: u64,
    pub attached: bool,
}

pub struct Session {
    pub id: String,
    owner: String,
    pub target: Target,
    /// On the container's main process (attach) rather than a process of its own.
    attach: bool,
    /// The exec stream's writing half, held by one writer at a time.
    to_pod: tokio::sync::Mutex<ToPod>,
    output: Mutex<Replay>,
    /// Bumped whenever output arrives or the session ends.
    progress: watch::Sender<u64>,
    /// Wakes the reader when acknowledgements open the window again.
    space: Notify,
    link: watch::Sender<Link>,
    /// The person closed the terminal.
    close: CancellationToken,
    /// The last event reached a page.
    delivered: AtomicBool,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    last_input: Mutex<Instant>,
    /// The page says what is typed here also goes to other terminals.
    broadcasting: AtomicBool,
    /// Where a start or stop of broadcasting is written down.
    trail: (Arc<Audit>, SessionFacts),
}

/// Everything a new session needs; the exec stream is already open.
pub struct Start {
    pub id: String,
    /// The identity's cache key: only the same person may resume.
    pub owner: String,
    pub target: Target,
    pub upstream: Upstream,
    /// On the container's main process.
    pub attach: bool,
    /// What the session's own task keeps.
    pub lifetime: Lifetime,
}

/// What a session's own task needs from its start to its cleanup.
pub struct Lifetime {
    pub ticket: Ticket,
    pub facts: SessionFacts,
    pub audit: Arc<Audit>,
    /// Shared with the exec stream's writer, which records the input.
    pub recorder: Option<SharedRecorder>,
    /// The cluster client acting as the person, for the cleanup exec.
    pub client: kube::Client,
    pub max_duration: Option<Duration>,
    /// Its marked processes are ended with it.
    pub cleanup: bool,
}

/// A recording shared by the reader and the writer of the exec stream.
pub type SharedRecorder = Arc<Mutex<Recorder>>;

/// The shared recording, to write to (one that panicked mid-line is written on).
pub fn recording(recorder: &SharedRecorder) -> std::sync::MutexGuard<'_, Recorder> {
    recorder.lock().unwrap_or_else(|e| e.into_inner())
}

/// The exec stream's reading half.
pub(super) type FromPod = futures::stream::SplitStream<Upstream>;

/// One session from start to cleanup.
pub(super) async fn run(
    sessions: Arc<Sessions>,
    session: Arc<Session>,
    up_rx: FromPod,
    lifetime: Lifetime,
) {
    let started = Instant::now();
    let writer_stop = CancellationToken::new();
    let writer = tokio::spawn(upstream::keep_alive(session.clone(), writer_stop.clone()));

    let ending = pump(&sessions, &session, up_rx, &lifetime).await;
    let settings = sessions.settings();
    let (event, mut record) = describe(&ending, settings.grace);
    sessions.metrics.ended(ending.outcome());
    session.finish(event);
    writer_stop.cancel();
    let _ = writer.await;
    let Lifetime {
        ticket,
        facts,
        audit,
        recorder,
        client,
        cleanup,
        ..
    } = lifetime;
    drop(ticket);
    record.duration_ms = started.elapsed().as_millis();
    record.bytes_in = session.bytes_in.load(Ordering::Relaxed);
    record.bytes_out = session.bytes_out.load(Ordering::Relaxed);
    // A broadcast still on ends with the session.
    session.broadcast(false, 0);
    audit.ended(&facts, &record);
    if let Some(recorder) = recorder {
        recording(&recorder).finish();
    }
    if cleanup {
        let report = reaper::end_processes(client, &session.target, &session.id).await;
        tracing::info!(session = %session.id, pod = %session.target.pod, namespace = %session.target.namespace, "{report}");
    }
    linger(&sessions, &session).await;
    sessions.remove(&session.id);
}

/// Reads the exec stream until the session ends, and says why it ended.
async fn pump(
    sessions: &Sessions,
    session: &Session,
    mut up_rx: FromPod,
    lifetime: &Lifetime,
) -> End {
    let Lifetime {
        ticket,
        max_duration,
        recorder,
        ..
    } = lifetime;
    let (max_duration, recorder) = (*max_duration, recorder.as_ref());
    let settings = sessions.settings();
    let shutdown = sessions.stopping();
    let mut link = session.link.subscribe();
    // A connection may have let go before this task started.
    let mut detached_at = (!link.borrow_and_update().attached).then(tokio::time::Instant::now);
    let limit = sleep_or_never(max_duration);
    // Made once, not per message: each new one registers with its token and unregisters.
    let closed = session.close.cancelled();
    let ended_by_admin = ticket.end.cancelled();
    let stopping = shutdown.cancelled();
    tokio::pin!(limit, closed, ended_by_admin, stopping);
    loop {
        let open = session.window_open();
        let grace_over = async {
            match detached_at {
                Some(at) => tokio::time::sleep_until(at + settings.grace).await,
                None => std::future::pending().await,
            }
        };
        let idle_left = settings
            .idle
            .map(|idle| idle.saturating_sub(session.idle_for()));
        tokio::select! {
            message = up_rx.next(), if open => {
                if let ControlFlow::Break(end) =
                    from_cluster(session, message, &sessions.metrics, recorder)
                {
                    return end;
                }
            }
            // Acknowledgements leave a permit when they open the window, so none is lost.
            () = session.space.notified(), if !open => {}
            changed = link.changed() => {
                if changed.is_ok() {
                    let attached = link.borrow_and_update().attached;
                    detached_at = (!attached).then(tokio::time::Instant::now);
                }
            }
            () = grace_over => return End::Abandoned,
            () = sleep_or_never(idle_left) => {
                let idle = settings.idle.unwrap_or_default();
                if session.idle_for() >= idle {
                    return End::Ended(format!("this session was idle for {} minutes", idle.as_secs() / 60));
                }
            }
            () = &mut closed => return End::Closed,
            () = &mut ended_by_admin => return End::Ended("an administrator ended this session".into()),
            () = &mut limit => {
                let minutes = max_duration.unwrap_or_default().as_secs() / 60;
                return End::Ended(format!("this session reached its maximum length of {minutes} minutes"));
            }
            () = &mut stopping => return End::Ended("podterm is shutting down".into()),
        }
    }
}

async fn sleep_or_never(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

/// One message from the exec stream: output is kept for the page; a status or a broken
/// stream ends the session.
fn from_cluster(
    session: &Session,
    message: Option<Result<UpMessage, tokio_tungstenite::tungstenite::Error>>,
    metrics: &Metrics,
    recorder: Option<&SharedRecorder>,
) -> ControlFlow<End> {
    match message {
        Some(Ok(UpMessage::Binary(data))) => match channels::read(data) {
            Incoming::Output(bytes) => {
                session
                    .bytes_out
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                metrics.relayed_to_browser(bytes.len() as u64);
                if let Some(r) = recorder {
                    recording(r).output(&bytes);
                }
                session.push(bytes);
                ControlFlow::Continue(())
            }
            Incoming::Status(outcome) => ControlFlow::Break(End::Cluster(outcome)),
            Incoming::Ignored => ControlFlow::Continue(()),
        },
        Some(Ok(UpMessage::Close(_))) | None => {
            ControlFlow::Break(End::Cluster(Outcome::Failed(Failure::new(
                ErrorReason::Unreachable,
                "the connection to the cluster was lost",
            ))))
        }
        Some(Ok(_)) => ControlFlow::Continue(()),
        Some(Err(e)) => ControlFlow::Break(End::Cluster(Outcome::Failed(Failure::new(
            ErrorReason::Unreachable,
            format!("the connection to the cluster broke: {e}"),
        )))),
    }
}

/// After the end: keep the session for a page that comes back for its last output and
/// event, until one has it or the grace period passes.
async fn linger(sessions: &Sessions, session: &Session) {
    let deadline = tokio::time::Instant::now() + sessions.settings().grace;
    let shutdown = sessions.stopping();
    let mut link = session.link.subscribe();
    while !session.delivered.load(Ordering::Acquire) {
        tokio::select! {
            changed = link.changed() => if changed.is_err() { break },
            () = tokio::time::sleep_until(deadline) => break,
            () = shutdown.cancelled() => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                break;
            }
        }
    }
}

impl Session {
    /// A session attached to its first connection (generation 1), with no output yet.
    pub(super) fn new(
        id: String,
        owner: String,
        target: Target,
        attach: bool,
        to_pod: ToPod,
        trail: (Arc<Audit>, SessionFacts),
    ) -> Self {
        Self {
            id,
            owner,
            target,
            attach,
            to_pod: tokio::sync::Mutex::new(to_pod),
            output: Mutex::new(Replay::default()),
            progress: watch::Sender::new(0),
            space: Notify::new(),
            link: watch::Sender::new(Link {
                generation: 1,
                attached: true,
            }),
            close: CancellationToken::new(),
            delivered: AtomicBool::new(false),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            last_input: Mutex::new(Instant::now()),
            broadcasting: AtomicBool::new(false),
            trail,
        }
    }

    /// The page's typing into this session also goes to other terminals, or no longer:
    /// one audit line when that changes (a page that says it again after a reconnect
    /// writes none).
    pub fn broadcast(&self, on: bool, terminals: u32) {
        if self.broadcasting.swap(on, Ordering::AcqRel) != on {
            let (audit, facts) = &self.trail;
            audit.broadcast(facts, on, terminals);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Replay> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this is the session of `owner` at `target`, attached or not (only they
    /// may resume it, and only the way it was opened, whose right was checked).
    pub(super) fn belongs_to(&self, owner: &str, target: &Target, attach: bool) -> bool {
        self.owner == owner && self.target == *target && self.attach == attach
    }

    /// A new connection attaches, letting go of the one before; its generation.
    pub(super) fn take_over(&self) -> u64 {
        let mut generation = 0;
        self.link.send_modify(|link| {
            link.generation += 1;
            link.attached = true;
            generation = link.generation;
        });
        generation
    }

    pub(super) fn buffered(&self) -> u64 {
        self.lock().buffered()
    }

    fn window_open(&self) -> bool {
        self.lock().window_open()
    }

    fn push(&self, bytes: Bytes) {
        let end = self.lock().push(bytes);
        self.progress.send_replace(end);
    }

    fn finish(&self, event: Option<ServerEvent>) {
        self.lock().finish(event);
        self.progress.send_modify(|_| {});
    }

    fn idle_for(&self) -> Duration {
        self.last_input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed()
    }

    /// Wakes a connection when output arrives or the session ends.
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    pub fn link(&self) -> watch::Receiver<Link> {
        self.link.subscribe()
    }

    /// Where a connection asking for `requested` starts (see `Replay::start_offset`).
    pub fn start_offset(&self, requested: u64) -> Result<u64, String> {
        self.lock().start_offset(requested)
    }

    /// The output from `from` on (shared, not copied), and the end if it has come.
    pub fn read(&self, from: u64) -> Read {
        self.lock().read(from)
    }

    /// The page has written the output up to `offset`: forget it and read on.
    pub fn ack(&self, offset: u64) {
        if self.lock().ack(offset) {
            self.space.notify_one();
        }
    }

    /// The exec stream's writing half: lock it to write input.
    pub fn to_pod(&self) -> &tokio::sync::Mutex<ToPod> {
        &self.to_pod
    }

    /// Input bytes on their way to the pod, for the audit trail.
    pub fn count_input(&self, bytes: usize) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Input is on its way (for the idle timeout).
    pub fn touched(&self) {
        *self.last_input.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// The person closed the terminal.
    pub fn close(&self) {
        self.close.cancel();
    }

    /// A connection let go; the grace period starts unless another one attached since.
    pub fn detach(&self, generation: u64) {
        self.link.send_if_modified(|link| {
            if link.generation == generation && link.attached {
                link.attached = false;
                true
            } else {
                false
            }
        });
    }

    pub fn mark_delivered(&self) {
        self.delivered.store(true, Ordering::Release);
        self.link.send_modify(|_| {});
    }
}
