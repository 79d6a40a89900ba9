//! Pod lists kept current by watches, and the live pod feed built on them.
//!
//! One watch per namespace, cluster context and identity feeds everything that shows those
//! pods: page renders take a window of it from memory, and each open page's feed (a
//! server-sent event stream) sends its window again only when it changed. The watch is
//! started by the first render or feed, runs while feeds follow it and for [`IDLE`] after the
//! last use, and is made with the caller's own client, so one person's list never answers
//! another's request.
//!
//! Each running watch holds a connection to the cluster, so they are capped: at most
//! [`MAX_WATCHES_PER_PERSON`] for one identity (over every context) and [`MAX_WATCHES`] in
//! all. To start another past a cap, the least recently used watch that no page follows is
//! let go; when every one is followed, the render or feed that needs another is refused with
//! a sentence saying to close other podterm pages. A watch that was let go ends at once
//! unless a feed still follows it, and counts against the caps until then.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Extension, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::Deserialize;
use tokio::sync::{Notify, mpsc, watch};

use crate::model::{
    PodCounts, PodSummary, PodWindow, WINDOW_MAX, normalize_filter, short_age, trim_filter,
};
use crate::protocol::ErrorReason;
use crate::server::AppState;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::classify;
use crate::server::cluster::pods::{created, summarize};
use crate::server::web::identity::Caller;

/// Changes within this window are sent as one update.
const COALESCE: Duration = Duration::from_millis(200);
/// Ages move on even when nothing changes.
const REFRESH: Duration = Duration::from_secs(30);
/// How long a watch nobody follows is kept for the next render.
const IDLE: Duration = Duration::from_secs(60);
/// How often an idle watch checks whether to end.
const SWEEP: Duration = Duration::from_secs(10);
/// Watches one identity may have running at once, over every cluster context.
pub const MAX_WATCHES_PER_PERSON: usize = 8;
/// Watches running at once in podterm, everyone's together.
pub const MAX_WATCHES: usize = 64;
/// Each watch call ends after this long and is made again (from where it was: no new
/// list), so the cluster checks again that the person may still watch these pods: a
/// revoked person's kept list is emptied within about this long.
const WATCH_SECONDS: u32 = 10;
/// How long a render waits for a namespace's first list.
const FIRST_LIST: Duration = Duration::from_secs(20);

/// The pod lists podterm keeps, by cluster context, identity and namespace.
#[derive(Default)]
pub struct PodWatches {
    entries: Mutex<HashMap<WatchKey, Arc<PodWatch>>>,
    /// The places under the caps that running watches hold.
    places: Arc<Mutex<Places>>,
    /// Watch tasks running now.
    tasks: Arc<AtomicUsize>,
}

/// How many places under the caps are held, in all and by identity.
#[derive(Default)]
struct Places {
    total: usize,
    by_identity: HashMap<String, usize>,
}

/// A running watch's place under the caps, given back when dropped. Places are only taken
/// with the registry locked, so counting and taking cannot race.
struct Place {
    places: Arc<Mutex<Places>>,
    identity: String,
}

impl Place {
    fn take(places: &Arc<Mutex<Places>>, identity: &str) -> Self {
        let mut held = places.lock().unwrap_or_else(|e| e.into_inner());
        held.total += 1;
        *held.by_identity.entry(identity.to_string()).or_default() += 1;
        Self {
            places: places.clone(),
            identity: identity.to_string(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut held = self.places.lock().unwrap_or_else(|e| e.into_inner());
        held.total = held.total.saturating_sub(1);
        if let Some(count) = held.by_identity.get_mut(&self.identity) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.by_identity.remove(&self.identity);
            }
        }
    }
}

/// Counts a watch task while it runs.
struct Task(Arc<AtomicUsize>);

impl Task {
    fn start(tasks: &Arc<AtomicUsize>) -> Self {
        tasks.fetch_add(1, Ordering::Relaxed);
        Self(tasks.clone())
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WatchKey {
    context: String,
    identity: String,
    namespace: String,
}

/// One namespace's pods as one identity may see them, kept by a watch.
pub struct PodWatch {
    pods: RwLock<BTreeMap<String, Kept>>,
    status: watch::Receiver<Status>,
    last_used: Mutex<Instant>,
    uses: Mutex<Uses>,
    /// Wakes the watch's task to check whether it is still wanted.
    poke: Arc<Notify>,
}

/// Who uses a watch, and its place under the caps while it may run.
struct Uses {
    /// Open feeds, and renders waiting for the first list.
    followers: usize,
    /// Let go by the registry: ends once nobody follows it.
    released: bool,
    place: Option<Place>,
}

/// A pod as listed, with its creation time so its age is worked out when it is shown.
struct Kept {
    summary: PodSummary,
    created: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Status {
    /// Bumped on every change to the pods.
    version: u64,
    /// The first list has arrived (and the cluster has not refused since).
    ready: bool,
    /// Why the watch is failing right now, if it is.
    problem: Option<String>,
    /// The watch has ended; a new one must be started.
    ended: bool,
}

impl PodWatches {
    /// A window of the namespace's pods, as the cluster's client `cluster` may see them:
    /// from memory when they are watched already, else after the first list.
    pub async fn window(
        &self,
        cluster: &Cluster,
        namespace: &str,
        filter: &str,
        limit: usize,
    ) -> Result<PodWindow, String> {
        // A watch that ended between being found and being asked is started again, once.
        for _ in 0..2 {
            // Followed while the render waits, so that it is not let go meanwhile.
            let follower = self.get(cluster, namespace, true)?;
            let watch = &follower.0;
            let mut status = watch.status.clone();
            let first = tokio::time::timeout(
                FIRST_LIST,
                status.wait_for(|s| s.ready || s.problem.is_some() || s.ended),
            )
            .await
            .map(|answer| answer.map(|s| s.clone()));
            match first {
                Err(_) => {
                    return Err(format!(
                        "the cluster did not send the pods of {namespace} within {} seconds",
                        FIRST_LIST.as_secs()
                    ));
                }
                Ok(Err(_)) => continue,
                Ok(Ok(s)) if s.ended => continue,
                Ok(Ok(s)) if !s.ready => {
                    return Err(s.problem.clone().unwrap_or_default());
                }
                Ok(Ok(_)) => {}
            }
            watch.touch();
            return Ok(watch.window(filter, limit));
        }
        Err(format!(
            "the watch on the pods of {namespace} kept ending; try again"
        ))
    }

    /// The watch for this client and namespace, started if there is none, and followed
    /// until the returned [`Follower`] is dropped. With `fresh`, one that has never listed
    /// and is failing is replaced, so a render asks the cluster again rather than repeat an
    /// old refusal. Refused with a sentence when starting one would pass a cap.
    fn get(&self, cluster: &Cluster, namespace: &str, fresh: bool) -> Result<Follower, String> {
        let key = WatchKey {
            context: cluster.context.clone(),
            identity: cluster.identity.clone(),
            namespace: namespace.to_string(),
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Ended watches have given their places back.
        entries.retain(|_, w| !w.status.borrow().ended);
        if let Some(watch) = entries.get(&key) {
            let status = watch.status.borrow().clone();
            let failed = !status.ready && status.problem.is_some();
            if !(fresh && failed) {
                return Ok(watch.follow());
            }
            if let Some(old) = entries.remove(&key) {
                old.release();
            }
        }
        self.make_room(&mut entries, &key.identity)?;
        let place = Place::take(&self.places, &key.identity);
        let watch = PodWatch::start(cluster, namespace, place, &self.tasks);
        let follower = watch.follow();
        entries.insert(key, watch);
        Ok(follower)
    }

    /// Lets go of the least recently used watches that no page follows until `identity`
    /// may start another without passing a cap; refuses when all that count are followed.
    fn make_room(
        &self,
        entries: &mut HashMap<WatchKey, Arc<PodWatch>>,
        identity: &str,
    ) -> Result<(), String> {
        while self.held(Some(identity)) >= MAX_WATCHES_PER_PERSON {
            if !let_go_oldest_unfollowed(entries, |key| key.identity == identity) {
                return Err(format!(
                    "podterm already keeps {MAX_WATCHES_PER_PERSON} pod lists current for you, \
                     the most it keeps for one person: close other podterm pages, then reload \
                     this one."
                ));
            }
        }
        while self.held(None) >= MAX_WATCHES {
            if !let_go_oldest_unfollowed(entries, |_| true) {
                return Err(format!(
                    "podterm already keeps {MAX_WATCHES} pod lists current, the most it keeps \
                     at once: close other podterm pages, or reload this one in a minute."
                ));
            }
        }
        Ok(())
    }

    /// Places held by `identity`'s watches, or by everyone's.
    fn held(&self, identity: Option<&str>) -> usize {
        let held = self.places.lock().unwrap_or_else(|e| e.into_inner());
        match identity {
            Some(identity) => held.by_identity.get(identity).copied().unwrap_or_default(),
            None => held.total,
        }
    }

    /// How many watches are running now, each with its connection to the cluster.
    pub fn running(&self) -> usize {
        self.tasks.load(Ordering::Relaxed)
    }

    /// How many watches are kept (for tests).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Releases the least recently used watch that no page follows among those `pick` names;
/// false when there is none.
fn let_go_oldest_unfollowed(
    entries: &mut HashMap<WatchKey, Arc<PodWatch>>,
    pick: impl Fn(&WatchKey) -> bool,
) -> bool {
    let oldest = entries
        .iter()
        .filter(|(key, watch)| pick(key) && watch.uses().followers == 0)
        .min_by_key(|(_, watch)| watch.last_use())
        .map(|(key, _)| key.clone());
    match oldest.and_then(|key| entries.remove(&key)) {
        Some(watch) => {
            watch.release();
            true
        }
        None => false,
    }
}

impl PodWatch {
    fn start(
        cluster: &Cluster,
        namespace: &str,
        place: Place,
        tasks: &Arc<AtomicUsize>,
    ) -> Arc<Self> {
        let (tx, rx) = watch::channel(Status::default());
        let watch = Arc::new(Self {
            pods: RwLock::new(BTreeMap::new()),
            status: rx,
            last_used: Mutex::new(Instant::now()),
            uses: Mutex::new(Uses {
                followers: 0,
                released: false,
                place: Some(place),
            }),
            poke: Arc::new(Notify::new()),
        });
        let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
        let task = Task::start(tasks);
        tokio::spawn(run(
            Arc::downgrade(&watch),
            watch.poke.clone(),
            api,
            tx,
            task,
        ));
        watch
    }

    fn uses(&self) -> MutexGuard<'_, Uses> {
        self.uses.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn last_use(&self) -> Instant {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets the watch go: it ends, and gives its place back, once nobody follows it.
    fn release(&self) {
        let place = {
            let mut uses = self.uses();
            uses.released = true;
            if uses.followers == 0 {
                uses.place.take()
            } else {
                None
            }
        };
        drop(place);
        self.poke.notify_one();
    }

    fn unfollow(&self) {
        let place = {
            let mut uses = self.uses();
            uses.followers = uses.followers.saturating_sub(1);
            if uses.followers == 0 && uses.released {
                uses.place.take()
            } else {
                None
            }
        };
        drop(place);
        self.poke.notify_one();
    }

    /// Nobody follows it, and it was let go or has not been used for a while.
    fn unwanted(&self) -> bool {
        let uses = self.uses();
        uses.followers == 0 && (uses.released || self.last_use().elapsed() > IDLE)
    }

    /// The first `limit` pods (by name) that match `filter`, with the counts.
    fn window(&self, filter: &str, limit: usize) -> PodWindow {
        let needle = normalize_filter(filter);
        let now = Timestamp::now();
        let pods = self.pods.read().unwrap_or_else(|e| e.into_inner());
        let mut window = PodWindow {
            pods: Vec::with_capacity(limit.min(pods.len())),
            filter: trim_filter(filter),
            limit,
            matching: 0,
            total: pods.len(),
            problem: self.status.borrow().problem.clone(),
        };
        for kept in pods.values() {
            if kept.summary.matches_normalized(&needle) {
                window.matching += 1;
                if window.pods.len() < limit {
                    window.pods.push(kept.at(now));
                }
            }
        }
        window
    }

    /// Every pod, by name.
    fn all(&self) -> Vec<PodSummary> {
        let now = Timestamp::now();
        let pods = self.pods.read().unwrap_or_else(|e| e.into_inner());
        pods.values().map(|kept| kept.at(now)).collect()
    }

    fn follow(self: &Arc<Self>) -> Follower {
        self.uses().followers += 1;
        self.touch();
        Follower(self.clone())
    }
}

impl Kept {
    fn new(pod: &Pod) -> (String, Self) {
        let summary = summarize(pod);
        (
            summary.name.clone(),
            Self {
                summary,
                created: created(pod),
            },
        )
    }

    /// The summary, aged as of `now`.
    fn at(&self, now: Timestamp) -> PodSummary {
        let mut summary = self.summary.clone();
        if let Some(created) = self.created {
            summary.age = short_age(now.duration_since(created).as_secs());
        }
        summary
    }
}

/// A feed (or a waiting render) following a watch; the watch stays while it is held.
struct Follower(Arc<PodWatch>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.touch();
        self.0.unfollow();
    }
}

/// Keeps `watch`'s pods current until nobody wants them; `poke` says to check that.
async fn run(
    watch: std::sync::Weak<PodWatch>,
    poke: Arc<Notify>,
    api: Api<Pod>,
    status: watch::Sender<Status>,
    _task: Task,
) {
    let config = watcher::Config::default().timeout(WATCH_SECONDS);
    let mut events = watcher(api, config).default_backoff().boxed();
    // A full list (at the start, and after the cluster forgot our place) is gathered here
    // and replaces the pods at once when it is complete.
    let mut relist: Option<BTreeMap<String, Kept>> = None;
    let mut sweep = tokio::time::interval(SWEEP);
    loop {
        match watch.upgrade() {
            Some(w) if !w.unwanted() => {}
            _ => break,
        }
        tokio::select! {
            event = events.next() => {
                let Some(watch) = watch.upgrade() else { break };
                match event {
                    Some(Ok(watcher::Event::Init)) => relist = Some(BTreeMap::new()),
                    Some(Ok(watcher::Event::InitApply(pod))) => {
                        if let Some(list) = relist.as_mut() {
                            let (name, kept) = Kept::new(&pod);
                            list.insert(name, kept);
                        }
                    }
                    Some(Ok(watcher::Event::InitDone)) => {
                        let list = relist.take().unwrap_or_default();
                        *watch.pods.write().unwrap_or_else(|e| e.into_inner()) = list;
                        status.send_modify(|s| {
                            s.version += 1;
                            s.ready = true;
                            s.problem = None;
                        });
                    }
                    Some(Ok(watcher::Event::Apply(pod))) => {
                        let (name, kept) = Kept::new(&pod);
                        watch.pods.write().unwrap_or_else(|e| e.into_inner()).insert(name, kept);
                        status.send_modify(|s| {
                            s.version += 1;
                            s.problem = None;
                        });
                    }
                    Some(Ok(watcher::Event::Delete(pod))) => {
                        let name = pod.metadata.name.unwrap_or_default();
                        watch.pods.write().unwrap_or_else(|e| e.into_inner()).remove(&name);
                        status.send_modify(|s| {
                            s.version += 1;
                            s.problem = None;
                        });
                    }
                    // A 410 is routine: the watcher lists again.
                    Some(Err(watcher::Error::WatchError(gone))) if gone.code == 410 => {}
                    Some(Err(e)) => {
                        let (reason, message) = match e {
                            watcher::Error::InitialListFailed(e)
                            | watcher::Error::WatchStartFailed(e)
                            | watcher::Error::WatchFailed(e) => {
                                let failure = classify(&e);
                                (failure.reason, failure.message)
                            }
                            watcher::Error::WatchError(status) => {
                                let reason = if matches!(status.code, 401 | 403) {
                                    ErrorReason::Forbidden
                                } else {
                                    ErrorReason::Unreachable
                                };
                                (reason, status.message.clone())
                            }
                            other => (ErrorReason::Unreachable, other.to_string()),
                        };
                        // Once the cluster refuses, nothing it sent before is shown again.
                        let refused = reason == ErrorReason::Forbidden;
                        if refused {
                            watch.pods.write().unwrap_or_else(|e| e.into_inner()).clear();
                        }
                        status.send_if_modified(|s| {
                            let changed = s.problem.as_ref() != Some(&message) || (refused && s.ready);
                            s.problem = Some(message);
                            if refused && s.ready {
                                s.ready = false;
                                s.version += 1;
                            }
                            changed
                        });
                    }
                    None => break,
                }
            }
            _ = sweep.tick() => {}
            _ = poke.notified() => {}
        }
    }
    // The place first: a watch that has stopped never holds up another.
    let place = watch.upgrade().and_then(|w| w.uses().place.take());
    drop(place);
    status.send_modify(|s| s.ended = true);
    if let Some(watch) = watch.upgrade() {
        watch
            .pods
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    pub context: Option<String>,
    pub namespace: String,
    /// With `limit`: send windows of the pods matching this filter.
    pub filter: Option<String>,
    /// Send `window` events of at most this many pods instead of every pod.
    pub limit: Option<usize>,
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<FeedQuery>,
) -> Response {
    if let Err(e) = crate::names::validate_label(&query.namespace) {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            format!("namespace {:?}: {e}", query.namespace),
        )
            .into_response();
    }
    let cluster = match state
        .clusters
        .get(query.context.as_deref(), &caller.identity)
        .await
    {
        Ok(cluster) => cluster,
        Err(e) => return (axum::http::StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let follower = match state
        .clusters
        .watches
        .get(&cluster, &query.namespace, false)
    {
        Ok(follower) => follower,
        Err(refusal) => {
            return (axum::http::StatusCode::TOO_MANY_REQUESTS, refusal).into_response();
        }
    };
    let shape = match query.limit {
        Some(limit) => Shape::Window {
            filter: query.filter.unwrap_or_default(),
            limit: limit.min(WINDOW_MAX),
        },
        None => Shape::Every,
    };
    // The feed ends at shutdown, which would otherwise wait for it forever.
    let stopping = state.sessions.stopping().cancelled_owned();
    Sse::new(feed(follower, shape).take_until(stopping))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What a feed sends.
enum Shape {
    /// `pods` events: every pod of the namespace, by name.
    Every,
    /// `window` events: a [`PodWindow`]; `counts` events when only its counts changed.
    Window { filter: String, limit: usize },
}

/// What a feed sent last, so that it sends only what changed.
#[derive(Default)]
struct Sent {
    /// The pods of the last `pods` or `window` event, as sent.
    pods: Option<String>,
    counts: PodCounts,
}

impl Shape {
    /// The event that brings a page that has seen `sent` up to date, if it is not.
    fn update(&self, watch: &PodWatch, sent: &mut Sent) -> Option<Event> {
        match self {
            Shape::Every => {
                let json = serde_json::to_string(&watch.all()).ok()?;
                if sent.pods.as_ref() == Some(&json) {
                    return None;
                }
                let event = Event::default().event("pods").data(&json);
                sent.pods = Some(json);
                Some(event)
            }
            Shape::Window { filter, limit } => {
                let window = watch.window(filter, *limit);
                let counts = PodCounts {
                    matching: window.matching,
                    total: window.total,
                };
                let pods = serde_json::to_string(&window.pods).ok()?;
                if sent.pods.as_ref() == Some(&pods) {
                    // A change outside the window: a few bytes rather than the window.
                    if sent.counts == counts {
                        return None;
                    }
                    sent.counts = counts;
                    let json = serde_json::to_string(&counts).ok()?;
                    return Some(Event::default().event("counts").data(json));
                }
                let json = serde_json::to_string(&window).ok()?;
                (sent.pods, sent.counts) = (Some(pods), counts);
                Some(Event::default().event("window").data(json))
            }
        }
    }
}

/// Sends the pods when they (or their ages) change, and `problem` events saying why the
/// feed is not live right now (the watch retries by itself).
fn feed(follower: Follower, shape: Shape) -> impl Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = mpsc::channel::<Event>(4);
    tokio::spawn(async move {
        let mut changes = follower.0.status.clone();
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.reset();
        let (mut sent, mut last_problem) = (Sent::default(), None::<String>);
        loop {
            let status = changes.borrow_and_update().clone();
            if status.ended {
                let _ = tx
                    .send(
                        Event::default()
                            .event("problem")
                            .data("podterm stopped watching these pods; reload the page"),
                    )
                    .await;
                return;
            }
            if status.problem != last_problem {
                last_problem = status.problem.clone();
                // When the problem goes away, the next update says so even if the pods
                // did not change.
                sent = Sent::default();
                if let Some(problem) = &status.problem
                    && tx
                        .send(Event::default().event("problem").data(problem))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            if status.ready
                && let Some(event) = shape.update(&follower.0, &mut sent)
                && tx.send(event).await.is_err()
            {
                return;
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() { return; }
                    tokio::time::sleep(COALESCE).await;
                }
                _ = refresh.tick() => {}
                _ = tx.closed() => return,
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    })
}
