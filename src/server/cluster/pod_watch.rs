//! One watch: a namespace's pods as one identity may see them, kept current by a task
//! with the caller's own client, and who follows it. The registry and its caps are `watch`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockWriteGuard};
use std::time::Instant;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::{Notify, watch};

use crate::model::{PodSummary, PodWindow, normalize_filter, short_age, trim_filter};
use crate::protocol::ErrorReason;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::classify;
use crate::server::cluster::pods::{created, summarize};
use crate::server::cluster::watch::{IDLE, Place, SWEEP, WATCH_SECONDS};

/// One namespace's pods as one identity may see them, kept by a watch.
pub struct PodWatch {
    pods: RwLock<BTreeMap<String, Kept>>,
    pub(super) status: watch::Receiver<Status>,
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
pub(super) struct Status {
    /// Bumped on every change to the pods.
    version: u64,
    /// The first list has arrived (and the cluster has not refused since).
    pub(super) ready: bool,
    /// Why the watch is failing right now, if it is.
    pub(super) problem: Option<String>,
    /// The watch has ended; a new one must be started.
    pub(super) ended: bool,
}

impl PodWatch {
    pub(super) fn start(
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

    /// Open feeds and waiting renders.
    pub(super) fn followers(&self) -> usize {
        self.uses().followers
    }

    pub(super) fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    pub(super) fn last_use(&self) -> Instant {
        *self.last_used.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets the watch go: it ends, and gives its place back, once nobody follows it.
    pub(super) fn release(&self) {
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
    pub(super) fn window(&self, filter: &str, limit: usize) -> PodWindow {
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
    pub(super) fn all(&self) -> Vec<PodSummary> {
        let now = Timestamp::now();
        let pods = self.pods.read().unwrap_or_else(|e| e.into_inner());
        pods.values().map(|kept| kept.at(now)).collect()
    }

    pub(super) fn follow(self: &Arc<Self>) -> Follower {
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
pub(super) struct Follower(pub(super) Arc<PodWatch>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.touch();
        self.0.unfollow();
    }
}

/// Counts a watch task while it runs.
pub(super) struct Task(Arc<AtomicUsize>);

impl Task {
    pub(super) fn start(tasks: &Arc<AtomicUsize>) -> Self {
        tasks.fetch_add(1, Ordering::Relaxed);
        Self(tasks.clone())
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
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
                let (Some(watch), Some(event)) = (watch.upgrade(), event) else { break };
                watch.apply(event, &mut relist, &status);
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
        watch.pods_mut().clear();
    }
}

impl PodWatch {
    fn pods_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Kept>> {
        self.pods.write().unwrap_or_else(|e| e.into_inner())
    }

    /// One event of the cluster's watch: the pods and the status follow it.
    fn apply(
        &self,
        event: Result<watcher::Event<Pod>, watcher::Error>,
        relist: &mut Option<BTreeMap<String, Kept>>,
        status: &watch::Sender<Status>,
    ) {
        let changed = |s: &mut Status| {
            s.version += 1;
            s.problem = None;
        };
        match event {
            Ok(watcher::Event::Init) => *relist = Some(BTreeMap::new()),
            Ok(watcher::Event::InitApply(pod)) => {
                if let Some(list) = relist.as_mut() {
                    let (name, kept) = Kept::new(&pod);
                    list.insert(name, kept);
                }
            }
            Ok(watcher::Event::InitDone) => {
                *self.pods_mut() = relist.take().unwrap_or_default();
                status.send_modify(|s| {
                    changed(s);
                    s.ready = true;
                });
            }
            Ok(watcher::Event::Apply(pod)) => {
                let (name, kept) = Kept::new(&pod);
                self.pods_mut().insert(name, kept);
                status.send_modify(changed);
            }
            Ok(watcher::Event::Delete(pod)) => {
                let name = pod.metadata.name.unwrap_or_default();
                self.pods_mut().remove(&name);
                status.send_modify(changed);
            }
            // A 410 is routine: the watcher lists again.
            Err(watcher::Error::WatchError(gone)) if gone.code == 410 => {}
            Err(e) => self.failing(e, status),
        }
    }

    /// The watch fails (it retries by itself); once the cluster refuses, nothing it sent
    /// before is shown again.
    fn failing(&self, error: watcher::Error, status: &watch::Sender<Status>) {
        let (reason, message) = problem(error);
        let refused = reason == ErrorReason::Forbidden;
        if refused {
            self.pods_mut().clear();
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
}

/// Why a watch fails, in words.
fn problem(error: watcher::Error) -> (ErrorReason, String) {
    match error {
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
    }
}
