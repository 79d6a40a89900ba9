//! `GET …/list?path=`: a directory's entries, from `find -print0` (names exactly, newlines
//! and all) and `stat` of them in batches; `stat` prints each name back, so an entry gone
//! between the two is skipped rather than misread.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::reach::{Place, reach};
use super::{FileError, checked, stderr_failure};
use crate::files::{EntryKind, FileEntry, FilesQuery, Listing, MAX_ENTRIES, clean_path};
use crate::server::AppState;
use crate::server::web::identity::Caller;

/// Argument bytes per `stat` (they travel in the exec request's URL).
const BATCH_BYTES: usize = 48 * 1024;
/// Separates `stat`'s fields from the names it prints back.
const SEP: char = '\u{1f}';
/// Ends each entry's line (a name or a link's target may hold newlines).
const END: &str = "\u{1e}\n";
/// Mode, size, time, owner, group, the name, and the name with a link's target.
const FORMAT: &str = "%f %s %Y %U %G\u{1f}%n\u{1f}%N\u{1e}";

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    let place = (namespace.as_str(), pod.as_str(), container.as_str());
    match list(&state, &caller, place, query).await {
        Ok(listing) => {
            let mut response = Json(listing).into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    (namespace, pod, container): (&str, &str, &str),
    query: FilesQuery,
) -> Result<Listing, FileError> {
    let cluster = checked(
        state,
        caller,
        (namespace, pod, container),
        query.context.as_deref(),
    )
    .await?;
    let place = reach(state, caller, &cluster, namespace, pod, container).await?;
    let path = match &query.path {
        Some(path) => clean_path(path).map_err(FileError::bad)?,
        None => super::cwd::working_dir(&place).await,
    };
    read_dir(&place, &path).await
}

/// The entries of `path` (absolute in the container).
pub async fn read_dir(place: &Place, path: &str) -> Result<Listing, FileError> {
    let seen = place.real(path, true).await?;
    let start = format!("{}/.", seen.trim_end_matches('/'));
    let found = place
        .run(&[
            "find",
            &start,
            "-mindepth",
            "1",
            "-maxdepth",
            "1",
            "-print0",
        ])
        .await?;
    if found.code != 0 && found.stdout.is_empty() {
        return Err(stderr_failure(&found.stderr, path));
    }
    let mut names: Vec<String> = found
        .stdout
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let truncated = found.cut || names.len() > MAX_ENTRIES;
    names.truncate(MAX_ENTRIES);
    let mut entries = Vec::with_capacity(names.len());
    for batch in batches(&names) {
        let mut argv = vec!["stat", "-c", FORMAT];
        argv.extend(batch.iter().map(String::as_str));
        let out = place.run(&argv).await?;
        entries.extend(parse(&String::from_utf8_lossy(&out.stdout), batch, &start));
    }
    entries.sort_by(|a, b| {
        (a.kind != EntryKind::Dir)
            .cmp(&(b.kind != EntryKind::Dir))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Listing {
        path: path.to_string(),
        via: place.via,
        entries,
        truncated,
    })
}

fn batches(names: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, name) in names.iter().enumerate() {
        if bytes + name.len() > BATCH_BYTES && i > from {
            out.push(&names[from..i]);
            (from, bytes) = (i, 0);
        }
        bytes += name.len() + 1;
    }
    if from < names.len() {
        out.push(&names[from..]);
    }
    out
}

/// Reads `stat`'s lines for `asked`, in order; an entry without its line is skipped.
fn parse(output: &str, asked: &[String], start: &str) -> Vec<FileEntry> {
    let mut entries = Vec::new();
    let mut rest = output;
    for path in asked {
        let Some((fields, after)) = rest.split_once(SEP) else {
            break;
        };
        let Some(after) = after.strip_prefix(path.as_str()) else {
            continue;
        };
        let Some(after) = after.strip_prefix(SEP) else {
            continue;
        };
        let (quoted, next) = after.split_once(END).unwrap_or((after, ""));
        rest = next;
        let name = path
            .strip_prefix(start)
            .map(|n| n.trim_start_matches('/'))
            .unwrap_or(path);
        if let Some(entry) = entry(fields, name, quoted, path) {
            entries.push(entry);
        }
    }
    entries
}

fn entry(fields: &str, name: &str, quoted: &str, path: &str) -> Option<FileEntry> {
    let fields: Vec<&str> = fields.split(' ').collect();
    let [mode, size, modified, owner, group] = fields[..] else {
        return None;
    };
    let raw = u32::from_str_radix(mode, 16).ok()?;
    let kind = match raw & 0o170000 {
        0o040000 => EntryKind::Dir,
        0o100000 => EntryKind::File,
        0o120000 => EntryKind::Link,
        _ => EntryKind::Other,
    };
    let link = (kind == EntryKind::Link)
        .then(|| link_target(quoted, path))
        .flatten();
    Some(FileEntry {
        name: name.to_string(),
        kind,
        size: size.parse().unwrap_or(0),
        mode: mode_text(raw),
        owner: owner.to_string(),
        group: group.to_string(),
        modified: modified.parse().unwrap_or(0),
        link,
    })
}

/// `'PATH' -> 'TARGET'` as busybox and coreutils quote plain names; others are left out.
fn link_target(quoted: &str, path: &str) -> Option<String> {
    let rest = quoted.strip_prefix(&format!("'{path}' -> "))?;
    let target = rest
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| rest.strip_prefix('"').and_then(|t| t.strip_suffix('"')))?;
    Some(target.to_string())
}

/// `-rwxr-x---` from a raw mode, setuid, setgid and sticky bits included.
pub fn mode_text(raw: u32) -> String {
    let kind = match raw & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    };
    let mut out = String::with_capacity(10);
    out.push(kind);
    let special = [(0o4000, 's'), (0o2000, 's'), (0o1000, 't')];
    for (i, shift) in [6, 3, 0].into_iter().enumerate() {
        let bits = (raw >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        let (flag, letter) = special[i];
        out.push(match (bits & 1 != 0, raw & flag != 0) {
            (true, true) => letter,
            (false, true) => letter.to_ascii_uppercase(),
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_as_ls_writes_them() {
        assert_eq!(mode_text(0o100644), "-rw-r--r--");
        assert_eq!(mode_text(0o40755), "drwxr-xr-x");
        assert_eq!(mode_text(0o41777), "drwxrwxrwt");
        assert_eq!(mode_text(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_text(0o120777), "lrwxrwxrwx");
    }

    #[test]
    fn stat_lines_are_matched_to_the_names_asked() {
        let start = "/tmp/.";
        let asked = vec![
            "/tmp/./a b".to_string(),
            "/tmp/./gone".to_string(),
            "/tmp/./new\nline".to_string(),
            "/tmp/./l".to_string(),
        ];
        let out = "81a4 5 1700000000 root root\u{1f}/tmp/./a b\u{1f}'/tmp/./a b'\u{1e}\n\
                   81a4 0 1 1000 1000\u{1f}/tmp/./new\nline\u{1f}'/tmp/./new\nline'\u{1e}\n\
                   a1ff 7 2 root root\u{1f}/tmp/./l\u{1f}'/tmp/./l' -> '/etc/x'\u{1e}\n";
        let entries = parse(out, &asked, start);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a b", "new\nline", "l"]);
        assert_eq!(entries[0].size, 5);
        assert_eq!(entries[0].mode, "-rw-r--r--");
        assert_eq!(entries[1].owner, "1000");
        assert_eq!(entries[2].kind, EntryKind::Link);
        assert_eq!(entries[2].link.as_deref(), Some("/etc/x"));
    }

    #[test]
    fn batches_keep_every_name_once() {
        let names: Vec<String> = (0..3000).map(|i| format!("/d/./{i:0>40}")).collect();
        let batches = batches(&names);
        assert!(batches.len() > 1);
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 3000);
    }
}
