//! One upload as the transfer list shows it: where it stands, its progress (bytes, speed,
//! time left) and its result in words.

use super::words::{self, Failure};
use crate::files::{Check, Uploaded};

/// Bytes sent over time, with a speed smoothed over the last seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub sent: f64,
    pub total: f64,
    /// The last sample the speed was taken from: when (ms) and how much had been sent.
    mark: (f64, f64),
    /// Bytes per second, once measured.
    rate: Option<f64>,
}

/// How long between samples of the speed: shorter ones are noise.
const SAMPLE_MS: f64 = 500.0;

impl Progress {
    pub fn new(total: f64, now_ms: f64) -> Self {
        Self {
            sent: 0.0,
            total,
            mark: (now_ms, 0.0),
            rate: None,
        }
    }

    pub fn update(&mut self, sent: f64, now_ms: f64) {
        self.sent = sent;
        let (at, then) = self.mark;
        let elapsed = now_ms - at;
        if elapsed >= SAMPLE_MS {
            let now = (sent - then) / elapsed * 1000.0;
            self.rate = Some(match self.rate {
                Some(rate) => rate * 0.6 + now * 0.4,
                None => now,
            });
            self.mark = (now_ms, sent);
        }
    }

    /// `3.1 MiB of 10 MiB · 1.2 MiB/s · 6 s left`.
    pub fn words(&self) -> String {
        let mut out = format!(
            "{} of {}",
            words::size(self.sent as u64),
            words::size(self.total as u64)
        );
        if let Some(rate) = self.rate.filter(|r| *r > 0.0) {
            out.push_str(&format!(
                " · {} · {} left",
                words::speed(rate),
                words::duration((self.total - self.sent) / rate)
            ));
        }
        out
    }
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Waiting,
    /// The file exists: Replace, Skip or Replace all?
    Asking,
    Sending(Progress),
    /// Every byte is sent; the container writes and checks it.
    Checking,
    Done(Uploaded),
    Failed(Failure),
    Cancelled,
    Skipped,
}

impl Stage {
    /// Over: nothing more happens unless the person asks.
    pub fn is_over(&self) -> bool {
        matches!(
            self,
            Stage::Done(_) | Stage::Failed(_) | Stage::Cancelled | Stage::Skipped
        )
    }

    /// For styles and tests.
    pub fn key(&self) -> &'static str {
        match self {
            Stage::Waiting => "waiting",
            Stage::Asking => "asking",
            Stage::Sending(_) => "sending",
            Stage::Checking => "checking",
            Stage::Done(_) => "done",
            Stage::Failed(_) => "failed",
            Stage::Cancelled => "cancelled",
            Stage::Skipped => "skipped",
        }
    }

    /// The line under the file's name.
    pub fn words(&self) -> String {
        match self {
            Stage::Waiting => "Waiting for the uploads before it".into(),
            Stage::Asking => "A file of this name is already there.".into(),
            Stage::Sending(progress) => progress.words(),
            Stage::Checking => "Sent; the container is writing and checking it…".into(),
            Stage::Done(uploaded) => result(uploaded),
            Stage::Failed(failure) => failure.with_next_step(failure.upload_next_step()),
            Stage::Cancelled => "Cancelled; podterm removes what was sent of it.".into(),
            Stage::Skipped => "Skipped: the file that was there is kept.".into(),
        }
    }
}

/// What landed, in words: its size and whether the container's copy was checked.
pub fn result(uploaded: &Uploaded) -> String {
    let size = words::size(uploaded.bytes);
    let short = uploaded.sha256.get(..12).unwrap_or(&uploaded.sha256);
    match (uploaded.checked, uploaded.verified) {
        (Check::Sha256, Some(true)) => format!("{size}, verified (sha256 {short}…)"),
        (Check::Sha256, _) => format!(
            "{size}, but the container's copy differs (its sha256 does not match): upload it again"
        ),
        (Check::Size, Some(true)) => {
            format!("{size}, size checked (sha256 {short}… as sent, not hashed in the container)")
        }
        (Check::Size, _) => {
            format!("{size}, but the container's copy has another size: upload it again")
        }
        (Check::Nothing, _) => {
            format!("{size}, not verified: the container has no sha256sum or stat")
        }
    }
}

/// One file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub id: u32,
    /// As the person knows it: its name, or its path inside an uploaded folder.
    pub name: String,
    /// Where it lands in the container.
    pub path: String,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: Option<i64>,
    pub executable: bool,
    pub stage: Stage,
}

/// The transfer list's summary line: `Uploading: 2 of 5 files done`, then
/// `Uploaded 4 files; 1 failed`.
pub fn summary(transfers: &[Transfer]) -> String {
    let count = |f: fn(&Stage) -> bool| transfers.iter().filter(|t| f(&t.stage)).count();
    let files = |n: usize| {
        if n == 1 {
            "1 file".into()
        } else {
            format!("{n} files")
        }
    };
    let over = count(Stage::is_over);
    if over < transfers.len() {
        return format!("Uploading: {over} of {} done", files(transfers.len()));
    }
    let done = count(|s| matches!(s, Stage::Done(_)));
    let rest: Vec<String> = [
        (count(|s| matches!(s, Stage::Failed(_))), "failed"),
        (count(|s| *s == Stage::Cancelled), "cancelled"),
        (count(|s| *s == Stage::Skipped), "skipped"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    match (done, rest.is_empty()) {
        (0, _) => format!("Nothing uploaded: {}", rest.join(", ")),
        (_, true) => format!("Uploaded {}", files(done)),
        (_, false) => format!("Uploaded {}; {}", files(done), rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::Via;

    #[test]
    fn progress_says_speed_and_time_left() {
        let mib = 1024.0 * 1024.0;
        let mut p = Progress::new(10.0 * mib, 0.0);
        p.update(mib, 100.0);
        assert_eq!(p.words(), "1.0 MiB of 10 MiB");
        p.update(2.0 * mib, 1000.0);
        assert_eq!(p.words(), "2.0 MiB of 10 MiB · 2.0 MiB/s · 4 s left");
        // The speed is smoothed: a burst moves it only partly.
        p.update(6.0 * mib, 2000.0);
        assert_eq!(p.words(), "6.0 MiB of 10 MiB · 2.8 MiB/s · 2 s left");
    }

    fn uploaded(checked: Check, verified: Option<bool>) -> Uploaded {
        Uploaded {
            path: "/tmp/a".into(),
            bytes: 2048,
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            checked,
            verified,
            via: Via::Shell,
        }
    }

    #[test]
    fn results_say_whether_they_were_checked() {
        assert_eq!(
            result(&uploaded(Check::Sha256, Some(true))),
            "2.0 KiB, verified (sha256 9f86d081884c…)"
        );
        assert_eq!(
            result(&uploaded(Check::Size, Some(true))),
            "2.0 KiB, size checked (sha256 9f86d081884c… as sent, not hashed in the container)"
        );
        assert_eq!(
            result(&uploaded(Check::Nothing, None)),
            "2.0 KiB, not verified: the container has no sha256sum or stat"
        );
        assert!(result(&uploaded(Check::Sha256, Some(false))).contains("upload it again"));
        assert!(result(&uploaded(Check::Size, Some(false))).contains("upload it again"));
    }

    #[test]
    fn the_summary_counts() {
        let t = |stage| Transfer {
            id: 0,
            name: "a".into(),
            path: "/a".into(),
            size: 1,
            mtime: None,
            executable: false,
            stage,
        };
        let list = [
            t(Stage::Done(uploaded(Check::Nothing, None))),
            t(Stage::Waiting),
        ];
        assert_eq!(summary(&list), "Uploading: 1 of 2 files done");
        let list = [
            t(Stage::Done(uploaded(Check::Nothing, None))),
            t(Stage::Failed(Failure::new(507, ""))),
        ];
        assert_eq!(summary(&list), "Uploaded 1 file; 1 failed");
        assert_eq!(summary(&list[..1]), "Uploaded 1 file");
        let list = [
            t(Stage::Failed(Failure::new(403, ""))),
            t(Stage::Cancelled),
            t(Stage::Skipped),
        ];
        assert_eq!(
            summary(&list),
            "Nothing uploaded: 1 failed, 1 cancelled, 1 skipped"
        );
    }
}
