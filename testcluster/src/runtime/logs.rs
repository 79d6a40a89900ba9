//! Container logs as a node keeps them: one file per container instance, one line per
//! line of output in the CRI format (`TIMESTAMP STREAM F|P TEXT`), read back with the
//! kubelet's options (tail, since, timestamps, byte limit, follow).

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc, watch};

/// Longest line written as one record; longer ones are split into `P` records, as
/// containerd does at 16 KiB.
const MAX_RECORD: usize = 16 * 1024;
const READ_CHUNK: usize = 64 * 1024;

/// One instance's log file and what a follower waits on.
pub struct LogFile {
    path: PathBuf,
    file: Mutex<Option<tokio::fs::File>>,
    /// (bytes written, instance ended).
    progress: watch::Sender<(u64, bool)>,
}

/// What a reader asks for (the kubelet's `PodLogOptions`).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub follow: bool,
    pub tail_lines: Option<u64>,
    pub since: Option<Timestamp>,
    pub timestamps: bool,
    pub limit_bytes: Option<u64>,
}

impl LogFile {
    pub async fn create(path: PathBuf) -> io::Result<Arc<Self>> {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let file = tokio::fs::File::create(&path).await?;
        Ok(Arc::new(Self {
            path,
            file: Mutex::new(Some(file)),
            progress: watch::channel((0, false)).0,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds output of one stream; complete lines are written, the rest waits in `pending`.
    pub async fn append_lines(&self, pending: &mut Vec<u8>, chunk: &[u8], stream: &str) {
        pending.extend_from_slice(chunk);
        let records = take_records(pending, stream, false);
        self.append(&records).await;
    }

    /// The stream ended: what is pending is a line of its own.
    pub async fn append_rest(&self, pending: &mut Vec<u8>, stream: &str) {
        let records = take_records(pending, stream, true);
        self.append(&records).await;
    }

    async fn append(&self, records: &[u8]) {
        if records.is_empty() {
            return;
        }
        let mut file = self.file.lock().await;
        let Some(f) = file.as_mut() else { return };
        // Flushed before followers hear of it: tokio's file writes in the background.
        if let Err(e) = async {
            f.write_all(records).await?;
            f.flush().await
        }
        .await
        {
            // A full disk loses log lines, as on a node; the container goes on.
            tracing::warn!(path = %self.path.display(), "writing a log line: {e}");
            return;
        }
        self.progress
            .send_modify(|(len, _)| *len += records.len() as u64);
    }

    /// The instance ended: followers finish once they have read everything.
    pub async fn close(&self) {
        if let Some(mut f) = self.file.lock().await.take() {
            let _ = f.flush().await;
        }
        self.progress.send_modify(|(_, ended)| *ended = true);
    }

    /// Streams the log as the kubelet answers `GET containerLogs`, into a bounded channel:
    /// a reader that stops reading stops the reading here too.
    pub fn read(self: &Arc<Self>, options: ReadOptions) -> mpsc::Receiver<io::Result<Bytes>> {
        let (tx, rx) = mpsc::channel(8);
        let log = self.clone();
        tokio::spawn(async move {
            if let Err(e) = log.send_to(&tx, options).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn send_to(
        &self,
        tx: &mpsc::Sender<io::Result<Bytes>>,
        options: ReadOptions,
    ) -> io::Result<()> {
        let mut progress = self.progress.subscribe();
        let mut file = tokio::fs::File::open(&self.path).await?;
        let mut offset = match options.tail_lines {
            Some(n) => tail_offset(&mut file, n).await?,
            None => 0,
        };
        file.seek(SeekFrom::Start(offset)).await?;
        let mut left = options.limit_bytes;
        let mut carry: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                let (len, ended) = *progress.borrow_and_update();
                if offset < len {
                    continue;
                }
                if ended || !options.follow {
                    return Ok(());
                }
                if progress.changed().await.is_err() {
                    return Ok(());
                }
                continue;
            }
            offset += n as u64;
            carry.extend_from_slice(&buf[..n]);
            let Some(end) = carry.iter().rposition(|b| *b == b'\n') else {
                continue;
            };
            let whole: Vec<u8> = carry.drain(..=end).collect();
            let mut out = render(&whole, &options);
            if let Some(left) = left.as_mut() {
                if out.len() as u64 >= *left {
                    out.truncate(*left as usize);
                    let _ = tx.send(Ok(Bytes::from(out))).await;
                    return Ok(());
                }
                *left -= out.len() as u64;
            }
            if !out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// Cuts the complete lines (all of it at the end) out of `pending` as CRI records.
fn take_records(pending: &mut Vec<u8>, stream: &str, all: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let now = Timestamp::now();
    loop {
        let newline = pending.iter().position(|b| *b == b'\n');
        let (cut, tag) = match newline {
            Some(i) if i <= MAX_RECORD => (i + 1, "F"),
            _ if pending.len() > MAX_RECORD => (MAX_RECORD, "P"),
            None if all && !pending.is_empty() => (pending.len(), "F"),
            _ => break,
        };
        let line: Vec<u8> = pending.drain(..cut).collect();
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        out.extend_from_slice(format!("{now} {stream} {tag} ").as_bytes());
        out.extend_from_slice(text);
        out.push(b'\n');
    }
    out
}

/// Turns CRI records into what the reader sees: the text, a newline for full lines, the
/// timestamp first when asked; records before `since` left out.
fn render(records: &[u8], options: &ReadOptions) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len());
    for record in records.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
        let mut fields = record.splitn(4, |b| *b == b' ');
        let (Some(time), Some(_stream), Some(tag), text) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(time) = std::str::from_utf8(time)
            .ok()
            .and_then(|t| t.parse::<Timestamp>().ok())
        else {
            continue;
        };
        if options.since.is_some_and(|since| time < since) {
            continue;
        }
        if options.timestamps {
            out.extend_from_slice(time.to_string().as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(text.unwrap_or_default());
        if tag == b"F" {
            out.push(b'\n');
        }
    }
    out
}

/// Where the last `n` records start.
async fn tail_offset(file: &mut tokio::fs::File, n: u64) -> io::Result<u64> {
    let len = file.metadata().await?.len();
    if n == 0 {
        return Ok(len);
    }
    let mut pos = len;
    let mut seen = 0u64;
    let mut buf = vec![0u8; READ_CHUNK];
    while pos > 0 {
        let start = pos.saturating_sub(READ_CHUNK as u64);
        let size = (pos - start) as usize;
        file.seek(SeekFrom::Start(start)).await?;
        file.read_exact(&mut buf[..size]).await?;
        for (i, byte) in buf[..size].iter().enumerate().rev() {
            let at = start + i as u64;
            if *byte == b'\n' && at + 1 != len {
                seen += 1;
                if seen == n {
                    return Ok(at + 1);
                }
            }
        }
        pos = start;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_become_partial_records() {
        let mut pending = vec![b'x'; MAX_RECORD + 10];
        pending.extend_from_slice(b"\nshort\nrest");
        let out = String::from_utf8(take_records(&mut pending, "stdout", false)).unwrap();
        let tags: Vec<&str> = out.lines().map(|l| l.split(' ').nth(2).unwrap()).collect();
        assert_eq!(tags, ["P", "F", "F"]);
        assert_eq!(pending, b"rest");
        let rendered = render(out.as_bytes(), &ReadOptions::default());
        assert_eq!(rendered.len(), MAX_RECORD + 10 + 1 + 6);
    }

    #[tokio::test]
    async fn tail_since_timestamps_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = LogFile::create(dir.path().join("0.log")).await.unwrap();
        let mut pending = Vec::new();
        log.append_lines(&mut pending, b"one\ntwo\nthree\nfour", "stdout")
            .await;
        log.append_rest(&mut pending, "stdout").await;
        log.close().await;
        let read = |options: ReadOptions| {
            let log = log.clone();
            async move {
                let mut rx = log.read(options);
                let mut all = Vec::new();
                while let Some(chunk) = rx.recv().await {
                    all.extend_from_slice(&chunk.unwrap());
                }
                String::from_utf8(all).unwrap()
            }
        };
        assert_eq!(
            read(ReadOptions::default()).await,
            "one\ntwo\nthree\nfour\n"
        );
        let tail = ReadOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(read(tail).await, "three\nfour\n");
        let limit = ReadOptions {
            limit_bytes: Some(5),
            ..Default::default()
        };
        assert_eq!(read(limit).await, "one\nt");
        let future = ReadOptions {
            since: Some(Timestamp::now() + jiff::SignedDuration::from_secs(60)),
            ..Default::default()
        };
        assert_eq!(read(future).await, "");
        let stamped = ReadOptions {
            timestamps: true,
            tail_lines: Some(1),
            ..Default::default()
        };
        let line = read(stamped).await;
        let (time, text) = line.split_once(' ').unwrap();
        assert!(time.parse::<Timestamp>().is_ok(), "{line}");
        assert_eq!(text, "four\n");
    }
}
