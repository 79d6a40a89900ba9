//! The early start, server side. A terminal's own page gets its session started while the
//! server renders it (`prestart`): the shell's start-up overlaps the page's. The page's
//! inline script (`public/js/early-socket.js`) opens the socket with `start=ID`
//! (`protocol::Join::Claim`) before the wasm loads, and the exec route hands it the
//! session (`claim`). The page side is `app::early_start`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use crate::model::Target;
use crate::server::AppState;
use crate::server::cluster::kube_errors::Failure;
use crate::server::relay::exec::{self, ExecTarget};
use crate::server::relay::session::Session;
use crate::server::web::logins::random_hex;

/// How a session started ahead of its page's socket turned out (it is in the map when it
/// started); `None` while it starts.
pub type Prestarted = Option<Result<(), Failure>>;

/// A session being started for a page (`prestart`): only the same person at the same
/// target may claim it.
struct Expected {
    owner: String,
    target: Target,
    ready: watch::Receiver<Prestarted>,
}

/// The sessions started for pages, by id, until claimed or given up.
#[derive(Default)]
pub struct Prestarts(Mutex<HashMap<String, Expected>>);

impl Prestarts {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Expected>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers session `id`, about to be started for a page that will claim it; the
    /// starter reports how the start went through the returned sender.
    pub fn expect(&self, id: &str, owner: &str, target: Target) -> watch::Sender<Prestarted> {
        let (report, ready) = watch::channel(None);
        let owner = owner.to_string();
        self.lock().insert(
            id.to_string(),
            Expected {
                owner,
                target,
                ready,
            },
        );
        report
    }

    /// The page's socket takes the session started for it, once its start is done: `Ok`
    /// when it started (detached: attach with `resume`), or why it could not. `None` when
    /// no such start is waiting for this person at this target (already claimed, given up,
    /// or never made): the caller starts a session as usual.
    pub async fn claim(&self, id: &str, owner: &str, target: &Target) -> Prestarted {
        let mut ready = {
            let mut expected = self.lock();
            match expected.get(id) {
                Some(e) if e.owner == owner && e.target == *target => expected.remove(id)?.ready,
                _ => return None,
            }
        };
        ready.wait_for(Option::is_some).await.ok()?.clone()
    }

    /// Forgets a start nobody claimed (its session, detached from the beginning, ends when
    /// the grace period passes).
    pub fn unclaimed(&self, id: &str) {
        if self.lock().remove(id).is_some() {
            tracing::debug!(session = %id, "no page claimed the session started for it");
        }
    }
}

/// The session started for this page's socket, attached to it: the session, the offset
/// its output starts at and the connection's generation; or why it could not start.
/// `None` when nothing waits under `id` for this person here: the caller starts one.
pub(super) async fn claim(
    state: &AppState,
    id: &str,
    owner: &str,
    target: &Target,
) -> Option<Result<(Arc<Session>, u64, u64), Failure>> {
    Some(
        match state.sessions.prestarts().claim(id, owner, target).await? {
            Ok(()) => state.sessions.resume(id, owner, target, false, 0),
            Err(failure) => Err(failure),
        },
    )
}

/// Starts the terminal's session while its page loads, so the shell is up by the time the
/// page's socket arrives and claims it (`start=ID`). Only for a page the person opened
/// themselves (a top-level navigation, typed in or from podterm, per the Fetch Metadata
/// headers): a link or a prefetch from another site does not start shells. Called by the
/// server render; returns the session's id.
pub fn prestart(target: &Target) -> Option<String> {
    // The render may build the page's terminal more than once: one start per page.
    let slot = leptos::prelude::use_context::<PrestartSlot>()?;
    slot.0.get_or_init(|| start_for_page(target)).clone()
}

/// The session a page's render started, if any (one per page render).
#[derive(Clone, Default)]
pub struct PrestartSlot(Arc<std::sync::OnceLock<Option<String>>>);

fn start_for_page(target: &Target) -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    if !opened_by_person(&parts.headers) {
        return None;
    }
    let state = crate::server::state().ok()?;
    let caller = crate::server::caller().ok()?;
    if state.sessions.stopping().is_cancelled() {
        return None;
    }
    let query = target.context.as_deref().map(|c| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("context", c)
            .finish()
    });
    let target = ExecTarget::parse(
        target.namespace.clone(),
        target.pod.clone(),
        target.container.clone(),
        query.as_deref(),
        false,
    )
    .ok()?;
    let context = target.context_or_current(&state);
    let id = random_hex(8);
    let owner = caller.identity.cache_key();
    let report = state
        .sessions
        .prestarts()
        .expect(&id, &owner, target.resolved(&context));
    let claimed_id = id.clone();
    tokio::spawn(async move {
        let outcome = exec::start(&state, &caller, &target, id.clone(), context)
            .await
            // Detached until the page's socket attaches: the grace period runs from now.
            .map(|session| session.detach(1));
        let _ = report.send(Some(outcome));
        tokio::time::sleep(state.sessions.settings().grace).await;
        state.sessions.prestarts().unclaimed(&id);
    });
    Some(claimed_id)
}

/// A top-level navigation the person made: typed, bookmarked or from a podterm page.
fn opened_by_person(headers: &axum::http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("sec-fetch-mode") == Some("navigate")
        && header("sec-fetch-dest") == Some("document")
        && matches!(header("sec-fetch-site"), Some("same-origin" | "none"))
        && header("sec-purpose").is_none()
        && header("purpose").is_none()
}
