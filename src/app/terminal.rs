//! One terminal: what it runs and where, the xterm.js host, a status bar, and what
//! happened to the session.

use leptos::html::Div;
use leptos::prelude::*;

pub mod controls;
mod menu;
mod paste_confirm;
mod search;
mod tools;

use super::keybar::{KeyBar, Sticky};
use super::settings::SettingsButton;
use super::sync_view::sync_view;
use super::ways_in::{self, Way};
use crate::model::Target;
use crate::protocol::ErrorReason;
use controls::Controls;
use tools::Tool;
#[cfg(feature = "hydrate")]
pub(crate) use tools::fetch_tools;

/// A terminal to open: its command, in its target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terminal {
    pub target: Target,
    /// A command run exactly as given (no shell); empty for podterm's shell.
    pub command: Vec<String>,
    /// podterm's shell with this shell only (`bash` or `sh`) rather than bash, else sh.
    pub shell: Option<String>,
    /// A new process, the main process, or a shell in a debug container.
    pub way: Way,
}

impl Terminal {
    /// The page that opens this terminal directly.
    pub fn deep_link(&self) -> String {
        use crate::protocol::encode;
        let target = &self.target;
        let mut link = format!(
            "/terminal?namespace={}&pod={}&container={}",
            encode(&target.namespace),
            encode(&target.pod),
            encode(&target.container)
        );
        if let Some(context) = &target.context {
            link.push_str(&format!("&context={}", encode(context)));
        }
        for arg in &self.command {
            link.push_str(&format!("&command={}", encode(arg)));
        }
        if let Some(shell) = &self.shell {
            link.push_str(&format!("&shell={}", encode(shell)));
        }
        match &self.way {
            Way::Exec => {}
            Way::Attach { stdin } => link.push_str(if *stdin {
                "&attach=stdin"
            } else {
                "&attach=output"
            }),
            Way::Debug { of, reused } => {
                link.push_str(&format!("&debug_of={}", encode(of)));
                if *reused {
                    link.push_str("&reused=1");
                }
            }
        }
        link
    }

    /// The exec WebSocket's path: a new session, or a resume of `session` from `offset`.
    pub fn socket_path(&self, resume: Option<(&str, u64)>) -> String {
        use crate::protocol::{Join, attach_path, exec_path, shell_path};
        let join = match resume {
            Some((session, offset)) => Join::Resume {
                session: session.to_string(),
                offset,
            },
            None => Join::Start,
        };
        match (&self.way, &self.shell, &join) {
            (Way::Attach { .. }, ..) => attach_path(&self.target, &join),
            (_, Some(shell), Join::Start) => shell_path(&self.target, shell),
            _ => exec_path(&self.target, &self.command, &join),
        }
    }
}

/// Where a session stands; every state has words for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum SessionState {
    /// Waiting for the page's script (server render, before hydration).
    Starting,
    Connecting,
    Connected,
    /// The connection dropped; the page is resuming the same session.
    Reconnecting {
        attempt: u32,
    },
    Exited(i32),
    Failed {
        reason: ErrorReason,
        message: String,
    },
    /// The connection closed without the command ending.
    Lost(String),
}

impl SessionState {
    /// What the status bar says; a failure's own words are in the terminal, once.
    pub fn describe(&self) -> String {
        match self {
            SessionState::Starting => "Loading the terminal…".into(),
            SessionState::Connecting => "Connecting…".into(),
            SessionState::Connected => "Connected".into(),
            SessionState::Reconnecting { attempt } => {
                format!("Connection lost — reconnecting (attempt {attempt})…")
            }
            SessionState::Exited(code) => format!("Exited with code {code}"),
            SessionState::Failed { reason, .. } => reason_label(*reason).into(),
            SessionState::Lost(_) => "Disconnected".into(),
        }
    }

    /// The whole story, for the status's tooltip.
    pub fn detail(&self) -> String {
        match self {
            SessionState::Failed { reason, message } => failure_words(*reason, message),
            SessionState::Lost(why) => format!("Disconnected: {why}"),
            other => other.describe(),
        }
    }

    /// Over, and another try could work: a shell that ended, a connection that broke.
    /// Not for what trying again cannot change (not allowed, not found, not running).
    pub fn may_retry(&self) -> bool {
        match self {
            SessionState::Exited(_) | SessionState::Lost(_) => true,
            SessionState::Failed { reason, .. } => !matches!(
                reason,
                ErrorReason::Forbidden
                    | ErrorReason::NotFound
                    | ErrorReason::NotRunning
                    | ErrorReason::BadRequest
            ),
            _ => false,
        }
    }

    pub fn is_over(&self) -> bool {
        matches!(
            self,
            SessionState::Exited(_) | SessionState::Failed { .. } | SessionState::Lost(_)
        )
    }

    fn css(&self) -> &'static str {
        match self {
            SessionState::Starting | SessionState::Connecting => "status status-pending",
            SessionState::Connected => "status status-live",
            SessionState::Reconnecting { .. } => "status status-reconnecting",
            SessionState::Exited(0) => "status status-done",
            SessionState::Exited(_) => "status status-warn",
            SessionState::Failed { .. } | SessionState::Lost(_) => "status status-error",
        }
    }
}

pub fn reason_label(reason: ErrorReason) -> &'static str {
    match reason {
        ErrorReason::Forbidden => "Not allowed",
        ErrorReason::NotFound => "Not found",
        ErrorReason::NotRunning => "Not running",
        ErrorReason::Unreachable => "Cluster unreachable",
        ErrorReason::BadRequest => "Invalid request",
        ErrorReason::TooMany => "Limit reached",
        ErrorReason::Ended => "Ended",
        ErrorReason::Internal => "Error",
    }
}

/// A failure in words, once: "Not allowed: you may not …", not "Not allowed: not allowed: …".
pub fn failure_words(reason: ErrorReason, message: &str) -> String {
    let label = reason_label(reason);
    let said = message
        .get(..label.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(label));
    if said {
        super::upper_first(message)
    } else {
        format!("{label}: {message}")
    }
}

/// What the person can do about a failure.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn next_step(reason: ErrorReason) -> &'static str {
    match reason {
        ErrorReason::Forbidden => {
            "Ask whoever runs the cluster for get and create on pods/exec, or pick a pod you may open."
        }
        ErrorReason::NotFound => {
            "Check the names in the address, or pick the pod and container on the dashboard."
        }
        ErrorReason::NotRunning => {
            "Open it again once the container runs, or pick another container on the dashboard."
        }
        ErrorReason::BadRequest => "Check the address, or open the terminal from the dashboard.",
        ErrorReason::TooMany => "Close a terminal you no longer need, then press Reconnect.",
        ErrorReason::Ended => "Press Reconnect for a new shell.",
        ErrorReason::Unreachable | ErrorReason::Internal => "Press Reconnect to try again.",
    }
}

/// `early`: the terminal's own page, where it is the only one; the page's scripts may
/// start it before the wasm loads: the head names its socket, the host too. `resume`: a
/// session of this page's to attach to rather than start one; `session` follows the
/// session's id while it can be resumed. On the dashboard, `moved` closes the tab once
/// "Own page" has taken the session, `another` opens a second shell beside it, `logs`
/// the container's log and `files` its files. Files dropped onto it are uploaded into
/// the container.
#[component]
pub fn TerminalView(
    terminal: Terminal,
    #[prop(into)] visible: Signal<bool>,
    /// Its pane has the keyboard (the only terminal shown: when it shows).
    #[prop(optional, into)]
    focused: Option<Signal<bool>>,
    #[prop(optional)] early: bool,
    #[prop(optional_no_strip)] resume: Option<String>,
    #[prop(optional)] session: Option<RwSignal<Option<String>>>,
    #[prop(optional)] moved: Option<Callback<()>>,
    #[prop(optional)] another: Option<Callback<()>>,
    #[prop(optional)] logs: Option<Callback<()>>,
    #[prop(optional)] files: Option<Callback<()>>,
    /// On the dashboard: marked for broadcast input (typing goes to every marked terminal).
    #[prop(optional)]
    broadcast: Option<RwSignal<bool>>,
) -> impl IntoView {
    let state = RwSignal::new(SessionState::Starting);
    let attempt = RwSignal::new(0u32);
    let host = NodeRef::<Div>::new();
    let session = session.unwrap_or_else(|| RwSignal::new(None));
    let sticky = Sticky::new();
    let controls = Controls::new();
    #[cfg(feature = "hydrate")]
    let handle = super::connection::start(super::connection::Setup {
        host,
        terminal: terminal.clone(),
        state,
        attempt,
        visible,
        focused: focused.unwrap_or(visible),
        resume: resume.clone(),
        session,
        sticky: Some(sticky),
        broadcast,
    });
    // Once the terminal exists, the search bar, menu and paste question listen to it.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !state.with(|s| *s == SessionState::Starting)
            && let Some(term) = handle.term()
        {
            controls.attach(&term);
        }
    });
    // Its tools' code, once the first prompt is on its way.
    #[cfg(feature = "hydrate")]
    Effect::new(move |fetched: Option<bool>| {
        let connected = state.with(|s| *s == SessionState::Connected);
        if connected && fetched != Some(true) {
            super::later::fetch_soon();
        }
        connected || fetched == Some(true)
    });
    // Memos: each opens its panel once, not again on every request.
    let search_open = Memo::new(move |_| controls.search_open.get());
    let settings_open = Memo::new(move |_| controls.settings_open.get());
    #[cfg(not(feature = "hydrate"))]
    let _ = (visible, focused);
    // The key bar's keys, to the shell.
    let send = Callback::new(move |text: String| {
        #[cfg(feature = "hydrate")]
        handle.send(&text);
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    });
    let app_cursor = Callback::new(move |()| {
        #[cfg(feature = "hydrate")]
        return handle.application_cursor();
        #[cfg(not(feature = "hydrate"))]
        false
    });
    let title = terminal.target.title();
    let notes = ways_in::notes(&terminal);
    let guide_for = terminal.clone();
    let base = super::base();
    let link = format!("{base}{}", terminal.deep_link());
    let command = (!terminal.command.is_empty())
        .then(|| ways_in::command::argv_words(&terminal.command))
        .or_else(|| terminal.shell.clone());
    let socket = early.then(|| format!("{base}{}", terminal.socket_path(None)));
    let head = socket
        .clone()
        .map(|socket| super::early_start::head(&terminal, socket, resume.is_some()));
    // "Own page" moves the shell there: the page resumes this session, and this tab closes.
    let own_page = moved.map(|moved| {
        #[cfg(not(feature = "hydrate"))]
        let _ = moved;
        let href = move || match session.get() {
            Some(id) => format!("{link}&resume={}", crate::protocol::encode(&id)),
            None => link.clone(),
        };
        view! {
            <a class="terminal-link" href=href target="_blank" rel="noopener"
                title="Open this shell in a page of its own; it leaves the dashboard"
                on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    if session.get_untracked().is_some() {
                        handle.detach();
                        // Once the link has done its work: it goes with the tab.
                        set_timeout(move || moved.run(()), std::time::Duration::ZERO);
                    }
                }>"Own page"</a>
        }
    });
    let another = another.map(|another| {
        view! {
            <button class="button small" title="Open another shell in this container, in a new tab"
                on:click=move |_| another.run(())>"New shell"</button>
        }
    });
    let logs = logs.map(|logs| {
        view! {
            <button class="button small" title="Read this container's log, in a new tab"
                on:click=move |_| logs.run(())>"Logs"</button>
        }
    });
    let files = files.map(|files| {
        view! {
            <button class="button small" title="Browse this container's files, upload and download, in a new tab"
                on:click=move |_| files.run(())>"Files"</button>
        }
    });
    let marked = move || broadcast.is_some_and(|b| b.get());
    let broadcast = broadcast.map(|on| {
        view! {
            <button class="button small broadcast-toggle" aria-pressed=move || on.get().to_string()
                title="Mark this terminal for broadcast: what you type into one marked terminal goes to all of them"
                on:click=move |_| on.update(|o| *o = !*o)>"Broadcast"</button>
        }
    });
    let zone = super::files::DropZone::new();
    // From the first file dragged over the terminal on, its uploads are shown.
    let uploading = Memo::new(move |was: Option<&bool>| {
        was == Some(&true)
            || zone.over.get()
            || zone.dropped.with(Option::is_some)
            || zone.problem.with(Option::is_some)
    });
    let retry = Callback::new(move |()| attempt.update(|n| *n += 1));
    let uploads_target = terminal.target.clone();
    // On its own page, where to go when this terminal cannot open.
    let dashboard = early.then(|| {
        super::dashboard_link(
            terminal.target.context.as_deref(),
            &terminal.target.namespace,
        )
    });
    // A `sync_view`: a terminal may end up inside any `AnyView`.
    sync_view(view! {
        {head}
        <section class="terminal-pane" class:broadcasting=marked data-pod=terminal.target.pod.clone() data-container=terminal.target.container.clone()
            on:dragenter=move |ev| zone.enter(ev) on:dragover=move |ev| zone.hover(ev)
            on:dragleave=move |ev| zone.leave(ev) on:drop=move |ev| zone.drop(ev)>
            <header class="terminal-bar">
                <span class="terminal-title">{title}</span>
                {command.map(|c| view! { <code class="terminal-command">{c}</code> })}
                <span class=move || state.with(SessionState::css) data-testid="session-status"
                    title=move || state.with(SessionState::detail)>
                    {move || state.with(SessionState::describe)}
                </span>
                <Show when=move || state.with(SessionState::may_retry)>
                    <button class="button small" on:click=move |_| attempt.update(|n| *n += 1)>"Reconnect"</button>
                </Show>
                <Show when=move || state.with(|s| s.is_over() && !s.may_retry())>
                    {dashboard.clone().map(|href| view! { <a class="button small" href=href>"Back to the dashboard"</a> })}
                </Show>
                <span class="terminal-actions">
                    <button class="button small icon" aria-label="Search the terminal"
                        title="Search the terminal (Ctrl+Shift+F)"
                        on:click=move |_| controls.open_search()>"⌕"</button>
                    <SettingsButton controls/>
                    {broadcast}{another}{logs}{files}{own_page}
                </span>
            </header>
            {move || search_open.get().then(|| tools::later(controls, Tool::Search))}
            {move || settings_open.get().then(|| tools::later(controls, Tool::Settings))}
            {move || controls.paste.get().map(|text| tools::later(controls, Tool::Paste(text)))}
            {move || controls.menu.get().map(|(x, y)| tools::later(controls, Tool::Menu(x, y)))}
            {notes}
            {move || uploading.get().then(|| super::files::later_uploads(uploads_target.clone(), session, zone))}
            // Where the terminal cannot start, what the container is doing and the ways in.
            {move || state.with(ways_in::shows_guide).then(|| ways_in::later_guide(guide_for.clone(), state, retry))}
            <KeyBar sticky send app_cursor/>
            <div class="terminal-host" class:behind-guide=move || state.with(ways_in::shows_guide) data-socket=socket node_ref=host
                on:contextmenu=move |ev| {
                    ev.prevent_default();
                    controls.menu.set(Some(menu::place(ev.client_x(), ev.client_y())));
                }></div>
        </section>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_said_once() {
        assert_eq!(
            failure_words(
                ErrorReason::Forbidden,
                "not allowed: you may not open a shell in pod web-0"
            ),
            "Not allowed: you may not open a shell in pod web-0"
        );
        assert_eq!(
            failure_words(
                ErrorReason::NotFound,
                "pod toolbox has no container \"nope\""
            ),
            "Not found: pod toolbox has no container \"nope\""
        );
        // Short or odd messages do not panic.
        assert_eq!(failure_words(ErrorReason::Ended, ""), "Ended: ");
        assert_eq!(failure_words(ErrorReason::Internal, "é"), "Error: é");
        assert_eq!(
            failure_words(ErrorReason::Forbidden, "Not allowé"),
            "Not allowed: Not allowé"
        );
    }

    #[test]
    fn reconnect_is_offered_only_where_it_can_help() {
        let failed = |reason| SessionState::Failed {
            reason,
            message: String::new(),
        };
        assert!(SessionState::Exited(0).may_retry());
        assert!(SessionState::Lost("gone".into()).may_retry());
        assert!(failed(ErrorReason::Unreachable).may_retry());
        assert!(failed(ErrorReason::Ended).may_retry());
        assert!(!failed(ErrorReason::NotRunning).may_retry());
        assert!(!failed(ErrorReason::Forbidden).may_retry());
        assert!(!failed(ErrorReason::NotFound).may_retry());
        assert!(!SessionState::Connected.may_retry());
    }
}
