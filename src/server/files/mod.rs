//! Files in and out of a container, for anyone who may exec there: list a directory,
//! download a file or a folder (`.tar.gz`), upload a file, find the shell's directory.
//! Every transfer is a second, non-interactive exec of single programs with paths as
//! arguments (`reach` decides where they run), streamed both ways: podterm never holds a
//! whole file. The routes are `/api/files/NS/POD/CONTAINER/{list,download,upload,cwd}`.

mod begin;
mod cwd;
mod digest;
mod download;
mod feed;
mod listing;
mod reach;
mod run;
mod stat;
mod steps;
mod tarball;
mod upload;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};

use crate::protocol::ErrorReason;
use crate::server::AppState;
use crate::server::web::identity::Caller;

pub use reach::Ways;

/// The operator's settings for transfers, and what is remembered between them.
pub struct Transfers {
    /// The largest file one upload or download may move.
    pub max_bytes: u64,
    /// Transfers one person may run at once.
    pub per_user: usize,
    /// The largest upload whose copy the container hashes; larger ones have their size
    /// checked.
    pub hash_max: u64,
    ways: Ways,
    running: std::sync::Mutex<crate::server::tally::Tally<String>>,
}

impl Transfers {
    pub fn new(max_bytes: u64, per_user: usize, hash_max: u64) -> Self {
        Self {
            max_bytes,
            per_user,
            hash_max,
            ways: Ways::default(),
            running: Default::default(),
        }
    }

    /// Counts a transfer against the person's limit while the slot lives.
    pub fn admit(self: &std::sync::Arc<Self>, user: &str) -> Result<Slot, FileError> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.of(user) >= self.per_user {
            return Err(FileError::new(
                ErrorReason::TooMany,
                format!(
                    "you already have {} transfers running, the most allowed at once; wait for one to finish",
                    self.per_user
                ),
            ));
        }
        running.add(Some(user.to_string()));
        Ok(Slot {
            transfers: self.clone(),
            user: user.to_string(),
        })
    }
}

/// A running transfer, counted until dropped.
pub struct Slot {
    transfers: std::sync::Arc<Transfers>,
    user: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self
            .transfers
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        running.remove(Some(&self.user));
    }
}

pub fn routes() -> Router<AppState> {
    let base = "/api/files/{namespace}/{pod}/{container}";
    Router::new()
        .route(&format!("{base}/list"), get(listing::handler))
        .route(&format!("{base}/download"), get(download::handler))
        .route(&format!("{base}/upload"), put(upload::handler))
        .route(&format!("{base}/cwd"), get(cwd::handler))
}

/// A refusal, in words for the person, with its HTTP status.
#[derive(Debug)]
pub struct FileError {
    pub status: StatusCode,
    pub message: String,
}

impl FileError {
    pub fn new(reason: ErrorReason, message: impl Into<String>) -> Self {
        let status = match reason {
            ErrorReason::BadRequest | ErrorReason::NotRunning => StatusCode::BAD_REQUEST,
            ErrorReason::Forbidden => StatusCode::FORBIDDEN,
            ErrorReason::NotFound => StatusCode::NOT_FOUND,
            ErrorReason::Unreachable => StatusCode::BAD_GATEWAY,
            ErrorReason::TooMany => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::status(status, message)
    }

    pub fn status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Self::status(StatusCode::BAD_REQUEST, message)
    }

    /// The same refusal, said after what was being tried.
    pub fn context(mut self, doing: &str) -> Self {
        self.message = format!("{doing}: {}", self.message);
        self
    }
}

impl IntoResponse for FileError {
    fn into_response(self) -> Response {
        no_store((self.status, self.message).into_response())
    }
}

/// Asks every cache, the browser's included, to keep no copy of the answer (a container's
/// files and names): every answer of these routes carries it.
pub(super) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// What a program's error says about `path`, as a refusal with the right status.
pub fn stderr_failure(stderr: &str, path: &str) -> FileError {
    let said = telling_line(stderr);
    let (status, what) = if said.contains("No such file") {
        (
            StatusCode::NOT_FOUND,
            format!("there is no {path} in the container"),
        )
    } else if said.contains("Permission denied") || said.contains("Operation not permitted") {
        (
            StatusCode::FORBIDDEN,
            format!("the container's user may not do this with {path} (Permission denied)"),
        )
    } else if said.contains("Read-only file system") {
        (
            StatusCode::FORBIDDEN,
            format!("{path} is on a read-only file system in the container"),
        )
    } else if said.contains("No space left") || said.contains("Disk quota") {
        (
            StatusCode::INSUFFICIENT_STORAGE,
            format!("the container ran out of space writing {path}"),
        )
    } else if said.contains("Not a directory") {
        (
            StatusCode::BAD_REQUEST,
            format!("a part of {path} is a file, not a folder"),
        )
    } else if said.contains("Is a directory") {
        (StatusCode::CONFLICT, format!("{path} is a folder"))
    } else if said.is_empty() {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the container could not do this with {path} and said nothing about why"),
        )
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the container could not do this with {path}: {said}"),
        )
    };
    FileError::status(status, what)
}

/// The line of a program's errors that says what went wrong (`dd` ends with its counts).
fn telling_line(stderr: &str) -> &str {
    let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.contains(": "))
        .or_else(|| lines().next_back())
        .unwrap_or("")
}

/// Why a write into `dir` failed, saying what to do next.
pub fn write_failure(stderr: &str, dir: &str) -> FileError {
    let said = telling_line(stderr);
    let (status, what) = if said.contains("Permission denied") {
        (
            StatusCode::FORBIDDEN,
            format!(
                "the container's user may not write in {dir} (Permission denied); choose a folder it owns, such as /tmp"
            ),
        )
    } else if said.contains("Read-only file system") {
        (
            StatusCode::FORBIDDEN,
            format!("{dir} is on a read-only file system in the container; choose another folder"),
        )
    } else if said.contains("No space left") || said.contains("Disk quota") {
        (
            StatusCode::INSUFFICIENT_STORAGE,
            format!(
                "the container ran out of space in {dir}; nothing was kept. Free some space or choose another folder"
            ),
        )
    } else {
        return stderr_failure(stderr, dir);
    };
    FileError::status(status, what)
}

/// One transfer's audit line, written when it ends however it ends.
pub struct Audited {
    audit: std::sync::Arc<crate::server::trail::audit::Audit>,
    user: String,
    groups: Vec<String>,
    from: String,
    context: String,
    place: [String; 3],
    direction: &'static str,
    path: String,
}

impl Audited {
    pub fn new(
        state: &AppState,
        caller: &Caller,
        target: &crate::model::Target,
        direction: &'static str,
        path: &str,
    ) -> Self {
        Self {
            audit: state.audit.clone(),
            user: caller.identity.name().to_string(),
            groups: caller.identity.groups().to_vec(),
            from: caller.from.clone(),
            context: target.context.clone().unwrap_or_default(),
            place: [
                target.namespace.clone(),
                target.pod.clone(),
                target.container.clone(),
            ],
            direction,
            path: path.to_string(),
        }
    }

    pub fn record(&self, bytes: u64, sha256: &str, result: &str) {
        let [namespace, pod, container] = &self.place;
        self.audit
            .file_transferred(&crate::server::trail::audit::TransferFacts {
                user: &self.user,
                groups: &self.groups,
                from: &self.from,
                context: &self.context,
                namespace,
                pod,
                container,
                direction: self.direction,
                path: &self.path,
                bytes,
                sha256,
                result,
            });
    }

    /// Ends a download: its line in the trail, and a failure passed to the browser as a
    /// broken body (the headers are sent already).
    pub async fn finish(
        self,
        result: Result<download::Moved, FileError>,
        tx: &tokio::sync::mpsc::Sender<Result<axum::body::Bytes, std::io::Error>>,
    ) {
        match result {
            Ok(moved) => self.record(moved.bytes, &moved.sha256, "ok"),
            Err(e) => {
                self.record(0, "", &e.message);
                let _ = tx.send(Err(std::io::Error::other(e.message))).await;
            }
        }
    }
}

impl From<crate::server::cluster::kube_errors::Failure> for FileError {
    fn from(f: crate::server::cluster::kube_errors::Failure) -> Self {
        FileError::new(f.reason, f.message)
    }
}
