//! The default command: the seed articles' bash→sh fallback in one exec, keeping the shell's
//! exit code (no `script` wrapper, which always exits 0 and adds a second PTY).

/// A fixed script (no user text in it): a 256-colour TERM, a UTF-8 locale when none is set,
/// then bash where it exists, else sh, each `exec`'d so its exit code is the session's.
const FALLBACK: &str = r#"TERM=xterm-256color; export TERM
if [ -z "${LANG:-}${LC_ALL:-}" ]; then LANG=C.UTF-8; export LANG; fi
if command -v bash >/dev/null 2>&1; then exec bash; fi
exec sh"#;

pub fn default_command() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), FALLBACK.into()]
}

/// The shells a person may pick instead of the fallback (`shell=` on the exec route).
pub const SHELLS: [&str; 2] = ["bash", "sh"];

/// podterm's shell with one shell only, as `default_command` sets it up: still a fixed
/// script, so the session's processes carry its mark and end with it. `None` for a shell
/// not in [`SHELLS`].
pub fn shell_command(shell: &str) -> Option<Vec<String>> {
    if !SHELLS.contains(&shell) {
        return None;
    }
    let (setup, _) = FALLBACK.split_once("\nif command -v bash")?;
    Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        format!("{setup}\nexec {shell}"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_shell_keeps_the_set_up_and_runs_only_itself() {
        let bash = shell_command("bash").unwrap();
        assert_eq!(bash[..2], ["/bin/sh", "-c"]);
        assert!(bash[2].starts_with("TERM=xterm-256color"), "{}", bash[2]);
        assert!(bash[2].ends_with("\nexec bash"), "{}", bash[2]);
        assert!(!bash[2].contains("exec sh"));
        assert!(shell_command("sh").unwrap()[2].ends_with("\nexec sh"));
        assert_eq!(shell_command("zsh; rm -rf /"), None);
    }
}
