//! The live sessions, by id: starting one, finding one to resume, and ending them all at
//! shutdown. Each session runs as its own task (`session`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::model::Target;
use crate::protocol::ErrorReason;
use crate::server::cluster::kube_errors::Failure;
use crate::server::relay::prestart::Prestarts;
use crate::server::relay::session::{self, Session, Start};
use crate::server::relay::upstream::ToPod;
use crate::server::web::metrics::Metrics;

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

pub struct Sessions {
    settings: Settings,
    pub(super) metrics: Arc<Metrics>,
    map: Mutex<HashMap<String, Arc<Session>>>,
    /// Sessions started for pages still loading, until the page's socket claims them.
    prestarts: Prestarts,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl Sessions {
    pub fn new(settings: Settings, metrics: Arc<Metrics>) -> Self {
        Self {
            settings,
            metrics,
            map: Mutex::new(HashMap::new()),
            prestarts: Prestarts::default(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Session>>> {
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
        self.map().values().map(|s| s.buffered()).sum()
    }

    /// Starts a session around an open exec stream; it begins attached (generation 1).
    pub fn start(self: &Arc<Self>, start: Start) -> Arc<Session> {
        let Start {
            id,
            owner,
            target,
            upstream,
            attach,
            lifetime,
        } = start;
        let (sink, up_rx) = upstream.split();
        let to_pod = ToPod::new(sink, lifetime.recorder.clone(), self.metrics.clone());
        let trail = (lifetime.audit.clone(), lifetime.facts.clone());
        let session = Arc::new(Session::new(id, owner, target, attach, to_pod, trail));
        // Written before anything the page says about the session can be.
        lifetime.audit.started(&lifetime.facts);
        self.map().insert(session.id.clone(), session.clone());
        let sessions = self.clone();
        let running = session.clone();
        self.tasks
            .spawn(async move { session::run(sessions, running, up_rx, lifetime).await });
        session
    }

    /// The session is over and its page has had its last word (or never came).
    pub(super) fn remove(&self, id: &str) {
        self.map().remove(id);
    }

    /// Sessions started for pages still loading.
    pub fn prestarts(&self) -> &Prestarts {
        &self.prestarts
    }

    /// Whether `id` is a live shell session of `owner`'s at `target` (not an attach).
    pub fn belongs(&self, id: &str, owner: &str, target: &Target) -> bool {
        self.map()
            .get(id)
            .is_some_and(|s| s.belongs_to(owner, target, false))
    }

    /// Re-attaches a connection to a session of the same person at the same target. The
    /// connection attached before (if any) is told and let go.
    pub fn resume(
        &self,
        id: &str,
        owner: &str,
        target: &Target,
        attach: bool,
        offset: u64,
    ) -> Result<(Arc<Session>, u64, u64), Failure> {
        let gone = || {
            Failure::new(
                ErrorReason::Ended,
                "this session has ended (it was away longer than podterm waits, or it finished)",
            )
        };
        let session = self.map().get(id).cloned().ok_or_else(gone)?;
        if !session.belongs_to(owner, target, attach) {
            return Err(gone());
        }
        // Checked before taking over, so a bad request leaves the attached page alone.
        let offset = session
            .start_offset(offset)
            .map_err(|why| Failure::new(ErrorReason::BadRequest, why))?;
        let generation = session.take_over();
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
}
