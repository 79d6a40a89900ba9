//! `GET …/cwd?session=`: where a drop onto a terminal goes by default: the directory of the
//! newest process of the person's session (found by the session's mark, as the reaper
//! finds them), else the container's working directory.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::begin::{Begun, Use, begin, target};
use super::reach::Place;
use super::{FileError, no_store};
use crate::files::{Cwd, FilesQuery, Via, clean_path};
use crate::model::Target;
use crate::server::AppState;
use crate::server::web::identity::Caller;

/// Prints `PID\0DIR\0` for each process carrying the session's mark.
const MARKED_DIRS: &str = r#"mark="PODTERM_SESSION=$1"
for d in /proc/[0-9]*; do
  if grep -qxzF "$mark" "$d/environ" 2>/dev/null; then
    dir=$(readlink "$d/cwd" 2>/dev/null) && printf '%s\0%s\0' "${d#/proc/}" "$dir"
  fi
done"#;

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(names): Path<(String, String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    let target = target(names, &query);
    match cwd(&state, &caller, &target, query.session.as_deref()).await {
        Ok(cwd) => no_store(Json(cwd).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn cwd(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    session: Option<&str>,
) -> Result<Cwd, FileError> {
    let Begun { place, target, .. } = begin(state, caller, target, Use::Look).await?;
    let owned = session.filter(|id| {
        state
            .sessions
            .belongs(id, &caller.identity.cache_key(), &target)
    });
    if let Some(id) = owned
        && place.via == Via::Shell
        && let Some(path) = shell_dir(&place, id).await
    {
        return Ok(Cwd {
            path,
            from_shell: true,
        });
    }
    Ok(Cwd {
        path: working_dir(&place).await,
        from_shell: false,
    })
}

/// The directory of the session's newest marked process.
async fn shell_dir(place: &Place, session: &str) -> Option<String> {
    let out = place
        .run(&["sh", "-c", MARKED_DIRS, "podterm-cwd", session])
        .await
        .ok()?;
    let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    fields
        .chunks(2)
        .filter_map(|pair| match pair {
            [pid, dir] => Some((
                std::str::from_utf8(pid).ok()?.parse::<u32>().ok()?,
                String::from_utf8(dir.to_vec()).ok()?,
            )),
            _ => None,
        })
        .max_by_key(|(pid, _)| *pid)
        .and_then(|(_, dir)| clean_path(&dir).ok())
}

/// Where an exec starts in the container (its image's or spec's working directory); `/`
/// when that cannot be learnt (through a debug container, whose own it would be).
pub async fn working_dir(place: &Place) -> String {
    if place.via == Via::Debug {
        return "/".into();
    }
    match place.run(&["pwd"]).await {
        Ok(out) if out.code == 0 => clean_path(String::from_utf8_lossy(&out.stdout).trim_end())
            .unwrap_or_else(|_| "/".into()),
        _ => "/".into(),
    }
}
