//! A main process's stdio: what it writes goes to the container's log and to every
//! attached client; what attached clients type reaches it (with `stdin: true`).

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::{Mutex, broadcast, watch};

use super::logs::LogFile;
use super::pty::PtyMaster;

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
const CHUNK: usize = 32 * 1024;
/// Output chunks an attached client may fall behind by before it misses some.
const BACKLOG: usize = 1024;

/// The running instance's stdio, for attached clients.
pub struct MainIo {
    output: broadcast::Sender<(u8, Bytes)>,
    stdin: Mutex<Option<ChildStdin>>,
    pty: Option<Arc<PtyMaster>>,
    ended: watch::Sender<bool>,
}

impl MainIo {
    pub fn new(stdin: Option<ChildStdin>, pty: Option<Arc<PtyMaster>>) -> Arc<Self> {
        Arc::new(Self {
            output: broadcast::channel(BACKLOG).0,
            stdin: Mutex::new(stdin),
            pty,
            ended: watch::channel(false).0,
        })
    }

    /// Output from now on, as (stream, bytes).
    pub fn subscribe(&self) -> broadcast::Receiver<(u8, Bytes)> {
        self.output.subscribe()
    }

    /// Changes to true when the instance has ended and its output is all sent.
    pub fn ended(&self) -> watch::Receiver<bool> {
        self.ended.subscribe()
    }

    pub fn pty(&self) -> Option<Arc<PtyMaster>> {
        self.pty.clone()
    }

    pub fn tty(&self) -> bool {
        self.pty.is_some()
    }

    /// Typed input; dropped when the main process reads no stdin.
    pub async fn write(&self, data: &[u8]) {
        if let Some(pty) = &self.pty {
            let _ = pty.write_all(data).await;
            return;
        }
        let mut stdin = self.stdin.lock().await;
        if let Some(pipe) = stdin.as_mut()
            && pipe.write_all(data).await.is_err()
        {
            *stdin = None;
        }
    }

    /// Copies every output of the instance to the log and to attached clients until it
    /// ends; `early` is terminal output read before.
    pub async fn copy_output(
        &self,
        stdout: Option<impl AsyncRead + Unpin>,
        stderr: Option<impl AsyncRead + Unpin>,
        early: Vec<u8>,
        log: Arc<LogFile>,
    ) {
        match &self.pty {
            Some(pty) => self.copy_terminal(pty, early, &log).await,
            None => {
                let out = async {
                    if let Some(stdout) = stdout {
                        self.copy_stream(stdout, STDOUT, &log).await;
                    }
                };
                let err = async {
                    if let Some(stderr) = stderr {
                        self.copy_stream(stderr, STDERR, &log).await;
                    }
                };
                tokio::join!(out, err);
            }
        }
        log.close().await;
        self.ended.send_replace(true);
    }

    async fn copy_stream(&self, mut from: impl AsyncRead + Unpin, stream: u8, log: &LogFile) {
        let mut pending = Vec::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            self.emit(stream, &buf[..n], &mut pending, log).await;
        }
        log.append_rest(&mut pending, name(stream)).await;
    }

    async fn copy_terminal(&self, pty: &PtyMaster, early: Vec<u8>, log: &LogFile) {
        let mut pending = Vec::new();
        if !early.is_empty() {
            self.emit(STDOUT, &early, &mut pending, log).await;
        }
        let mut buf = vec![0u8; CHUNK];
        while let Ok(n) = pty.read(&mut buf).await {
            if n == 0 {
                break;
            }
            self.emit(STDOUT, &buf[..n], &mut pending, log).await;
        }
        log.append_rest(&mut pending, "stdout").await;
    }

    async fn emit(&self, stream: u8, chunk: &[u8], pending: &mut Vec<u8>, log: &LogFile) {
        let _ = self.output.send((stream, Bytes::copy_from_slice(chunk)));
        log.append_lines(pending, chunk, name(stream)).await;
    }
}

fn name(stream: u8) -> &'static str {
    if stream == STDERR { "stderr" } else { "stdout" }
}
