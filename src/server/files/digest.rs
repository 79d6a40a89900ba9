//! The SHA-256 of what a transfer moves, computed beside it on a thread of its own: hashing
//! was two fifths of podterm's CPU in an upload, and on the relay's task it held up the
//! bytes.

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks that may wait for the hashing thread; a slower hash holds the transfer back.
const AHEAD: usize = 32;

pub struct Digest {
    tx: mpsc::Sender<Bytes>,
    worker: JoinHandle<String>,
}

impl Digest {
    pub fn start() -> Self {
        let (tx, mut rx) = mpsc::channel::<Bytes>(AHEAD);
        let worker = tokio::task::spawn_blocking(move || {
            let mut hash = Sha256::new();
            while let Some(chunk) = rx.blocking_recv() {
                hash.update(&chunk);
            }
            hex(&hash.finalize())
        });
        Self { tx, worker }
    }

    /// Adds a chunk (a reference to it, not a copy).
    pub async fn update(&self, chunk: Bytes) {
        let _ = self.tx.send(chunk).await;
    }

    /// The digest of everything added, in hex.
    pub async fn finish(self) -> String {
        drop(self.tx);
        self.worker.await.unwrap_or_default()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_hash_as_one() {
        let digest = Digest::start();
        digest.update(Bytes::from_static(b"te")).await;
        digest.update(Bytes::from_static(b"st")).await;
        assert_eq!(
            digest.finish().await,
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }
}
