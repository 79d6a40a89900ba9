//! Terminal sessions: a pod's exec stream that outlives any one browser connection.
//!
//! A session reads the exec's output into a buffer that holds what the page has not yet
//! acknowledged (at most [`OUTPUT_WINDOW`] bytes: past that it stops reading, so a flood
//! waits in the pod instead of in podterm's memory). Browser connections attach to it
//! (`connection`), detach, and re-attach within the grace period, replaying from the offset
//! the page reached. When the session ends — the command exits, the grace period passes,
//! the person closes it, an administrator or a limit ends it, podterm shuts down — its
//! processes in the pod are ended (`reaper`) and the audit trail says how it went.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::Message as UpMessage;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::protocol::{ErrorReason, OUTPUT_WINDOW, ServerEvent};
use crate::server::cluster::kube_errors::Failure;
use crate::server::relay::channels::{self, Incoming, Outcome};
use crate::server::relay::reaper::{self, Place};
use crate::server::trail::admission::Ticket;
use crate::server::trail::audit::{Audit, Ending, SessionFacts};
use crate::server::trail::recording::Recorder;

/// The exec stream to the cluster.
pub type Upstream =
    tokio_tungstenite::WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// Pings to the cluster keep load balancers between podterm and the API server from
/// cutting an idle exec stream.
const UPSTREAM_PING: Duration = Duration::from_secs(30);
/// Queued browser input (messages) before the browser's socket is made to wait.
const INPUT_QUEUE: usize = 64;

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a session waits for its page to come back after the connection drops.
    pub grace: Duration,
    /// End sessions without input for this long.
    pub idle: Option<Duration>,
    /// End the session's processes in the pod when it ends.
    pub cleanup: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(30),
            idle: None,
            cleanup: true,
        }
    }
}

/// Browser input on its way to the command.
#[derive(Debug)]
pub enum Input {
    Stdin(Bytes),
    Resize(u16, u16),
}

/// Which browser connection the session belongs to right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub generation: u64,
    pub attached: bool,
}

/// What a connection reads from the session.
pub struct Read {
    pub chunks: Vec<Bytes>,
    pub next: u64,
    /// Set once the session is over and everything before `next` is all there is: the last
    /// event to send (none when the person closed it or never came back).
    pub end: Option<Option<ServerEvent>>,
}

#[derive(Default)]
struct Output {
    chunks: VecDeque<Bytes>,
    /// The offset of the first byte still kept.
    start: u64,
    end: u64,
    acked: u64,
    over: Option<Option<ServerEvent>>,
}

pub struct Session {
    pub id: String,
    owner: String,
    pub place: Place,
    input: mpsc::Sender<Input>,
    output: Mutex<Output>,
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
}

/// Everything a new session needs; the exec stream is already open.
pub struct Start {
    pub id: String,
    /// The identity's cache key: only the same person may resume.
    pub owner: String,
    pub place: Place,
    pub upstream: Upstream,
    pub ticket: Ticket,
    pub facts: SessionFacts,
    pub audit: Arc<Audit>,
    pub recorder: Option<Recorder>,
    /// The cluster client acting as the person, for the cleanup exec.
    pub client: kube::Client,
    pub max_duration: Option<Duration>,
}

pub struct Sessions {
    settings: Settings,
    metrics: Arc<crate::server::web::metrics::Metrics>,
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// Sessions started for pages still loading, until the page's socket claims them.
    expected: Mutex<HashMap<String, Expected>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// How a session started ahead of its page's socket turned out (it is in the map when it
/// started); `None` while it starts.
pub type Prestarted = Option<Result<(), Failure>>;

/// A session being started for a page (`exec::prestart`): only the same person at the same
/// place may claim it.
struct Expected {
    owner: String,
    place: Place,
    ready: watch::Receiver<Prestarted>,
}

impl Sessions {
    pub fn new(settings: Settings, metrics: Arc<crate::server::web::metrics::Metrics>) -> Self {
        Self {
            settings,
            metrics,
            map: Mutex::new(HashMap::new()),
            expected: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sessions running or waiting for their page.
    pub fn count(&self) -> usize {
        self.map().len()
    }

    /// Held while a session is being set up, so shutdown waits for it to start and end.
    pub fn setting_up(&self) -> tokio_util::task::task_tracker::TaskTrackerToken {
        self.tasks.token()
    }

    /// Cancelled when podterm begins to shut down; long-lived responses end with it.
    pub fn stopping(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Output held for pages, over all sessions.
    pub fn buffered_bytes(&self) -> u64 {
        self.map()
            .values()
            .map(|s| {
                let out = s.lock();
                out.end - out.start
            })
            .sum()
    }

    /// Starts a session around an open exec stream; it begins attached (generation 1).
    pub fn start(self: &Arc<Self>, start: Start) -> Arc<Session> {
        let (input, input_rx) = mpsc::channel(INPUT_QUEUE);
        let session = Arc::new(Session::new(
            start.id.clone(),
            start.owner.clone(),
            start.place.clone(),
            input,
        ));
        self.map().insert(session.id.clone(), session.clone());
        let sessions = self.clone();
        let running = session.clone();
        self.tasks
            .spawn(async move { sessions.run(running, start, input_rx).await });
        session
    }

    fn expected(&self) -> std::sync::MutexGuard<'_, HashMap<String, Expected>> {
        self.expected.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers session `id`, about to be started for a page that will claim it; the
    /// starter reports how the start went through the returned sender.
    pub fn expect(&self, id: &str, owner: &str, place: Place) -> watch::Sender<Prestarted> {
        let (report, ready) = watch::channel(None);
        let owner = owner.to_string();
        self.expected().insert(
            id.to_string(),
            Expected {
                owner,
                place,
                ready,
            },
        );
        report
    }

    /// The page's socket takes the session started for it, once its start is done: `Ok`
    /// when it started (detached: attach with `resume`), or why it could not. `None` when
    /// no such start is waiting for this person at this place (already claimed, given up,
    /// or never made): the caller starts a session as usual.
    pub async fn claim(&self, id: &str, owner: &str, place: &Place) -> Prestarted {
        let mut ready = {
            let mut expected = self.expected();
            match expected.get(id) {
                Some(e) if e.owner == owner && e.place == *place => expected.remove(id)?.ready,
                _ => return None,
            }
        };
        ready.wait_for(Option::is_some).await.ok()?.clone()
    }

    /// Forgets a start nobody claimed (its session, detached from the beginning, ends when
    /// the grace period passes).
    pub fn unclaimed(&self, id: &str) {
        if self.expected().remove(id).is_some() {
            tracing::debug!(session = %id, "no page claimed the session started for it");
        }
    }

    /// Re-attaches a connection to a session of the same person at the same place. The
    /// connection attached before (if any) is told and let go.
    pub fn resume(
        &self,
        id: &str,
        owner: &str,
        place: &Place,
        offset: u64,
    ) -> Result<(Arc<Session>, u64, u64), Failure> {
        let gone = || {
            Failure::new(
                ErrorReason::Ended,
                "this session has ended (it was away longer than podterm waits, or it finished)",
            )
        };
        let session = self.map().get(id).cloned().ok_or_else(gone)?;
        if session.owner != owner || session.place != *place {
            return Err(gone());
        }
        // Checked before taking over, so a bad request leaves the attached page alone.
        let offset = session
            .start_offset(offset)
            .map_err(|why| Failure::new(ErrorReason::BadRequest, why))?;
        let mut generation = 0;
        session.link.send_modify(|link| {
            link.generation += 1;
            link.attached = true;
            generation = link.generation;
        });
        Ok((session, offset, generation))
    }

    /// Ends every session (telling their pages), ends their processes, and waits for that
    /// up to `deadline`.
    pub async fn shutdown(&self, deadline: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        if tokio::time::timeout(deadline, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "{} sessions did not finish cleaning up before shutdown",
                self.count()
            );
        }
    }

    /// One session from start to cleanup.
    async fn run(
        self: Arc<Self>,
        session: Arc<Session>,
        start: Start,
        input_rx: mpsc::Receiver<Input>,
    ) {
        let Start {
            upstream,
            ticket,
            facts,
            audit,
            recorder,
            client,
            max_duration,
            ..
        } = start;
        audit.started(&facts);
        let started = Instant::now();
        let recorder = recorder.map(|r| Arc::new(Mutex::new(r)));
        let (up_tx, up_rx) = upstream.split();
        let writer_stop = CancellationToken::new();
        let writer = tokio::spawn(write_upstream(
            up_tx,
            input_rx,
            writer_stop.clone(),
            session.clone(),
            recorder.clone(),
            self.metrics.clone(),
        ));

        let ending = self
            .pump(&session, up_rx, &ticket, max_duration, recorder.as_ref())
            .await;
        let (event, mut record) = describe(&ending, self.settings.grace);
        self.metrics.ended(ending.outcome());
        session.finish(event);
        writer_stop.cancel();
        let _ = writer.await;
        drop(ticket);
        record.duration_ms = started.elapsed().as_millis();
        record.bytes_in = session.bytes_in.load(Ordering::Relaxed);
        record.bytes_out = session.bytes_out.load(Ordering::Relaxed);
        audit.ended(&facts, &record);
        if let Some(recorder) = recorder.and_then(Arc::into_inner) {
            recorder
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .finish();
        }
        if self.settings.cleanup {
            let report = reaper::end_processes(client, &session.place, &session.id).await;
            tracing::info!(session = %session.id, pod = %session.place.pod, namespace = %session.place.namespace, "{report}");
        }
        self.linger(&session).await;
        self.map().remove(&session.id);
    }

    /// Reads the exec stream until the session ends, and says why it ended.
    async fn pump(
        &self,
        session: &Session,
        mut up_rx: futures::stream::SplitStream<Upstream>,
        ticket: &Ticket,
        max_duration: Option<Duration>,
        recorder: Option<&Arc<Mutex<Recorder>>>,
    ) -> End {
        let mut link = session.link.subscribe();
        // A connection may have let go before this task started.
        let mut detached_at = (!link.borrow_and_update().attached).then(tokio::time::Instant::now);
        let limit = async {
            match max_duration {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(limit);
        loop {
            let open = session.window_open();
            let grace_over = async {
                match detached_at {
                    Some(at) => tokio::time::sleep_until(at + self.settings.grace).await,
                    None => std::future::pending().await,
                }
            };
            let idle_over = async {
                match self.settings.idle {
                    Some(idle) => {
                        let left = idle.saturating_sub(session.idle_for());
                        tokio::time::sleep(left).await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                message = up_rx.next(), if open => match message {
                    Some(Ok(UpMessage::Binary(data))) => match channels::read(data) {
                        Incoming::Output(bytes) => {
                            session.bytes_out.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            self.metrics.relayed("to_browser", bytes.len() as u64);
                            if let Some(r) = recorder {
                                r.lock().unwrap_or_else(|e| e.into_inner()).output(&bytes);
                            }
                            session.push(bytes);
                        }
                        Incoming::Status(outcome) => return End::Cluster(outcome),
                        Incoming::Ignored => {}
                    },
                    Some(Ok(UpMessage::Close(_))) | None => {
                        return End::Cluster(Outcome::Failed(Failure::new(
                            ErrorReason::Unreachable,
                            "the connection to the cluster was lost",
                        )));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        return End::Cluster(Outcome::Failed(Failure::new(
                            ErrorReason::Unreachable,
                            format!("the connection to the cluster broke: {e}"),
                        )));
                    }
                },
                () = session.space.notified() => {}
                changed = link.changed() => {
                    if changed.is_ok() {
                        let attached = link.borrow_and_update().attached;
                        detached_at = (!attached).then(tokio::time::Instant::now);
                    }
                }
                () = grace_over => return End::Abandoned,
                () = idle_over => {
                    let idle = self.settings.idle.unwrap_or_default();
                    if session.idle_for() >= idle {
                        return End::Ended(format!("this session was idle for {} minutes", idle.as_secs() / 60));
                    }
                }
                () = session.close.cancelled() => return End::Closed,
                () = ticket.end.cancelled() => return End::Ended("an administrator ended this session".into()),
                () = &mut limit => {
                    let minutes = max_duration.unwrap_or_default().as_secs() / 60;
                    return End::Ended(format!("this session reached its maximum length of {minutes} minutes"));
                }
                () = self.shutdown.cancelled() => return End::Ended("podterm is shutting down".into()),
            }
        }
    }

    /// After the end: keep the session for a page that comes back for its last output and
    /// event, until one has it or the grace period passes.
    async fn linger(&self, session: &Session) {
        let deadline = tokio::time::Instant::now() + self.settings.grace;
        let mut link = session.link.subscribe();
        while !session.delivered.load(Ordering::Acquire) {
            tokio::select! {
                changed = link.changed() => if changed.is_err() { break },
                () = tokio::time::sleep_until(deadline) => break,
                () = self.shutdown.cancelled() => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    break;
                }
            }
        }
    }
}

/// Why a session ended.
enum End {
    Cluster(Outcome),
    /// The page did not come back within the grace period.
    Abandoned,
    /// The person closed the terminal.
    Closed,
    /// podterm ended it: an administrator, a limit, shutdown.
    Ended(String),
}

impl End {
    fn outcome(&self) -> &'static str {
        match self {
            End::Cluster(Outcome::Exited(_)) => "exited",
            End::Cluster(Outcome::Failed(_)) => "failed",
            End::Abandoned => "abandoned",
            End::Closed => "closed",
            End::Ended(_) => "ended",
        }
    }
}

fn describe(end: &End, grace: Duration) -> (Option<ServerEvent>, Ending) {
    match end {
        End::Cluster(Outcome::Exited(code)) => (
            Some(ServerEvent::Exit { code: *code }),
            Ending {
                exit_code: Some(*code),
                ..Default::default()
            },
        ),
        End::Cluster(Outcome::Failed(failure)) => (
            Some(ServerEvent::Error {
                reason: failure.reason,
                message: failure.message.clone(),
            }),
            Ending {
                error: Some(failure.message.clone()),
                ..Default::default()
            },
        ),
        End::Abandoned => (
            None,
            Ending {
                error: Some(format!(
                    "the browser went away and did not come back within {} s",
                    grace.as_secs()
                )),
                ..Default::default()
            },
        ),
        End::Closed => (
            None,
            Ending {
                error: Some("closed in the browser".into()),
                ..Default::default()
            },
        ),
        End::Ended(why) => (
            Some(ServerEvent::Error {
                reason: ErrorReason::Ended,
                message: why.clone(),
            }),
            Ending {
                error: Some(why.clone()),
                ..Default::default()
            },
        ),
    }
}

/// Sends browser input and keepalive pings to the cluster, until told to stop; then closes
/// the exec stream.
async fn write_upstream(
    mut up_tx: futures::stream::SplitSink<Upstream, UpMessage>,
    mut input: mpsc::Receiver<Input>,
    stop: CancellationToken,
    session: Arc<Session>,
    recorder: Option<Arc<Mutex<Recorder>>>,
    metrics: Arc<crate::server::web::metrics::Metrics>,
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
                    session.bytes_in.fetch_add(data.len() as u64, Ordering::Relaxed);
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

impl Session {
    /// A session attached to its first connection (generation 1), with no output yet.
    fn new(id: String, owner: String, place: Place, input: mpsc::Sender<Input>) -> Self {
        Self {
            id,
            owner,
            place,
            input,
            output: Mutex::new(Output::default()),
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
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn window_open(&self) -> bool {
        let out = self.lock();
        out.end - out.acked < OUTPUT_WINDOW
    }

    fn push(&self, bytes: Bytes) {
        let end = {
            let mut out = self.lock();
            out.end += bytes.len() as u64;
            out.chunks.push_back(bytes);
            out.end
        };
        self.progress.send_replace(end);
    }

    fn finish(&self, event: Option<ServerEvent>) {
        self.lock().over = Some(event);
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

    /// Where a connection asking for `requested` starts: output before what is kept is gone
    /// (only a page that skipped its acknowledgements asks for it).
    pub fn start_offset(&self, requested: u64) -> Result<u64, String> {
        let out = self.lock();
        if requested > out.end {
            return Err(format!(
                "offset {requested} is past the session's output ({} bytes so far)",
                out.end
            ));
        }
        Ok(requested.max(out.start))
    }

    /// The output from `from` on (shared, not copied), and the end if it has come.
    pub fn read(&self, from: u64) -> Read {
        let out = self.lock();
        let mut chunks = Vec::new();
        let mut offset = out.start;
        for chunk in &out.chunks {
            let next = offset + chunk.len() as u64;
            if next > from {
                let skip = from.saturating_sub(offset) as usize;
                chunks.push(chunk.slice(skip..));
            }
            offset = next;
        }
        Read {
            chunks,
            next: out.end.max(from),
            end: out.over.clone(),
        }
    }

    /// The page has written the output up to `offset`: forget it and read on.
    pub fn ack(&self, offset: u64) {
        {
            let mut out = self.lock();
            let offset = offset.min(out.end);
            if offset <= out.acked {
                return;
            }
            out.acked = offset;
            while let Some(first) = out.chunks.front() {
                let first_end = out.start + first.len() as u64;
                if first_end > offset {
                    break;
                }
                out.start = first_end;
                out.chunks.pop_front();
            }
        }
        self.space.notify_one();
    }

    /// Waits for room in the input queue; None once the session is over.
    pub async fn reserve(&self) -> Option<mpsc::Permit<'_, Input>> {
        self.input.reserve().await.ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session() -> Session {
        let (input, _) = mpsc::channel(1);
        let place = Place {
            context: "ctx".into(),
            namespace: "ns".into(),
            pod: "pod".into(),
            container: "c".into(),
        };
        Session::new("test".into(), "owner".into(), place, input)
    }

    #[derive(Debug, Clone)]
    enum Step {
        Output(Vec<u8>),
        Ack(u64),
        Read(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 1..300).prop_map(Step::Output),
            (0u64..5000).prop_map(Step::Ack),
            (0u64..5000).prop_map(Step::Read),
        ]
    }

    proptest! {
        /// Whatever the order of output, acknowledgements and reads, a read from any kept
        /// offset returns exactly the output from there: nothing lost, doubled or reordered,
        /// and nothing acknowledged is kept.
        #[test]
        fn replay_is_exact(steps in proptest::collection::vec(step(), 1..60)) {
            let session = session();
            let mut all = Vec::new();
            for step in steps {
                match step {
                    Step::Output(bytes) => {
                        all.extend_from_slice(&bytes);
                        session.push(Bytes::from(bytes));
                    }
                    Step::Ack(offset) => session.ack(offset),
                    Step::Read(from) => {
                        let (start, acked) = {
                            let out = session.lock();
                            (out.start, out.acked)
                        };
                        prop_assert!(start <= acked.max(start));
                        match session.start_offset(from) {
                            Ok(at) => {
                                prop_assert!(at >= start && at >= from.min(all.len() as u64));
                                let read = session.read(at);
                                let got: Vec<u8> = read.chunks.concat();
                                prop_assert_eq!(&got[..], &all[at as usize..]);
                                prop_assert_eq!(read.next, all.len() as u64);
                            }
                            Err(_) => prop_assert!(from > all.len() as u64),
                        }
                    }
                }
                let out = session.lock();
                let kept: u64 = out.chunks.iter().map(|c| c.len() as u64).sum();
                prop_assert_eq!(out.start + kept, out.end);
                prop_assert!(out.start <= out.acked || out.acked == 0);
                prop_assert!(out.end - out.start <= out.end - out.acked + 300);
            }
        }
    }
}
