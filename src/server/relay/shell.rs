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
