//! An upload's steps before and after its bytes: whether the name is free and its folder
//! made; then the modification time, the mode, the rename into place and the container's
//! check of its copy. Where the container has a shell, each side is one exec of a constant
//! script with the paths as its arguments (three execs instead of six for a small file);
//! elsewhere, one program each.

use axum::http::StatusCode;

use super::reach::Place;
use super::run::{Output, RunError};
use super::{FileError, stderr_failure, write_failure};
use crate::files::{Check, FilesQuery, Via, parent};

/// `$1` the destination, `$2` its folder: `there MODE` when it exists, else the folder is
/// made and `absent` printed; 2 a failed `stat`, 3 a failed `mkdir`.
const PREPARE: &str = r#"if mode=$(stat -c %f "$1" 2>&1); then echo "there $mode"; exit 0; fi
case $mode in *"No such file"*) ;; *) echo "$mode" >&2; exit 2 ;; esac
mkdir -p "$2" || exit 3
echo absent"#;

/// `$1` the part, `$2` the destination, `$3` a modification time or empty, `$4` non-empty
/// to make it executable, `$5` non-empty to hash: prints `sha256sum`'s line or
/// `size N`; 2 a failed `chmod` or `mv`.
const SETTLE: &str = r#"[ -z "$3" ] || touch -c -d "@$3" "$1" 2>/dev/null
[ -z "$4" ] || chmod +x "$1" || exit 2
mv -f "$1" "$2" || exit 2
if [ -n "$5" ] && sha256sum "$2" 2>/dev/null; then exit 0; fi
printf 'size '; stat -c %s "$2""#;

/// Refuses a name that is taken (unless replacing a file) and makes the folder.
pub async fn prepare(
    place: &Place,
    (seen, dir): (&str, &str),
    path: &str,
    overwrite: bool,
) -> Result<(), FileError> {
    let mode = if place.via == Via::Shell {
        let out = place.run(&["sh", "-c", PREPARE, "sh", seen, dir]).await?;
        match out.code {
            0 => String::from_utf8_lossy(&out.stdout)
                .trim()
                .strip_prefix("there ")
                .map(str::to_string),
            3 => return Err(write_failure(&out.stderr, parent(path))),
            _ => return Err(stderr_failure(&out.stderr, path)),
        }
    } else {
        let there = place.run(&["stat", "-c", "%f", seen]).await?;
        if there.code == 0 {
            Some(String::from_utf8_lossy(&there.stdout).trim().to_string())
        } else if !there.stderr.contains("No such file") {
            return Err(stderr_failure(&there.stderr, path));
        } else {
            let made = place.run(&["mkdir", "-p", dir]).await?;
            if made.code != 0 {
                return Err(write_failure(&made.stderr, parent(path)));
            }
            None
        }
    };
    let Some(mode) = mode else {
        return Ok(());
    };
    if u32::from_str_radix(&mode, 16).unwrap_or(0) & 0o170000 == 0o040000 {
        return Err(FileError::status(
            StatusCode::CONFLICT,
            format!("{path} is a folder; choose another name"),
        ));
    }
    if !overwrite {
        return Err(FileError::status(
            StatusCode::CONFLICT,
            format!("{path} already exists; replace it or choose another name"),
        ));
    }
    Ok(())
}

/// The hidden file beside the destination that an upload's bytes go to until complete.
pub fn part(dir: &str, name: &str) -> String {
    let short: String = name.chars().take(64).collect();
    format!(
        "{}/.{short}.podterm-{:08x}",
        dir.trim_end_matches('/'),
        rand::random::<u32>()
    )
}

/// Removes a part that was not renamed into place.
pub async fn remove(place: &Place, part: &str) {
    let _ = place.runner.output(&["rm", "-f", part]).await;
}

/// The part's time and mode, its rename to `seen`, and what the container says of the copy:
/// its `sha256sum` up to `hash_max` bytes, else its size. On an error the part may remain
/// (`remove` it).
pub async fn settle(
    place: &Place,
    (part, seen): (&str, &str),
    path: &str,
    query: &FilesQuery,
    (bytes, digest, hash_max): (u64, &str, u64),
) -> Result<(Check, Option<bool>), FileError> {
    let hash = bytes <= hash_max;
    if place.via == Via::Shell {
        by_script(place, (part, seen), path, query, (bytes, digest, hash)).await
    } else {
        by_programs(place, (part, seen), path, query).await?;
        Ok(verify(place, seen, (bytes, digest), hash).await)
    }
}

/// `settle` in one exec of `SETTLE`.
async fn by_script(
    place: &Place,
    (part, seen): (&str, &str),
    path: &str,
    query: &FilesQuery,
    (bytes, digest, hash): (u64, &str, bool),
) -> Result<(Check, Option<bool>), FileError> {
    let mtime = query.mtime.map(|t| t.to_string()).unwrap_or_default();
    let executable = if query.executable { "x" } else { "" };
    let hashed = if hash { "h" } else { "" };
    let argv = [
        "sh", "-c", SETTLE, "sh", part, seen, &mtime, executable, hashed,
    ];
    let out = place.run(&argv).await?;
    if out.code == 2 {
        return Err(stderr_failure(&out.stderr, path));
    }
    let said = String::from_utf8_lossy(&out.stdout);
    Ok(match said.strip_prefix("size ") {
        _ if out.code != 0 => (Check::Nothing, None),
        Some(size) => (Check::Size, Some(size.trim().parse() == Ok(bytes))),
        None => (Check::Sha256, Some(agrees(said.as_bytes(), digest))),
    })
}

/// `sha256sum`'s line when it ran and succeeded; `None` when the container has none or it
/// failed, and the size is checked instead, as `SETTLE` does: a missing digest tool is not
/// a corrupted file.
fn digest_line(ran: Result<Output, RunError>) -> Option<Vec<u8>> {
    ran.ok().filter(|out| out.code == 0).map(|out| out.stdout)
}

/// Whether a `sha256sum` line gives `digest`. GNU's starts the line with `\` when the name
/// holds a newline or a backslash.
fn agrees(line: &[u8], digest: &str) -> bool {
    line.strip_prefix(b"\\")
        .unwrap_or(line)
        .starts_with(digest.as_bytes())
}

/// `settle`'s time, mode and rename, one program each.
async fn by_programs(
    place: &Place,
    (part, seen): (&str, &str),
    path: &str,
    query: &FilesQuery,
) -> Result<(), FileError> {
    if let Some(mtime) = query.mtime {
        // Only a nicety: a container whose touch cannot set times keeps the upload's.
        let _ = place
            .runner
            .output(&["touch", "-c", "-d", &format!("@{mtime}"), part])
            .await;
    }
    if query.executable {
        place.run_ok(&["chmod", "+x", part], path).await?;
    }
    place.run_ok(&["mv", "-f", part, seen], path).await?;
    Ok(())
}

/// `settle`'s check of the copy, one program each.
async fn verify(
    place: &Place,
    seen: &str,
    (bytes, digest): (u64, &str),
    hash: bool,
) -> (Check, Option<bool>) {
    if hash && let Some(line) = digest_line(place.runner.output(&["sha256sum", seen]).await) {
        return (Check::Sha256, Some(agrees(&line, digest)));
    }
    match place.runner.output(&["stat", "-c", "%s", seen]).await {
        Ok(out) if out.code == 0 => {
            let size = String::from_utf8_lossy(&out.stdout).trim().parse().ok();
            (Check::Size, Some(size == Some(bytes)))
        }
        _ => (Check::Nothing, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256sum_lines_of_busybox_and_gnu_agree() {
        assert!(agrees(b"abc12  /tmp/a\n", "abc12"));
        assert!(agrees(b"\\abc12  /tmp/a\\nb\n", "abc12"));
        assert!(!agrees(b"abd12  /tmp/a\n", "abc12"));
    }

    /// Runs `SETTLE` here, hashing, with `sha256sum` as `tool` says (a script, or none).
    fn settle_here(tool: Option<&str>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for program in ["mv", "stat"] {
            let found = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| std::path::Path::new(d).join(program))
                .find(|p| p.exists())
                .unwrap();
            std::os::unix::fs::symlink(found, bin.join(program)).unwrap();
        }
        if let Some(script) = tool {
            use std::os::unix::fs::PermissionsExt;
            let tool = bin.join("sha256sum");
            std::fs::write(&tool, format!("#!/bin/sh\n{script}\n")).unwrap();
            std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let part = dir.path().join(".part");
        let seen = dir.path().join("file");
        std::fs::write(&part, b"hello").unwrap();
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", SETTLE, "sh"])
            .args([&part, &seen])
            .args(["", "", "h"])
            .env("PATH", &bin)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// With `sha256sum` missing or failing, both ways of settling check the size.
    #[test]
    fn without_a_working_sha256sum_the_size_is_checked_both_ways() {
        assert_eq!(settle_here(None), "size 5\n");
        assert_eq!(settle_here(Some("exit 1")), "size 5\n");
        assert_eq!(
            settle_here(Some("echo abc12  \"$1\""))
                .split_whitespace()
                .next(),
            Some("abc12")
        );

        let ran = |code: i32| {
            Ok(Output {
                code,
                stdout: b"abc12  /tmp/a\n".to_vec(),
                stderr: String::new(),
                cut: false,
            })
        };
        assert_eq!(
            digest_line(Err(RunError::Missing("sha256sum".into()))),
            None
        );
        assert_eq!(digest_line(ran(1)), None);
        assert_eq!(
            digest_line(ran(0)).as_deref(),
            Some(&b"abc12  /tmp/a\n"[..])
        );
    }
}
