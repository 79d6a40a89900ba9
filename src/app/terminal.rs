//! One terminal: what it runs and where, the xterm.js host, a status bar, and what
//! happened to the session.

use leptos::html::Div;
use leptos::prelude::*;

use super::sync_view::sync_view;
use crate::model::Target;
use crate::protocol::ErrorReason;

/// A terminal to open: its command, in its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    pub target: Target,
    /// Empty for podterm's shell (bash, else sh).
    pub command: Vec<String>,
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
        link
    }

    /// The exec WebSocket's path: a new session, or a resume of `session` from `offset`.
    pub fn socket_path(&self, resume: Option<(&str, u64)>) -> String {
        use crate::protocol::{Attach, exec_path};
        let attach = match resume {
            Some((session, offset)) => Attach::Resume {
                session: session.to_string(),
                offset,
            },
            None => Attach::Start,
        };
        exec_path(&self.target, &self.command, &attach)
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
    pub fn describe(&self) -> String {
        match self {
            SessionState::Starting => "Loading the terminal…".into(),
            SessionState::Connecting => "Connecting…".into(),
            SessionState::Connected => "Connected".into(),
            SessionState::Reconnecting { attempt } => {
                format!("Connection lost — reconnecting (attempt {attempt})…")
            }
            SessionState::Exited(code) => format!("Exited with code {code}"),
            SessionState::Failed { reason, message } => {
                format!("{}: {message}", reason_label(*reason))
            }
            SessionState::Lost(why) => format!("Disconnected: {why}"),
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

/// `early`: the page's scripts may start this terminal before the wasm loads (on a
/// terminal's own page, where it is the only one): the head names its socket, the host too.
#[component]
pub fn TerminalView(
    terminal: Terminal,
    #[prop(into)] visible: Signal<bool>,
    #[prop(optional)] early: bool,
) -> impl IntoView {
    let state = RwSignal::new(SessionState::Starting);
    let attempt = RwSignal::new(0u32);
    let host = NodeRef::<Div>::new();
    #[cfg(feature = "hydrate")]
    super::connection::start(host, terminal.clone(), state, attempt, visible);
    #[cfg(not(feature = "hydrate"))]
    let _ = visible;
    let title = terminal.target.title();
    let link = format!("{}{}", super::base(), terminal.deep_link());
    let command = (!terminal.command.is_empty()).then(|| terminal.command.join(" "));
    let socket = early.then(|| format!("{}{}", super::base(), terminal.socket_path(None)));
    let head = socket
        .clone()
        .map(|socket| super::early_start::head(&terminal, socket));
    // A `sync_view`: a terminal may end up inside any `AnyView`.
    sync_view(view! {
        {head}
        <section class="terminal-pane" data-pod=terminal.target.pod.clone() data-container=terminal.target.container.clone()>
            <header class="terminal-bar">
                <span class="terminal-title">{title}</span>
                {command.map(|c| view! { <code class="terminal-command">{c}</code> })}
                <span class=move || state.with(SessionState::css) data-testid="session-status">
                    {move || state.with(SessionState::describe)}
                </span>
                <Show when=move || state.with(SessionState::is_over)>
                    <button class="button" on:click=move |_| attempt.update(|n| *n += 1)>"Reconnect"</button>
                </Show>
                <a class="terminal-link" href=link target="_blank" rel="noopener">"Own page"</a>
            </header>
            <div class="terminal-host" data-socket=socket node_ref=host></div>
        </section>
    })
}
