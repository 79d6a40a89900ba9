//! Ending every process a session started, where the runtime leaves them running.
//!
//! Real runtimes keep an exec's terminal open when its client goes away, so nothing hangs
//! the shell up. podterm marks each session (an environment variable every descendant
//! inherits) and, when the session ends, ends the marked processes and their descendants
//! through a second, non-interactive exec: SIGHUP (and SIGCONT for stopped jobs), then
//! SIGKILL for whatever is left after a short grace. Nothing is typed into the terminal.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt;

use crate::model::Target;

/// The variable that marks a session's processes.
pub const MARK: &str = "PODTERM_SESSION";

/// Sets the mark, then runs the command itself (its arguments are passed, never parsed).
/// A missing program reads as a shell would say it, without the wrapper's name.
const MARK_SCRIPT: &str = r#"PODTERM_SESSION=$1; export PODTERM_SESSION; shift
command -v "$1" >/dev/null 2>&1 || { printf '%s: command not found\n' "$1" >&2; exit 127; }
exec "$@""#;

/// Finds the marked processes (and their descendants, which may have dropped the variable),
/// hangs them up, and kills what remains. Prints one summary line. grep reads the environ
/// files in nine calls per look (by first digit, to keep argument lists short), not one per
/// process: a busy container has thousands, and many sessions may end at once.
const REAP_SCRIPT: &str = r#"mark="PODTERM_SESSION=$1"
printf 'x\000' | grep -qxzF x 2>/dev/null || { echo "missing=grep"; exit 0; }
marked() {
  pids=" "
  for g in 1 2 3 4 5 6 7 8 9; do
    for f in $(grep -lxzF "$mark" /proc/$g*/environ 2>/dev/null); do
      p=${f#/proc/}
      pids="$pids${p%/environ} "
    done
  done
  while :; do
    grown=
    for d in /proc/[0-9]*; do
      p=${d#/proc/}
      case "$pids" in *" $p "*) continue ;; esac
      read -r stat < "$d/stat" 2>/dev/null || continue
      rest=${stat##*) }
      set -- $rest
      case "$pids" in *" $2 "*) pids="$pids$p "; grown=1 ;; esac
    done
    [ -n "$grown" ] || break
  done
  echo $pids
}
nap() { sleep 0.2 2>/dev/null || sleep 1 2>/dev/null || :; }
found=$(marked)
count=$(echo $found | wc -w 2>/dev/null || echo "?")
if [ -n "$found" ]; then
  kill -HUP $found 2>/dev/null
  kill -CONT $found 2>/dev/null
  i=0
  while [ $i -lt 10 ]; do
    left=$(marked)
    [ -n "$left" ] || break
    nap
    i=$((i+1))
  done
  left=$(marked)
  if [ -n "$left" ]; then
    kill -KILL $left 2>/dev/null
    # Gone before the session's end is reported, not a moment after.
    i=0
    while [ $i -lt 5 ] && [ -n "$(marked)" ]; do nap; i=$((i+1)); done
  fi
fi
echo "found=$count"
"#;

/// Wraps a command so that it and everything it starts carry the session's mark.
pub fn mark(session: &str, command: &[String]) -> Vec<String> {
    let mut wrapped = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        MARK_SCRIPT.to_string(),
        "podterm".to_string(),
        session.to_string(),
    ];
    wrapped.extend(command.iter().cloned());
    wrapped
}

/// Ends the session's processes in its container. Returns a line for the log.
pub async fn end_processes(client: kube::Client, target: &Target, session: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client, &target.namespace);
    let params = AttachParams::default()
        .container(&target.container)
        .stdin(false)
        .stdout(true)
        .stderr(false);
    let command = vec![
        "/bin/sh".to_string(),
        "-c".to_string(),
        REAP_SCRIPT.to_string(),
        "podterm-cleanup".to_string(),
        session.to_string(),
    ];
    let run = async {
        let mut process = pods
            .exec(&target.pod, command, &params)
            .await
            .map_err(|e| crate::server::cluster::kube_errors::classify(&e).message)?;
        let mut output = String::new();
        if let Some(mut stdout) = process.stdout() {
            let _ = stdout.read_to_string(&mut output).await;
        }
        let _ = process.join().await;
        Ok::<String, String>(output)
    };
    // Shorter than podterm's shutdown deadline, so a slow pod cannot hold up the others.
    match tokio::time::timeout(Duration::from_secs(10), run).await {
        Err(_) => "cleanup did not finish within 10 s".into(),
        Ok(Err(e)) => format!("cleanup could not run: {e}"),
        Ok(Ok(output)) => match output.trim() {
            "missing=grep" => {
                "cleanup skipped: the container has no grep with -z to find the session's processes"
                    .into()
            }
            line => match line.strip_prefix("found=") {
                Some(n) => format!("ended {n} processes left by the session"),
                None => format!("cleanup said: {line}"),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marking_passes_arguments_untouched() {
        let wrapped = mark("abc", &["echo".into(), "$HOME; rm -rf /".into()]);
        assert_eq!(wrapped[0..2], ["/bin/sh", "-c"]);
        assert_eq!(wrapped[3..], ["podterm", "abc", "echo", "$HOME; rm -rf /"]);
        assert!(!wrapped[2].contains("abc"));
    }
}
