//! The exec WebSocket: starts a session (limits, access, the pod's state, then the exec
//! itself as the person), takes the one started while its page rendered (`prestart`), or
//! re-attaches to one, and hands the connection to `connection`.

use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, RawQuery, State};
use axum::response::Response;
use k8s_openapi::api::core::v1::Pod;
use kube::api::AttachParams;

use crate::model::Target;
use crate::protocol::{ErrorReason, Join, MAX_CONTROL_MESSAGE, MAX_INPUT_MESSAGE, ServerEvent};
use crate::server::AppState;
use crate::server::cluster::access::{may_attach, may_exec};
use crate::server::cluster::kube_errors::{Failure, classify};
use crate::server::cluster::pods::{recent_pod, summarize};
use crate::server::relay::reaper;
use crate::server::relay::session::{Lifetime, Start};
use crate::server::relay::shell::{default_command, shell_command};
use crate::server::relay::upstream::Upstream;
use crate::server::relay::{connection, prestart};
use crate::server::trail::admission::SessionInfo;
use crate::server::trail::audit::SessionFacts;
use crate::server::trail::recording::Recorder;
use crate::server::web::identity::Caller;
use crate::server::web::logins::random_hex;

/// What is read from a page at a time: keystrokes and acknowledgements, a few bytes each
/// (a paste takes more reads). tungstenite zero-fills this much before every read, and
/// keeps it per session: its default of 128 KiB would be resident, and zero-filling 8 KiB
/// windows (both sides) was 5 % of podterm's CPU with a hundred people typing.
const PAGE_READ_BUFFER: usize = 2 * 1024;

/// What a browser asked to run, and where.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    pub target: Target,
    /// Empty for an attach.
    pub command: Vec<String>,
    /// A new session, a resume, or the claim of one started while the page loaded.
    pub join: Join,
    /// The container's main process (`kubectl attach`) rather than a new one.
    pub attach: bool,
    /// Its processes carry the session's mark, so they can be ended with it: only podterm's
    /// own shell does (the mark needs /bin/sh); a custom argv runs as it is, and an
    /// attach's main process is never the session's to end.
    pub marked: bool,
}

impl ExecTarget {
    /// Checks names as the API server would, before any call is made.
    pub fn parse(
        namespace: String,
        pod: String,
        container: String,
        query: Option<&str>,
        attach: bool,
    ) -> Result<Self, String> {
        crate::names::validate_place(&namespace, &pod, &container)?;
        let mut context = None;
        let mut command = Vec::new();
        let (mut resume, mut offset, mut prestarted, mut shell) = (None, None, None, None);
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "context" => context = Some(value.into_owned()).filter(|c| !c.is_empty()),
                "command" => command.push(value.into_owned()),
                "resume" => resume = Some(value.into_owned()),
                "start" => prestarted = Some(value.into_owned()),
                "shell" => shell = Some(value.into_owned()),
                "offset" => {
                    offset = Some(
                        value
                            .parse::<u64>()
                            .map_err(|_| format!("offset {value:?} is not a byte offset"))?,
                    )
                }
                _ => {}
            }
        }
        if command.iter().any(|arg| arg.contains('\0')) {
            return Err("a command argument contains a NUL byte".into());
        }
        let resume = match (resume, offset) {
            (Some(id), Some(offset)) if !id.is_empty() && command.is_empty() => Some((id, offset)),
            (None, None) => None,
            _ => return Err("a resume needs a session and an offset, and no command".into()),
        };
        if prestarted
            .as_ref()
            .is_some_and(|id| id.is_empty() || resume.is_some() || !command.is_empty())
        {
            return Err("a start needs a session, and no resume or command".into());
        }
        let join = match (resume, prestarted) {
            (Some((session, offset)), _) => Join::Resume { session, offset },
            (None, Some(session)) => Join::Claim { session },
            (None, None) => Join::Start,
        };
        if attach && !command.is_empty() {
            return Err(
                "an attach reaches the container's main process; it takes no command".into(),
            );
        }
        if attach && matches!(join, Join::Claim { .. }) {
            return Err("only a shell starts with its page".into());
        }
        if shell.is_some() && (attach || !command.is_empty() || !matches!(join, Join::Start)) {
            return Err("a shell is chosen only for a new session, without a command".into());
        }
        let marked = !attach && command.is_empty();
        if marked {
            command = match &shell {
                Some(shell) => shell_command(shell).ok_or_else(|| {
                    format!("shell {shell:?} is not one podterm starts; choose bash or sh")
                })?,
                None => default_command(),
            };
        }
        Ok(Self {
            target: Target {
                context,
                namespace,
                pod,
                container,
            },
            command,
            join,
            attach,
            marked,
        })
    }

    /// The context asked for, else the current one.
    pub(super) fn context_or_current(&self, state: &AppState) -> String {
        self.target
            .context
            .clone()
            .or_else(|| state.clusters.current())
            .unwrap_or_default()
    }

    /// The target with its context named.
    pub(super) fn resolved(&self, context: &str) -> Target {
        Target {
            context: Some(context.to_string()),
            ..self.target.clone()
        }
    }
}

/// `/ws/exec/NS/POD/CONTAINER` (`ATTACH` false): a new process in the container;
/// `/ws/attach/NS/POD/CONTAINER`: the container's main process.
pub async fn handler<const ATTACH: bool>(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let target = ExecTarget::parse(namespace, pod, container, query.as_deref(), ATTACH);
    upgrade
        .read_buffer_size(PAGE_READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(MAX_INPUT_MESSAGE.max(MAX_CONTROL_MESSAGE))
        .on_upgrade(move |socket| session(state, caller, target, socket))
}

async fn session(
    state: AppState,
    caller: Caller,
    target: Result<ExecTarget, String>,
    browser: WebSocket,
) {
    let target = match target {
        Ok(target) => target,
        Err(message) => {
            state.metrics.error(ErrorReason::BadRequest);
            return fail(browser, Failure::new(ErrorReason::BadRequest, message)).await;
        }
    };
    let owner = caller.identity.cache_key();
    let context = target.context_or_current(&state);
    match &target.join {
        Join::Resume { session, offset } => {
            let resumed = match resume_allowed(&state, &caller, &target).await {
                Ok(()) => state.sessions.resume(
                    session,
                    &owner,
                    &target.resolved(&context),
                    target.attach,
                    *offset,
                ),
                Err(failure) => Err(failure),
            };
            return match resumed {
                Ok((resumed, offset, generation)) => {
                    state.metrics.resumed.inc();
                    let left = connection::serve(resumed, browser, offset, true, generation).await;
                    tracing::debug!(session = %session, ?left, "connection ended");
                }
                Err(failure) => {
                    state.metrics.error(failure.reason);
                    fail(browser, failure).await
                }
            };
        }
        Join::Claim { session } => {
            let resolved = target.resolved(&context);
            match prestart::claim(&state, session, &owner, &resolved).await {
                Some(Ok((claimed, offset, generation))) => {
                    let left = connection::serve(claimed, browser, offset, false, generation).await;
                    tracing::debug!(session = %session, ?left, "connection ended");
                    return;
                }
                Some(Err(failure)) => return fail(browser, failure).await,
                // Nothing waits under that id (given up, or podterm restarted): a new one.
                None => {}
            }
        }
        Join::Start => {}
    }
    let id = random_hex(8);
    match start(&state, &caller, &target, id, context).await {
        Ok(session) => {
            let left = connection::serve(Arc::clone(&session), browser, 0, false, 1).await;
            tracing::debug!(session = %session.id, ?left, "connection ended");
        }
        Err(failure) => fail(browser, failure).await,
    }
}

/// Starts a session: limits first (a refused session must not have started anything in the
/// pod), then access, the pod and the exec as the person.
pub(super) async fn start(
    state: &AppState,
    caller: &Caller,
    target: &ExecTarget,
    id: String,
    context: String,
) -> Result<Arc<crate::server::relay::session::Session>, Failure> {
    if state.sessions.stopping().is_cancelled() {
        return Err(Failure::new(ErrorReason::Ended, "podterm is shutting down"));
    }
    // Shutdown waits for a session being set up, and then ends it like the others.
    let setting_up = state.sessions.setting_up();
    let mut facts = SessionFacts {
        id: id.clone(),
        user: caller.identity.name().to_string(),
        groups: caller.identity.groups().to_vec(),
        from: caller.from.clone(),
        target: target.resolved(&context),
        command: target.command.clone(),
        attach: target.attach,
        start: jiff::Timestamp::now().to_string(),
    };
    let ticket = match state.admissions.admit(SessionInfo {
        id: id.clone(),
        user: facts.user.clone(),
        from: facts.from.clone(),
        target: facts.target.clone(),
        start: facts.start.clone(),
    }) {
        Ok(ticket) => ticket,
        Err(why) => {
            state.metrics.error(ErrorReason::TooMany);
            return Err(Failure::new(ErrorReason::TooMany, why));
        }
    };
    let cleanup = state.sessions.settings().cleanup && target.marked;
    let command = if cleanup {
        reaper::mark(&id, &target.command)
    } else {
        target.command.clone()
    };
    let setup = std::time::Instant::now();
    let command = (!target.attach).then_some(command);
    let (upstream, client) = match open(state, caller, &target.target, command).await {
        Ok((upstream, context, client)) => {
            facts.target.context = Some(context);
            state
                .metrics
                .setup_seconds
                .observe(setup.elapsed().as_secs_f64());
            state.metrics.started.inc();
            (upstream, client)
        }
        Err(failure) => {
            state.metrics.error(failure.reason);
            tracing::info!(user = caller.identity.name(), pod = %target.target.pod, namespace = %target.target.namespace, "exec not started: {failure}");
            return Err(failure);
        }
    };
    let recorder = state.recordings.as_ref().and_then(|r| {
        let title = format!(
            "{} in {}/{}/{}",
            facts.user, facts.target.namespace, facts.target.pod, facts.target.container
        );
        Recorder::create(&r.dir, &id, &title, r.with_input)
            .map_err(|e| tracing::warn!("cannot record session {id}: {e}"))
            .ok()
    });
    let session = state.sessions.start(Start {
        id,
        owner: caller.identity.cache_key(),
        target: facts.target.clone(),
        upstream,
        attach: target.attach,
        lifetime: Lifetime {
            ticket,
            facts,
            audit: state.audit.clone(),
            recorder: recorder.map(|r| Arc::new(Mutex::new(r))),
            client,
            max_duration: state.admissions.max_duration(),
            cleanup,
        },
    });
    drop(setting_up);
    Ok(session)
}

/// A person whose access was revoked does not get back into their session.
async fn resume_allowed(
    state: &AppState,
    caller: &Caller,
    exec: &ExecTarget,
) -> Result<(), Failure> {
    let target = &exec.target;
    let cluster = state
        .clusters
        .get(target.context.as_deref(), &caller.identity)
        .await
        .map_err(Failure::from)?;
    if exec.attach {
        may_attach(&cluster, &target.namespace, Some(&target.pod)).await
    } else {
        may_exec(&cluster, &target.namespace, Some(&target.pod)).await
    }
}

async fn fail(mut browser: WebSocket, failure: Failure) {
    let event = ServerEvent::Error {
        reason: failure.reason,
        message: failure.message,
    };
    let _ = browser.send(Message::Text(event.to_json().into())).await;
    connection::close(&mut browser).await;
}

/// Checks access and the pod and container first (for a clear "not allowed" or "not
/// running"), then opens the exec of `command` or, without one, the attach, as the caller.
/// Returns the stream and the context used.
async fn open(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    command: Option<Vec<String>>,
) -> Result<(Upstream, String, kube::Client), Failure> {
    let cluster = state
        .clusters
        .get(target.context.as_deref(), &caller.identity)
        .await
        .map_err(Failure::from)?;
    let (namespace, pod) = (&target.namespace, Some(target.pod.as_str()));
    // Both as the person, so asked at once; a denial is said before what the pod is.
    let allowed = async {
        match command {
            Some(_) => may_exec(&cluster, namespace, pod).await,
            None => may_attach(&cluster, namespace, pod).await,
        }
    };
    let (allowed, found) = tokio::join!(allowed, running_container(&cluster, target));
    allowed?;
    let found = found?;
    // The path written out in each call: tests/deploy_manifests.rs reads it there.
    let request = match command {
        Some(command) => kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/pods"))
            .exec(
                &target.pod,
                command,
                &AttachParams::interactive_tty().container(&target.container),
            ),
        None => kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/pods"))
            .attach(&target.pod, &attach_params(&found, &target.container)),
    }
    .map_err(|e| Failure::new(ErrorReason::BadRequest, e.to_string()))?;
    let stream = crate::server::cluster::exec_stream::connect(&cluster.client, request)
        .await
        .map_err(|e| classify(&e))?;
    Ok((stream, cluster.context.clone(), cluster.client.clone()))
}

/// An attach's streams: the container's own stdin and terminal, as its spec gives them.
fn attach_params(pod: &Pod, container: &str) -> AttachParams {
    let spec = pod.spec.clone().unwrap_or_default();
    let (stdin, tty) = spec
        .containers
        .iter()
        .map(|c| (&c.name, c.stdin, c.tty))
        .chain(
            spec.ephemeral_containers
                .iter()
                .flatten()
                .map(|c| (&c.name, c.stdin, c.tty)),
        )
        .find(|(name, ..)| *name == container)
        .map(|(_, stdin, tty)| (stdin.unwrap_or(false), tty.unwrap_or(false)))
        .unwrap_or_default();
    AttachParams::default()
        .container(container)
        .stdin(stdin)
        .stdout(true)
        .stderr(!tty)
        .tty(tty)
}

/// The pod, once its container is known to run; else why not, in words.
async fn running_container(
    cluster: &crate::server::cluster::clusters::Cluster,
    target: &Target,
) -> Result<Arc<Pod>, Failure> {
    let pod = recent_pod(cluster, &target.namespace, &target.pod).await?;
    let summary = summarize(&pod);
    let container = summary.container(&target.container).ok_or_else(|| {
        let names: Vec<&str> = summary.containers.iter().map(|c| c.name.as_str()).collect();
        Failure::new(
            ErrorReason::NotFound,
            format!(
                "pod {} has no container {:?} (it has: {})",
                target.pod,
                target.container,
                names.join(", ")
            ),
        )
    })?;
    if let Some(why) = &container.not_connectable {
        return Err(Failure::new(
            ErrorReason::NotRunning,
            format!("cannot open a shell in {}: {why}", target.container),
        ));
    }
    Ok(pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str, attach: bool) -> Result<ExecTarget, String> {
        ExecTarget::parse("ns".into(), "p".into(), "c".into(), Some(query), attach)
    }

    #[test]
    fn a_chosen_shell_is_marked_and_a_command_runs_as_given() {
        let bash = parse("shell=bash", false).unwrap();
        assert!(bash.marked);
        assert_eq!(bash.command, shell_command("bash").unwrap());
        let argv = parse("command=echo&command=a%20%20b", false).unwrap();
        assert!(!argv.marked);
        assert_eq!(argv.command, ["echo", "a  b"]);
        assert!(
            parse("shell=zsh", false)
                .unwrap_err()
                .contains("bash or sh")
        );
        for refused in [
            "shell=sh&command=ls",
            "shell=sh&resume=x&offset=0",
            "shell=sh&start=x",
        ] {
            assert!(parse(refused, false).is_err(), "{refused}");
        }
        assert!(parse("shell=sh", true).is_err());
    }
}
