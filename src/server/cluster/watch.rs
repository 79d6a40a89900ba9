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
//!
//! One watch and its task are `pod_watch`; the live feed is `pod_feed`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::model::PodWindow;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::pod_watch::{Follower, PodWatch};
use crate::server::tally::Tally;

/// Changes within this window are sent as one update.
pub(super) const COALESCE: Duration = Duration::from_millis(200);
/// Ages move on even when nothing changes.
pub(super) const REFRESH: Duration = Duration::from_secs(30);
/// How long a watch nobody follows is kept for the next render.
pub(super) const IDLE: Duration = Duration::from_secs(60);
/// How often an idle watch checks whether to end.
pub(super) const SWEEP: Duration = Duration::from_secs(10);
/// Watches one identity may have running at once, over every cluster context.
pub const MAX_WATCHES_PER_PERSON: usize = 8;
/// Watches running at once in podterm, everyone's together.
pub const MAX_WATCHES: usize = 64;
/// Each watch call ends after this long and is made again (from where it was: no new
/// list), so the cluster checks again that the person may still watch these pods: a
/// revoked person's kept list is emptied within about this long.
pub(super) const WATCH_SECONDS: u32 = 10;
/// How long a render waits for a namespace's first list.
const FIRST_LIST: Duration = Duration::from_secs(20);

/// The pod lists podterm keeps, by cluster context, identity and namespace.
#[derive(Default)]
pub struct PodWatches {
    entries: Mutex<HashMap<WatchKey, Arc<PodWatch>>>,
    /// The places under the caps that running watches hold, by identity.
    places: Arc<Mutex<Tally<String>>>,
    /// Watch tasks running now.
    tasks: Arc<AtomicUsize>,
}

/// A running watch's place under the caps, given back when dropped. Places are only taken
/// with the registry locked, so counting and taking cannot race.
pub(super) struct Place {
    places: Arc<Mutex<Tally<String>>>,
    identity: String,
}

impl Place {
    fn take(places: &Arc<Mutex<Tally<String>>>, identity: &str) -> Self {
        lock(places).add(Some(identity.to_string()));
        Self {
            places: places.clone(),
            identity: identity.to_string(),
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        lock(&self.places).remove(Some(&self.identity));
    }
}

fn lock(places: &Mutex<Tally<String>>) -> MutexGuard<'_, Tally<String>> {
    places.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WatchKey {
    context: String,
    identity: String,
    namespace: String,
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
    pub(super) fn get(
        &self,
        cluster: &Cluster,
        namespace: &str,
        fresh: bool,
    ) -> Result<Follower, String> {
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
        let held = lock(&self.places);
        match identity {
            Some(identity) => held.of(identity),
            None => held.total(),
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
        .filter(|(key, watch)| pick(key) && watch.followers() == 0)
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
