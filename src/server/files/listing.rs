//! `GET …/list?path=`: a directory's entries, from `find -print0` (names exactly, newlines
//! and all) and `stat` of them in batches; `stat` prints each name back, so an entry gone
//! between the two is skipped rather than misread.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::begin::{Use, begin, target};
use super::reach::Place;
use super::stat::{Stat, stat_all};
use super::{FileError, no_store, stderr_failure};
use crate::files::{EntryKind, FileEntry, FilesQuery, Listing, MAX_ENTRIES, clean_path};
use crate::model::Target;
use crate::server::AppState;
use crate::server::web::identity::Caller;

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(names): Path<(String, String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    match list(&state, &caller, target(names, &query), query.path).await {
        Ok(listing) => no_store(Json(listing).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    target: Target,
    path: Option<String>,
) -> Result<Listing, FileError> {
    let place = begin(state, caller, &target, Use::Look).await?.place;
    let path = match &path {
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
    let mut entries: Vec<FileEntry> = stat_all(place, &names)
        .await?
        .into_iter()
        .map(|stat| entry(stat, &start))
        .collect();
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

fn entry(stat: Stat, start: &str) -> FileEntry {
    let kind = match stat.kind() {
        0o040000 => EntryKind::Dir,
        0o100000 => EntryKind::File,
        0o120000 => EntryKind::Link,
        _ => EntryKind::Other,
    };
    let name = stat
        .path
        .strip_prefix(start)
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or(&stat.path)
        .to_string();
    FileEntry {
        name,
        kind,
        size: stat.size,
        mode: mode_text(stat.mode),
        owner: stat.owner,
        group: stat.group,
        modified: stat.modified,
        link: stat.link,
    }
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
}
