//! What a container's terminal runs, as the person chose it in the picker: podterm's shell
//! (bash, else sh), only bash, only sh, or their own command, which runs as an argument
//! list, never through a shell. Remembered in the browser (local storage) per cluster
//! context, namespace and container name, so it carries over to the pods a Deployment
//! replaces.

use crate::app::Terminal;

/// One choice of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// podterm's shell: bash where it exists, else sh.
    Default,
    /// podterm's shell with this one only: `bash` or `sh`.
    Shell(String),
    /// A command run exactly as given: the program, then its arguments.
    Argv(Vec<String>),
}

/// The shells a person may pick; the server knows the same two.
pub const SHELLS: [&str; 2] = ["bash", "sh"];
/// What a Windows container offers instead (no /bin/sh there); the first is its default.
pub const WINDOWS_SHELLS: [&str; 2] = ["cmd.exe", "powershell.exe"];

impl Choice {
    /// What a container starts with when nothing was chosen.
    pub fn default_for(windows: bool) -> Self {
        if windows {
            Choice::Argv(vec![WINDOWS_SHELLS[0].into()])
        } else {
            Choice::Default
        }
    }

    /// The terminal that runs this choice in `terminal`'s container.
    pub fn apply(&self, mut terminal: Terminal) -> Terminal {
        let (shell, command) = match self {
            Choice::Default => (None, Vec::new()),
            Choice::Shell(shell) => (Some(shell.clone()), Vec::new()),
            Choice::Argv(argv) => (None, argv.clone()),
        };
        terminal.shell = shell;
        terminal.command = command;
        terminal
    }

    /// Whether podterm ends the session's processes when it closes (only its own shell).
    pub fn ends_processes(&self) -> bool {
        !matches!(self, Choice::Argv(_))
    }

    /// How the picker and the container's button name it.
    pub fn label(&self) -> String {
        match self {
            Choice::Default => "bash, else sh".into(),
            Choice::Shell(shell) => shell.clone(),
            Choice::Argv(argv) => argv_words(argv),
        }
    }

    /// As kept in local storage: `default`, `shell bash`, or `argv` and one argument a line.
    pub fn to_stored(&self) -> String {
        match self {
            Choice::Default => "default".into(),
            Choice::Shell(shell) => format!("shell {shell}"),
            Choice::Argv(argv) => std::iter::once("argv")
                .chain(argv.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Reads what [`Choice::to_stored`] wrote; `None` for anything else.
    pub fn from_stored(text: &str) -> Option<Self> {
        if text == "default" {
            return Some(Choice::Default);
        }
        if let Some(shell) = text.strip_prefix("shell ") {
            return SHELLS.contains(&shell).then(|| Choice::Shell(shell.into()));
        }
        let argv: Vec<String> = text
            .strip_prefix("argv\n")?
            .split('\n')
            .map(str::to_string)
            .collect();
        valid_argv(&argv).then_some(Choice::Argv(argv))
    }
}

/// A command as the person typed it: one argument per line, each kept exactly as typed
/// (spaces and quotes included); blank lines at the end are left out. Err says why it
/// cannot run.
pub fn parse_argv(typed: &str) -> Result<Vec<String>, &'static str> {
    let mut argv: Vec<String> = typed
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line).to_string())
        .collect();
    while argv.last().is_some_and(|a| a.trim().is_empty()) {
        argv.pop();
    }
    if argv.is_empty() {
        return Err("Type the program on the first line, then one argument per line.");
    }
    if argv[0].trim().is_empty() {
        return Err("The first line names the program to run; it is blank.");
    }
    if argv.iter().any(|a| a.contains('\0')) {
        return Err("An argument contains a NUL character, which no program can receive.");
    }
    Ok(argv)
}

/// The text box's contents for an argument list (what `parse_argv` reads back).
pub fn typed_argv(argv: &[String]) -> String {
    argv.join("\n")
}

fn valid_argv(argv: &[String]) -> bool {
    argv.first().is_some_and(|p| !p.trim().is_empty()) && !argv.iter().any(|a| a.contains('\0'))
}

/// An argument list shown on one line: arguments with spaces or nothing in them quoted,
/// so `echo`, `a  b` reads `echo "a  b"`. Only for showing; it is never parsed.
pub fn argv_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.chars().any(|c| c.is_whitespace() || c == '"') {
                format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a container's choice is kept in local storage.
pub fn storage_key(context: Option<&str>, namespace: &str, container: &str) -> String {
    use crate::protocol::encode;
    format!(
        "podterm.command {} {} {}",
        encode(context.unwrap_or("")),
        encode(namespace),
        encode(container)
    )
}

/// The choice kept for a container, else its default.
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn remembered(key: &str, windows: bool) -> Choice {
    #[cfg(feature = "hydrate")]
    if let Some(choice) = local_storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .and_then(|text| Choice::from_stored(&text))
    {
        return choice;
    }
    Choice::default_for(windows)
}

/// Keeps a container's choice; its default is not kept (a later default may change).
#[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
pub fn remember(key: &str, choice: &Choice, windows: bool) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = local_storage() {
        let _ = if *choice == Choice::default_for(windows) {
            storage.remove_item(key)
        } else {
            storage.set_item(key, &choice.to_stored())
        };
    }
}

#[cfg(feature = "hydrate")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn one_argument_per_line_exactly_as_typed() {
        assert_eq!(parse_argv("echo\na  b"), Ok(strings(&["echo", "a  b"])));
        assert_eq!(
            parse_argv("sh\r\n-c\r\necho 'hi' \"there\"\n\n\n"),
            Ok(strings(&["sh", "-c", "echo 'hi' \"there\""]))
        );
        // Blank lines inside are empty arguments; leading spaces stay.
        assert_eq!(
            parse_argv("printf\n[%s]\n\n  x"),
            Ok(strings(&["printf", "[%s]", "", "  x"]))
        );
        assert!(parse_argv("").is_err());
        assert!(parse_argv("\n\n").is_err());
        assert!(parse_argv("\nls").is_err());
        assert!(parse_argv("ls\na\0b").is_err());
        let argv = strings(&["echo", "a  b", ""]);
        assert_eq!(
            parse_argv(&format!("{}\n", typed_argv(&argv[..2]))),
            Ok(argv[..2].to_vec())
        );
    }

    #[test]
    fn choices_survive_storage_and_nothing_else_reads_as_one() {
        for choice in [
            Choice::Default,
            Choice::Shell("bash".into()),
            Choice::Shell("sh".into()),
            Choice::Argv(strings(&["echo", "a  b", ""])),
            Choice::Argv(strings(&["powershell.exe"])),
        ] {
            assert_eq!(Choice::from_stored(&choice.to_stored()), Some(choice));
        }
        for junk in [
            "",
            "shell zsh",
            "shell bash; rm",
            "argv",
            "argv\n",
            "argv\n \nx",
            "bash",
        ] {
            assert_eq!(Choice::from_stored(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn windows_defaults_to_cmd_and_commands_are_shown_quoted() {
        assert_eq!(
            Choice::default_for(true),
            Choice::Argv(strings(&["cmd.exe"]))
        );
        assert!(!Choice::default_for(true).ends_processes());
        assert!(Choice::default_for(false).ends_processes());
        assert!(Choice::Shell("sh".into()).ends_processes());
        assert_eq!(
            argv_words(&strings(&["echo", "a  b", "", "say \"hi\""])),
            r#"echo "a  b" "" "say \"hi\"""#
        );
    }

    #[test]
    fn keys_name_the_context_namespace_and_container() {
        assert_eq!(
            storage_key(Some("kind dev"), "shop", "web"),
            "podterm.command kind%20dev shop web"
        );
        assert_eq!(
            storage_key(None, "shop", "web"),
            "podterm.command  shop web"
        );
        assert_ne!(storage_key(None, "a b", "c"), storage_key(None, "a", "b c"));
    }
}
