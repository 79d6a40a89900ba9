//! `PUT …/upload?path=`: the request's body into a file in the container. It goes to a
//! hidden file beside the destination first (`dd of=`), which is renamed into place only
//! once complete, so a cancelled or failed upload leaves nothing behind; then the
//! container's `sha256sum` is compared with the digest of the bytes podterm relayed.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{FutureExt, StreamExt};

use super::begin::{Use, begin, target};
use super::digest::Digest;
use super::download::too_large;
use super::reach::Place;
use super::run::RunError;
use super::steps;
use super::{Audited, FileError, Transfers, no_store, write_failure};
use crate::files::{Check, FilesQuery, Uploaded, base_name, check_name, clean_path, parent};
use crate::model::Target;
use crate::server::AppState;
use crate::server::web::identity::Caller;

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(names): Path<(String, String, String)>,
    Query(query): Query<FilesQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let target = target(names, &query);
    match upload(&state, &caller, target, query, &headers, body).await {
        Ok(uploaded) => no_store(Json(uploaded).into_response()),
        Err(e) => e.into_response(),
    }
}

async fn upload(
    state: &AppState,
    caller: &Caller,
    target: Target,
    query: FilesQuery,
    headers: &HeaderMap,
    body: Body,
) -> Result<Uploaded, FileError> {
    let path = clean_path(query.path.as_deref().unwrap_or(""))
        .map_err(|e| FileError::bad(format!("where to? {e}")))?;
    let name = base_name(&path).to_string();
    check_name(&name).map_err(FileError::bad)?;
    let length: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let max = state.files.max_bytes;
    if let Some(length) = length.filter(|l| *l > max) {
        return Err(too_large(&name, length, max));
    }
    let begun = begin(state, caller, &target, Use::Transfer).await?;
    let audited = Audited::new(state, caller, &begun.target, "upload", &path);
    let result = write(
        &begun.place,
        &path,
        &name,
        &query,
        length,
        &state.files,
        body,
    )
    .await;
    match &result {
        Ok(up) => audited.record(up.bytes, &up.sha256, verdict(up.checked, up.verified)),
        Err(e) => audited.record(0, "", &e.message),
    }
    result
}

fn verdict(checked: Check, verified: Option<bool>) -> &'static str {
    match (checked, verified) {
        (Check::Sha256, Some(true)) => "ok, verified",
        (Check::Sha256, _) => "ok, digest differs",
        (Check::Size, Some(true)) => "ok, size checked",
        (Check::Size, _) => "ok, size differs",
        (Check::Nothing, _) => "ok, not verified",
    }
}

async fn write(
    place: &Place,
    path: &str,
    name: &str,
    query: &FilesQuery,
    length: Option<u64>,
    limits: &Transfers,
    body: Body,
) -> Result<Uploaded, FileError> {
    let dir = place.real(parent(path), true).await?;
    let seen = format!("{}/{name}", dir.trim_end_matches('/'));
    steps::prepare(place, (&seen, &dir), path, query.overwrite).await?;
    let part = steps::part(&dir, name);
    let moved = async {
        let (bytes, sha256) = relay(place, &part, path, length, limits.max_bytes, body).await?;
        let checks = (bytes, sha256.as_str(), limits.hash_max);
        let (checked, verified) = steps::settle(place, (&part, &seen), path, query, checks).await?;
        Ok(Uploaded {
            path: path.to_string(),
            bytes,
            sha256,
            checked,
            verified,
            via: place.via,
        })
    };
    // However it failed, the hidden part goes; once renamed, there is none.
    let moved = moved.await;
    if moved.is_err() {
        steps::remove(place, &part).await;
    }
    moved
}

/// The body into `dd of=PART`, counted and hashed; the bytes and their digest.
async fn relay(
    place: &Place,
    part: &str,
    path: &str,
    length: Option<u64>,
    max: u64,
    body: Body,
) -> Result<(u64, String), FileError> {
    let of = format!("of={part}");
    let mut feed = place
        .runner
        .feed(&["dd", &of, "bs=65536"])
        .await
        .map_err(|e| place.run_error(e))?
        .ok_or_else(too_old)?;
    let mut stream = body.into_data_stream();
    let digest = Digest::start();
    let mut bytes = 0u64;
    let mut broken: Option<FileError> = None;
    let mut stopped = false;
    loop {
        // What the client has sent goes out in large frames; a pause sends what waits.
        let next = match stream.next().now_or_never() {
            Some(next) => next,
            None => {
                if feed.flush().await.is_err() {
                    stopped = true;
                    break;
                }
                stream.next().await
            }
        };
        let chunk = match next {
            None => break,
            Some(Ok(chunk)) => chunk,
            Some(Err(_)) => {
                broken = Some(FileError::bad("the upload was cancelled"));
                break;
            }
        };
        bytes += chunk.len() as u64;
        if bytes > max {
            broken = Some(too_large(path, bytes, max));
            break;
        }
        digest.update(chunk.clone()).await;
        // A program that ended early (a full disk, a deleted pod) says why at `close`.
        if feed.write(&chunk).await.is_err() {
            stopped = true;
            break;
        }
    }
    if !stopped && broken.is_none() && length.is_some_and(|l| l != bytes) && bytes <= max {
        broken = Some(FileError::bad("the upload was cancelled"));
    }
    if let Some(e) = broken {
        feed.abort().await;
        return Err(e);
    }
    match feed.close().await {
        Ok(e) if e.code == 0 && length.is_none_or(|l| l == bytes) => {
            Ok((bytes, digest.finish().await))
        }
        Ok(e) if e.code == 0 => Err(FileError::bad(
            "the container stopped reading the upload before its end",
        )),
        Ok(e) if e.code == 137 || e.code == 143 => Err(FileError::status(
            StatusCode::CONFLICT,
            format!(
                "the writing program was killed (exit code {}): the pod or container may have been stopped or deleted; nothing was kept",
                e.code
            ),
        )),
        Ok(e) => Err(write_failure(&e.stderr, parent(path))),
        Err(RunError::Missing(p)) => Err(FileError::bad(format!(
            "the container has no {p} to write files with"
        ))),
        Err(e) => Err(place.run_error(e)),
    }
}

fn too_old() -> FileError {
    FileError::status(
        StatusCode::NOT_IMPLEMENTED,
        "this cluster's API server cannot end a program's input (it lacks the v5 exec protocol of Kubernetes 1.30); upgrade it to upload files",
    )
}
