//! Ways into a container besides podterm's shell: a debug container beside it (`debug`),
//! its main process (attach), a command of the person's choosing (`command`, `picker`),
//! and, where a terminal cannot start, a panel that says why and offers these (`guide`).
//! The pod list's buttons for one container are `actions`.

mod actions;
pub mod command;
mod debug;
mod guide;
mod picker;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::Terminal;

pub use actions::ContainerActions;
pub use guide::{later_guide, shows_guide};

/// How a terminal reaches its container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Way {
    /// A new process (podterm's shell or a command).
    #[default]
    Exec,
    /// The container's main process; `stdin`: it reads what is typed (else the terminal
    /// only shows its output).
    Attach { stdin: bool },
    /// A shell in a debug container beside container `of`; `reused`: one started earlier.
    Debug { of: String, reused: bool },
}

/// What a namespace allows besides shells, for the pod list (the cluster's answers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ways {
    /// Why the person may not add debug containers here, if they may not.
    pub debug_denied: Option<String>,
    /// Why the person may not attach to main processes here, if they may not.
    pub attach_denied: Option<String>,
    /// The image a debug container uses.
    pub debug_image: String,
}

/// Which container's command picker is open in the pod list (one at a time), kept by the
/// list rather than its rows, which are made again whenever their pod changes.
#[derive(Clone, Copy)]
pub struct OpenPicker(pub RwSignal<Option<String>>);

/// What the pod list's rows read: the namespace's answers, and the state of their panels.
pub fn provide_for_list(ways: Ways) {
    provide_context(ways);
    provide_context(debug::DebugSteps::new());
    provide_context(OpenPicker(RwSignal::new(None)));
}

/// Opens a terminal in a tab: the dashboard provides it. Without it (a terminal's own
/// page) a new terminal opens in a page of its own.
#[derive(Clone, Copy)]
pub struct Opener(pub Callback<Terminal>);

/// What opens a container's log in a tab, where the page has tabs (the dashboard).
#[derive(Clone, Copy)]
pub struct LogOpener(pub Callback<crate::model::Target>);

/// What opens a terminal here: a tab on the dashboard, else a page of its own. Called
/// while a component is made (it reads the context).
pub fn opener() -> Callback<Terminal> {
    match use_context::<Opener>() {
        Some(Opener(open)) => open,
        None => Callback::new(|terminal: Terminal| {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href(&format!(
                    "{}{}",
                    super::base(),
                    terminal.deep_link()
                ));
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = terminal;
        }),
    }
}

/// How a terminal's own page reaches its container, from its link's `attach`
/// (`stdin` or `output`), `debug_of` and `reused` (see [`Terminal::deep_link`]).
pub fn way_from_link(
    attach: Option<String>,
    debug_of: Option<String>,
    reused: Option<String>,
) -> Way {
    match (attach.as_deref(), debug_of) {
        (Some("output"), _) => Way::Attach { stdin: false },
        (Some(_), _) => Way::Attach { stdin: true },
        (None, Some(of)) => Way::Debug {
            of,
            reused: reused.is_some(),
        },
        (None, None) => Way::Exec,
    }
}

/// The terminal running the command chosen for its container in this browser (its
/// default when none was).
pub fn with_chosen_command(terminal: Terminal, windows: bool) -> Terminal {
    let target = &terminal.target;
    let key = command::storage_key(
        target.context.as_deref(),
        &target.namespace,
        &target.container,
    );
    command::remembered(&key, windows).apply(terminal)
}

/// The line under a terminal's bar that says what kind of terminal it is, when it is not
/// podterm's shell in the container itself.
pub fn notes(terminal: &Terminal) -> Option<impl IntoView + use<>> {
    let text = match &terminal.way {
        Way::Debug { of, reused } => format!(
            "A debug container beside {of}{}: {of}'s files are at /proc/1/root; it runs as {of}'s user, with every capability dropped.",
            if *reused { " (reused: the one you started earlier)" } else { "" }
        ),
        Way::Attach { stdin } => format!(
            "Attached to the main process: closing detaches, the process keeps running.{}",
            if *stdin {
                ""
            } else {
                " Its container reads no stdin, so this terminal is read-only."
            }
        ),
        Way::Exec if !terminal.ends_processes() => {
            "This command runs as given, without a shell: podterm does not end its processes when the terminal closes.".into()
        }
        Way::Exec => return None,
    };
    let class = match terminal.way {
        Way::Debug { .. } => "terminal-note debug",
        Way::Attach { .. } => "terminal-note attach",
        Way::Exec => "terminal-note warn",
    };
    Some(view! { <p class=class data-testid="terminal-note">{text}</p> })
}

impl Terminal {
    /// Whether podterm ends the session's processes when it closes: only its own shell's
    /// carry the mark that lets it (a command runs as given; an attach's process is the
    /// container's own).
    pub fn ends_processes(&self) -> bool {
        self.command.is_empty() && !matches!(self.way, Way::Attach { .. })
    }

    /// What closing the terminal does, after "Closing NAME", and the button that does it.
    pub fn closing_words(&self) -> (&'static str, &'static str) {
        match self.way {
            Way::Attach { .. } => (
                " detaches from its main process, which keeps running.",
                "Detach",
            ),
            _ if !self.ends_processes() => (
                " ends its connection; podterm does not end the processes its command started.",
                "Close it",
            ),
            _ => (" ends its shell and whatever runs in it.", "End the shell"),
        }
    }

    /// The fields a saved tab keeps besides its target and session: how it reaches the
    /// container, the shell chosen, the command's arguments.
    pub fn saved_fields(&self) -> Vec<String> {
        let way = match &self.way {
            Way::Exec => String::new(),
            Way::Attach { stdin: true } => "attach".into(),
            Way::Attach { stdin: false } => "attach-read-only".into(),
            Way::Debug { of, reused: false } => format!("debug:{of}"),
            Way::Debug { of, reused: true } => format!("debug-reused:{of}"),
        };
        let mut fields = vec![way, self.shell.clone().unwrap_or_default()];
        fields.extend(self.command.iter().cloned());
        fields
    }

    /// Reads what [`Terminal::saved_fields`] wrote (none: an exec of podterm's shell).
    pub fn with_saved_fields(mut self, fields: &[String]) -> Option<Self> {
        let (way, shell, command) = match fields {
            [] => return Some(self),
            [way, shell, command @ ..] => (way.as_str(), shell, command),
            [_] => return None,
        };
        self.way = match way.split_once(':') {
            None if way.is_empty() => Way::Exec,
            None if way == "attach" => Way::Attach { stdin: true },
            None if way == "attach-read-only" => Way::Attach { stdin: false },
            Some(("debug", of)) if !of.is_empty() => Way::Debug {
                of: of.into(),
                reused: false,
            },
            Some(("debug-reused", of)) if !of.is_empty() => Way::Debug {
                of: of.into(),
                reused: true,
            },
            _ => return None,
        };
        self.shell = Some(shell.clone()).filter(|s| !s.is_empty());
        self.command = command.to_vec();
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Target;

    fn terminal(way: Way, shell: Option<&str>, command: &[&str]) -> Terminal {
        Terminal {
            target: Target {
                context: None,
                namespace: "shop".into(),
                pod: "payments".into(),
                container: "c".into(),
            },
            command: command.iter().map(|a| a.to_string()).collect(),
            shell: shell.map(str::to_string),
            way,
        }
    }

    #[test]
    fn saved_tabs_keep_the_way_the_shell_and_the_arguments() {
        let cases = [
            terminal(Way::Exec, None, &[]),
            terminal(Way::Exec, Some("sh"), &[]),
            terminal(Way::Exec, None, &["echo", "a  b", "", " x "]),
            terminal(Way::Attach { stdin: true }, None, &[]),
            terminal(Way::Attach { stdin: false }, None, &[]),
            terminal(
                Way::Debug {
                    of: "payments".into(),
                    reused: true,
                },
                None,
                &[],
            ),
        ];
        for case in cases {
            let fields = case.saved_fields();
            let plain = terminal(Way::Exec, None, &[]);
            assert_eq!(plain.with_saved_fields(&fields), Some(case.clone()));
        }
        // Tabs saved before these fields existed are plain shells.
        let plain = terminal(Way::Exec, None, &[]);
        assert_eq!(plain.clone().with_saved_fields(&[]), Some(plain.clone()));
        assert_eq!(plain.clone().with_saved_fields(&["x".into()]), None);
        assert_eq!(
            plain.with_saved_fields(&["teleport".into(), String::new()]),
            None
        );
    }

    #[test]
    fn only_podterm_s_own_shell_ends_its_processes() {
        assert!(terminal(Way::Exec, None, &[]).ends_processes());
        assert!(terminal(Way::Exec, Some("bash"), &[]).ends_processes());
        let debug = Way::Debug {
            of: "x".into(),
            reused: false,
        };
        assert!(terminal(debug, None, &[]).ends_processes());
        assert!(!terminal(Way::Exec, None, &["cmd.exe"]).ends_processes());
        assert!(!terminal(Way::Attach { stdin: true }, None, &[]).ends_processes());
        assert!(
            terminal(Way::Attach { stdin: true }, None, &[])
                .closing_words()
                .0
                .contains("keeps running")
        );
    }
}
