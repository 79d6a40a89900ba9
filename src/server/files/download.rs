//! `GET …/download?path=`: a file as it is, or a folder as a `.tar.gz` (the container's
//! `tar`, or one podterm writes from `find` and `cat` when it has none; links are kept as
//! links either way, never followed out of the tree). Streamed through a small channel: a
//! browser that stops reading stops the container's program.

use super::digest::Digest;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use kube::api::AttachedProcess;
use std::io::Write;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use super::begin::{Use, begin, target};
use super::reach::Place;
use super::run::RunError;
use super::{Audited, FileError, no_store, stderr_failure};
use crate::files::{FilesQuery, base_name, clean_path, parent};
use crate::model::Target;
use crate::server::AppState;
use crate::server::web::identity::Caller;

/// What is read from the container at a time.
pub const CHUNK: usize = 64 * 1024;

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(names): Path<(String, String, String)>,
    Query(query): Query<FilesQuery>,
) -> Response {
    let target = target(names, &query);
    match download(&state, &caller, target, query.path.as_deref()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn download(
    state: &AppState,
    caller: &Caller,
    target: Target,
    path: Option<&str>,
) -> Result<Response, FileError> {
    let path =
        clean_path(path.unwrap_or("")).map_err(|e| FileError::bad(format!("which file? {e}")))?;
    let begun = begin(state, caller, &target, Use::Transfer).await?;
    let place = &begun.place;
    let seen = place.real(&path, true).await?;
    let out = place.run_ok(&["stat", "-c", "%f %s", &seen], &path).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (mode, size) = text.trim().split_once(' ').unwrap_or(("0", "0"));
    let mode = u32::from_str_radix(mode, 16).unwrap_or(0);
    let size: u64 = size.parse().unwrap_or(0);
    let audited = Audited::new(state, caller, &begun.target, "download", &path);
    let max = state.files.max_bytes;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let name = match base_name(&path) {
        "" => "root",
        name => name,
    };
    let (content_type, file_name, length) = match mode & 0o170000 {
        0o100000 => {
            if size > max {
                return Err(too_large(&path, size, max));
            }
            tokio::spawn(async move {
                let result = send_file(&begun.place, &seen, size, &tx).await;
                audited.finish(result, &tx).await;
                drop(begun); // its slot counted the transfer until here
            });
            ("application/octet-stream", name.to_string(), Some(size))
        }
        0o040000 => {
            tokio::spawn(async move {
                let result = send_folder(&begun.place, &seen, max, &tx).await;
                audited.finish(result, &tx).await;
                drop(begun); // its slot counted the transfer until here
            });
            ("application/gzip", format!("{name}.tar.gz"), None)
        }
        _ => {
            return Err(FileError::bad(format!(
                "{path} is neither a file nor a folder (a device, pipe or socket); podterm downloads files and folders"
            )));
        }
    };
    let stream = tokio_stream_from(rx);
    let mut response = no_store((StatusCode::OK, Body::from_stream(stream)).into_response());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    if let Ok(value) = HeaderValue::from_str(&disposition(&file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

pub fn too_large(path: &str, size: u64, max: u64) -> FileError {
    FileError::status(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "{path} is {} and this podterm moves at most {} at a time; ask its operator to raise --max-transfer-bytes",
            human(size),
            human(max)
        ),
    )
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// What a transfer moved, for the trail.
pub struct Moved {
    pub bytes: u64,
    pub sha256: String,
}

/// Sends the file's bytes as `cat` reads them: exactly `size` (the size when asked; a file
/// that grows meanwhile is cut there, one that shrinks fails the download).
async fn send_file(
    place: &Place,
    seen: &str,
    size: u64,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<Moved, FileError> {
    let mut sending = Sending {
        tx,
        digest: Digest::start(),
    };
    let sent = cat(place, seen, size, &mut sending).await?;
    if sent < size {
        return Err(FileError::bad(format!(
            "{} shrank while it was being read; try again",
            place.shown(seen)
        )));
    }
    Ok(Moved {
        bytes: sent,
        sha256: sending.digest.finish().await,
    })
}

/// Where `cat` puts a file's bytes.
pub(super) trait Chunks {
    /// Takes a chunk; an error stops `cat`.
    async fn take(&mut self, chunk: &[u8]) -> Result<(), FileError>;
}

/// A file's bytes on their way to the browser, hashed as sent.
struct Sending<'a> {
    tx: &'a mpsc::Sender<Result<Bytes, std::io::Error>>,
    digest: Digest,
}

impl Chunks for Sending<'_> {
    async fn take(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        let chunk = Bytes::copy_from_slice(chunk);
        self.digest.update(chunk.clone()).await;
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| FileError::bad("the download was cancelled"))
    }
}

impl Chunks for Gzip<'_> {
    async fn take(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        self.write(chunk).await
    }
}

/// Reads at most `size` bytes of a file with `cat` into `out`; fewer (how many is the
/// answer) when the file shrank meanwhile.
pub(super) async fn cat(
    place: &Place,
    seen: &str,
    size: u64,
    out: &mut impl Chunks,
) -> Result<u64, FileError> {
    let mut process = place
        .runner
        .start(&["cat", seen])
        .await
        .map_err(|e| place.run_error(e))?;
    let mut stdout = process.stdout().expect("asked for stdout");
    let mut buf = vec![0u8; CHUNK];
    let mut read = 0u64;
    while read < size {
        let want = CHUNK.min((size - read) as usize);
        let n = match stdout.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Err(e) = out.take(&buf[..n]).await {
            process.abort();
            return Err(e);
        }
        read += n as u64;
    }
    drop(stdout);
    if read < size {
        match place.runner.finish("cat", &mut process).await {
            Ok(e) if e.code != 0 => return Err(stderr_failure(&e.stderr, place.shown(seen))),
            Err(e) => return Err(place.run_error(e)),
            Ok(_) => {}
        }
    }
    process.abort();
    Ok(read)
}

/// Sends the folder as a gzipped tar, from the container's `tar` or, without one, written
/// by podterm.
async fn send_folder(
    place: &Place,
    seen: &str,
    max: u64,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<Moved, FileError> {
    let mut out = Gzip::new(tx, max);
    let name = format!("./{}", base_name(seen));
    let dir = parent(seen);
    let argv = if base_name(seen).is_empty() {
        vec!["tar", "-c", "-f", "-", "-C", seen, "."]
    } else {
        vec!["tar", "-c", "-f", "-", "-C", dir, name.as_str()]
    };
    let ended = match place.runner.start(&argv).await {
        Ok(mut process) => {
            pipe(&mut process, &mut out).await?;
            place.runner.finish("tar", &mut process).await
        }
        Err(e) => Err(e),
    };
    match ended {
        Ok(e) if e.code == 0 => out.finish().await,
        Ok(e) => Err(stderr_failure(&e.stderr, place.shown(seen))),
        Err(RunError::Missing(_)) => {
            super::tarball::write(place, seen, &mut out).await?;
            out.finish().await
        }
        Err(e) => Err(place.run_error(e)),
    }
}

/// The program's output into `out`, until its end or `out`'s refusal (which stops it).
async fn pipe(process: &mut AttachedProcess, out: &mut Gzip<'_>) -> Result<(), FileError> {
    let mut stdout = process.stdout().expect("asked for stdout");
    let mut buf = vec![0u8; CHUNK];
    loop {
        match stdout.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(()),
            Ok(n) => {
                if let Err(e) = out.write(&buf[..n]).await {
                    process.abort();
                    return Err(e);
                }
            }
        }
    }
}

/// The gzip stream of a folder on its way to the browser, counted and hashed as sent.
pub struct Gzip<'a> {
    encoder: GzEncoder<Vec<u8>>,
    tx: &'a mpsc::Sender<Result<Bytes, std::io::Error>>,
    digest: Digest,
    sent: u64,
    read: u64,
    max: u64,
}

impl<'a> Gzip<'a> {
    fn new(tx: &'a mpsc::Sender<Result<Bytes, std::io::Error>>, max: u64) -> Self {
        Self {
            encoder: GzEncoder::new(Vec::with_capacity(CHUNK), Compression::fast()),
            tx,
            digest: Digest::start(),
            sent: 0,
            read: 0,
            max,
        }
    }

    /// Adds tar bytes; refuses past the transfer limit.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), FileError> {
        self.read += data.len() as u64;
        if self.read > self.max {
            return Err(too_large("the folder", self.read, self.max));
        }
        let _ = self.encoder.write_all(data);
        if self.encoder.get_ref().len() >= CHUNK {
            let chunk = std::mem::take(self.encoder.get_mut());
            self.send(chunk).await?;
        }
        Ok(())
    }

    async fn send(&mut self, chunk: Vec<u8>) -> Result<(), FileError> {
        let chunk = Bytes::from(chunk);
        self.digest.update(chunk.clone()).await;
        self.sent += chunk.len() as u64;
        self.tx
            .send(Ok(chunk))
            .await
            .map_err(|_| FileError::bad("the download was cancelled"))
    }

    async fn finish(mut self) -> Result<Moved, FileError> {
        let rest = std::mem::replace(
            &mut self.encoder,
            GzEncoder::new(Vec::new(), Compression::fast()),
        )
        .finish()
        .unwrap_or_default();
        self.send(rest).await?;
        Ok(Moved {
            bytes: self.sent,
            sha256: self.digest.finish().await,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_the_header() {
        assert_eq!(
            disposition("a b é\".txt"),
            "attachment; filename=\"a b __.txt\"; filename*=UTF-8''a%20b%20%C3%A9%22.txt"
        );
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human(12), "12 bytes");
        assert_eq!(human(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
