//! Where a terminal cannot start (no shell in the image, a container that is not running
//! or keeps crashing): the container's state, its last end, the last lines of its log, and
//! the ways in the person may take, each disabled with its reason when refused.

use leptos::prelude::*;

use super::debug::DebugAction;
use super::{Way, opener};
use crate::app::Terminal;
use crate::app::api::container_insight;
use crate::app::later::Unloaded;
use crate::app::terminal::SessionState;
use crate::model::{ContainerInsight, LastEnd};
use crate::protocol::{ErrorReason, encode};

/// What the runtime says when the command is not in the image.
const NO_EXECUTABLE: &str = "executable file not found";

/// Whether a terminal's failure is one the guide helps with: no shell in the image, or a
/// container that is not running.
pub fn shows_guide(state: &SessionState) -> bool {
    match state {
        SessionState::Failed {
            reason: ErrorReason::NotRunning,
            ..
        } => true,
        SessionState::Failed {
            reason: ErrorReason::NotFound,
            message,
        } => message.contains(NO_EXECUTABLE),
        _ => false,
    }
}

/// The guide, from the terminal's later part of the wasm (`crate::app::later`).
pub fn later_guide(
    terminal: Terminal,
    state: RwSignal<SessionState>,
    retry: Callback<()>,
) -> AnyView {
    crate::app::later::show(move || guide_view(terminal.clone(), state, retry))
}

#[leptos::wasm_split::wasm_split(terminal_later, wasm_split_path = ::leptos::wasm_split, fallible)]
fn guide_view(
    terminal: Terminal,
    state: RwSignal<SessionState>,
    retry: Callback<()>,
) -> Result<AnyView, Unloaded> {
    Ok(view! { <Guide terminal state retry/> }.into_any())
}

/// The panel, for `terminal`, whose session failed as `state` says; `retry` starts it again.
#[component]
fn Guide(terminal: Terminal, state: RwSignal<SessionState>, retry: Callback<()>) -> impl IntoView {
    let target = terminal.target.clone();
    let no_shell = state.with_untracked(
        |s| matches!(s, SessionState::Failed { message, .. } if message.contains(NO_EXECUTABLE)),
    );
    let headline = match (
        no_shell,
        terminal.command.is_empty() && terminal.shell.is_none(),
    ) {
        (true, true) => format!("{} has no shell", target.container),
        (true, false) => format!("{} has no such program", target.container),
        (false, _) => format!("{} is not running", target.container),
    };
    // The runtime's words where they say more than the headline: which program was
    // missing. "Not running" is the headline's, and the state below says why.
    let said = state.with_untracked(|s| match s {
        SessionState::Failed { message, .. } if no_shell => Some(message.clone()),
        _ => None,
    });
    let insight = {
        let target = target.clone();
        LocalResource::new(move || {
            let t = target.clone();
            async move {
                container_insight(t.context, t.namespace, t.pod, t.container)
                    .await
                    .map_err(|e| match e {
                        ServerFnError::ServerError(message) => message,
                        other => other.to_string(),
                    })
            }
        })
    };
    let open = opener();
    view! {
        <section class="guide" aria-label="Why this terminal cannot start" data-testid="guide">
            <h2>{headline}</h2>
            {said.map(|said| view! { <p class="guide-said">{said}</p> })}
            <Suspense fallback=|| view! { <p class="guide-loading" role="status">"Looking at the container…"</p> }>
                {move || {
                    let (terminal, target) = (terminal.clone(), target.clone());
                    Suspend::new(async move {
                        match insight.await {
                            Ok(seen) => view! { <Insight seen terminal open retry/> }.into_any(),
                            Err(why) => view! {
                                <div class="error-box guide-error" role="alert">
                                    <p>"podterm could not look at " {target.container.clone()} ": " {why}</p>
                                    <button class="button small" on:click=move |_| insight.refetch()>"Look again"</button>
                                </div>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Insight(
    seen: ContainerInsight,
    terminal: Terminal,
    open: Callback<Terminal>,
    retry: Callback<()>,
) -> impl IntoView {
    let target = terminal.target.clone();
    let state = match (&seen.reason, &seen.message) {
        (Some(reason), Some(message)) => format!("{} ({reason}): {message}", seen.state),
        (Some(reason), None) => format!("{} ({reason})", seen.state),
        _ => seen.state.clone(),
    };
    let restarts = match seen.restarts {
        0 => "never restarted".to_string(),
        1 => "restarted once".to_string(),
        n => format!("restarted {n} times"),
    };
    let last_end = seen.last_end.as_ref().map(ended);
    let log_title = if seen.log_of_previous {
        "The last lines of its log, from the instance before the last restart"
    } else {
        "The last lines of its log, from the current instance"
    };
    let log = match (&seen.logs_denied, &seen.log_error) {
        (Some(why), _) => {
            view! { <p class="why-not">"Its log is not shown: " {why.clone()}</p> }.into_any()
        }
        (None, Some(why)) => {
            view! { <p class="why-not">"Its log could not be read: " {why.clone()}</p> }.into_any()
        }
        (None, None) if seen.log.is_empty() => {
            view! { <p class="why-not">"Its log is empty."</p> }.into_any()
        }
        (None, None) => view! {
            <h3>{log_title}</h3>
            <pre class="guide-log" data-testid="guide-log">{seen.log.join("\n")}</pre>
        }
        .into_any(),
    };
    let running = seen.state == "running";
    // The log in full: the Logs tab where there is one, else podterm's log route.
    let mut logs_href = format!(
        "{}/api/logs/{}/{}/{}?tail=200",
        crate::app::base(),
        encode(&target.namespace),
        encode(&target.pod),
        encode(&target.container)
    );
    if seen.log_of_previous {
        logs_href.push_str("&previous=true");
    }
    if let Some(context) = &target.context {
        logs_href.push_str(&format!("&context={}", encode(context)));
    }
    let logs = match &seen.logs_denied {
        Some(why) => view! {
            <li><button class="button small" disabled=true title=why.clone()>"Open the logs"</button>
                <span class="why-not">{why.clone()}</span></li>
        }
        .into_any(),
        None => match use_context::<super::LogOpener>() {
            Some(super::LogOpener(open_log)) => {
                let target = target.clone();
                view! {
                    <li><button class="button small" data-way="logs" on:click=move |_| open_log.run(target.clone())>"Open the logs"</button>
                        " in a tab beside the terminals (Previous shows the instance before)"</li>
                }
                .into_any()
            }
            None => view! {
                <li><a class="button small" href=logs_href target="_blank" rel="noopener" data-way="logs">"Open the logs"</a>
                    " the last 200 lines, in a new browser tab"</li>
            }
            .into_any(),
        },
    };
    let attach_denied = seen
        .attach_denied
        .clone()
        .or_else(|| (!running).then(|| format!("{} is not running", target.container)));
    let attach = seen.interactive.then(|| {
        let attach_to = Terminal {
            target: target.clone(),
            way: Way::Attach { stdin: true },
            ..Default::default()
        };
        view! {
            <li>
                <button class="button small way attach" disabled=attach_denied.is_some()
                    title=attach_denied.clone().unwrap_or_else(|| "Type into its main process; closing detaches".into())
                    on:click=move |_| open.run(attach_to.clone())>"Attach"</button>
                {match attach_denied.clone() {
                    Some(why) => view! { <span class="why-not">{why}</span> }.into_any(),
                    None => view! { <span>" to its main process, which reads what you type"</span> }.into_any(),
                }}
            </li>
        }
    });
    let debug_denied = seen
        .debug_denied
        .clone()
        .or_else(|| (!running).then(|| super::actions::not_running_for_debug(&target.container)));
    // A container without a shell still has files: podterm reaches them with its own
    // programs, or from a debug container beside it.
    let files = use_context::<crate::app::files::FilesOpener>()
        .filter(|_| running)
        .map(|crate::app::files::FilesOpener(open_files)| {
            let target = target.clone();
            view! {
                <li><button class="button small" data-way="files" on:click=move |_| open_files.run(target.clone())>"Browse its files"</button>
                    " to download or upload, in a tab beside the terminals"</li>
            }
        });
    let no_shell_hint = (running && terminal.command.is_empty()).then(|| {
        view! {
            <li class="why-not">"Or pick a program the image has in the container's command picker (▾ in the pod list)."</li>
        }
    });
    view! {
        <dl class="guide-facts">
            <dt>"State"</dt><dd data-testid="guide-state">{state}</dd>
            <dt>"Restarts"</dt><dd>{restarts}</dd>
            {last_end.map(|text| view! { <dt>"Last end"</dt><dd>{text}</dd> })}
            <dt>"Image"</dt><dd><code>{seen.image.clone()}</code></dd>
        </dl>
        {log}
        <h3>"What you can do"</h3>
        <ul class="guide-ways">
            {logs}
            <li>
                <DebugAction target=target.clone() denied=debug_denied image=seen.debug_image.clone() explain=true label="Start a debug container"/>
                " a shell beside it, with its processes and files"
            </li>
            {attach}
            {files}
            {no_shell_hint}
            <li><button class="button small" on:click=move |_| retry.run(())>"Try again"</button>" once it has changed"</li>
        </ul>
    }
}

/// "Error, exit code 1, 2m ago (2024-05-01T10:00:00Z)".
fn ended(end: &LastEnd) -> String {
    let when = end.finished.as_ref().map(|at| match ago(at) {
        Some(ago) => format!(", {ago} ago ({at})"),
        None => format!(", at {at}"),
    });
    format!(
        "{}, exit code {}{}",
        end.reason,
        end.exit_code,
        when.unwrap_or_default()
    )
}

/// How long ago an RFC 3339 time was, as the pod list says ages.
fn ago(at: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let then = js_sys::Date::parse(at);
        if then.is_nan() {
            return None;
        }
        let seconds = ((js_sys::Date::now() - then) / 1000.0) as i64;
        Some(crate::model::short_age(seconds))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = at;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(reason: ErrorReason, message: &str) -> SessionState {
        SessionState::Failed {
            reason,
            message: message.into(),
        }
    }

    #[test]
    fn the_guide_is_for_no_shell_and_not_running_only() {
        assert!(shows_guide(&failed(
            ErrorReason::NotFound,
            "exec: \"/bin/sh\": stat /bin/sh: no such file or directory: executable file not found in $PATH"
        )));
        assert!(shows_guide(&failed(
            ErrorReason::NotRunning,
            "container worker is waiting"
        )));
        assert!(!shows_guide(&failed(
            ErrorReason::NotFound,
            "there is no pod web-0"
        )));
        assert!(!shows_guide(&failed(ErrorReason::Forbidden, "not allowed")));
        assert!(!shows_guide(&SessionState::Exited(127)));
    }

    #[test]
    fn a_last_end_reads_as_a_sentence() {
        let end = LastEnd {
            reason: "Error".into(),
            exit_code: 1,
            finished: None,
        };
        assert_eq!(ended(&end), "Error, exit code 1");
    }
}
