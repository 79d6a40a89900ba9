//! How the file browser and the uploads say sizes, times, speeds, and what went wrong.

pub use crate::app::requests::Failure;

/// A size as people read it: `512 B`, `1.5 KiB`, `23 MiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    // One decimal while it says something (1.5 KiB), none beyond (23 MiB).
    if value < 10.0 && (value * 10.0).round() < 100.0 {
        format!("{:.1} {}", value, UNITS[unit])
    } else {
        format!("{:.0} {}", value, UNITS[unit])
    }
}

/// A speed: `1.2 MiB/s`.
pub fn speed(bytes_per_second: f64) -> String {
    format!("{}/s", size(bytes_per_second.max(0.0) as u64))
}

/// A time still to wait: `5 s`, `2 min 10 s`, `1 h 5 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).ceil() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// A modification time, `2026-12-02 10:00`, `offset_minutes` east of UTC.
pub fn modified(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (days, rest) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A request about files that failed, in the files page's words.
impl Failure {
    /// A listing's failure in a sentence, before podterm's own words.
    pub fn list_headline(&self) -> &'static str {
        match self.status {
            0 => "podterm could not be reached.",
            401 => "Your login has ended.",
            403 => "This folder cannot be read.",
            404 => "This folder, pod or container is not there.",
            400 => "podterm cannot list this path.",
            429 => "You have as many transfers running as podterm allows.",
            502..=504 => "The cluster did not answer.",
            _ => "podterm could not list this folder.",
        }
    }

    /// What to do about a listing's failure, for a container in `namespace`.
    pub fn list_next_step(&self, namespace: &str) -> String {
        match self.status {
            0 => "Check your connection, then press Retry.".into(),
            401 => "Log in again, then open the files again.".into(),
            403 => format!(
                "If the cluster refused, ask whoever runs it for create on pods/exec in namespace {namespace} (and on pods/ephemeralcontainers for a container without a shell). If the container did, go to a folder its user may read."
            ),
            404 => "Go up, or back to the working directory.".into(),
            400 => "Check the path, or go up or back to the working directory.".into(),
            429 => "Wait for one of your downloads or uploads to finish, then press Retry.".into(),
            502..=504 => "Press Retry in a moment; if it goes on, the cluster may be down.".into(),
            _ => "Press Retry.".into(),
        }
    }

    /// What to do about an upload's failure.
    pub fn upload_next_step(&self) -> &'static str {
        match self.status {
            0 => "The connection to podterm broke: press Try again.",
            401 => "Log in again, then upload the file again.",
            403 => "Upload to a folder the container's user may write to, such as /tmp.",
            404 => "The pod or container is gone: open it again from the pod list.",
            400 => "Check the destination: an absolute path of folders.",
            409 => "Upload it under another name, or move what is there first.",
            413 => {
                "Compress or split the file, or ask whoever runs podterm to raise --max-transfer-bytes."
            }
            429 => "Wait for one of your other transfers to finish, then press Try again.",
            507 => "Free some space in the container (df -h shows where), then press Try again.",
            502..=504 => "The cluster did not answer: press Try again in a moment.",
            _ => "Press Try again.",
        }
    }

    /// podterm's words, as a sentence, or one of the page's own when it said none.
    pub fn said(&self) -> String {
        if !self.message.is_empty() {
            let said = crate::app::upper_first(&self.message);
            return if said.ends_with(['.', '!', '?']) {
                said
            } else {
                format!("{said}.")
            };
        }
        match self.status {
            0 => "podterm could not be reached.".into(),
            401 => "Your login has ended.".into(),
            413 => "The file is larger than podterm allows.".into(),
            507 => "No space is left in the container.".into(),
            status => format!("podterm answered {status}."),
        }
    }

    /// podterm said what to do already ("…; choose another folder").
    pub fn advised(&self) -> bool {
        self.message.contains("; ")
    }

    /// podterm's words, then what to do unless they say it.
    pub fn with_next_step(&self, next: &str) -> String {
        if self.advised() {
            self.said()
        } else {
            format!("{} {next}", self.said())
        }
    }

    /// Trying the same again may work.
    pub fn may_retry(&self) -> bool {
        !matches!(self.status, 400 | 401 | 403 | 404 | 409 | 413)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(10 * 1024), "10 KiB");
        assert_eq!(size(10 * 1024 - 1), "10 KiB");
        assert_eq!(size(23 * 1024 * 1024 + 1), "23 MiB");
        assert_eq!(size(5 * 1024 * 1024 * 1024 / 2), "2.5 GiB");
        assert_eq!(speed(1_258_291.2), "1.2 MiB/s");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0.2), "1 s");
        assert_eq!(duration(59.0), "59 s");
        assert_eq!(duration(120.0), "2 min");
        assert_eq!(duration(130.0), "2 min 10 s");
        assert_eq!(duration(3900.0), "1 h 5 min");
        assert_eq!(duration(-3.0), "0 s");
    }

    #[test]
    fn times_are_local() {
        assert_eq!(modified(0, 0), "1970-01-01 00:00");
        assert_eq!(modified(1_796_205_607, 0), "2026-12-02 10:00");
        assert_eq!(modified(1_796_205_607, 60), "2026-12-02 11:00");
        assert_eq!(modified(1_796_205_607, -660), "2026-12-01 23:00");
        assert_eq!(modified(951_782_400, 0), "2000-02-29 00:00");
        assert_eq!(modified(-86_400, 0), "1969-12-31 00:00");
    }

    #[test]
    fn failures_say_what_to_do() {
        let f = |status| Failure::new(status, "");
        assert!(f(403).list_next_step("shop").contains("namespace shop"));
        assert_eq!(f(507).said(), "No space is left in the container.");
        assert_eq!(
            Failure::new(403, " /etc is not writable\n").said(),
            "/etc is not writable."
        );
        assert_eq!(Failure::new(404, "no such file.").said(), "No such file.");
        // podterm's own advice is not said twice.
        let read_only = Failure::new(
            403,
            "/etc is on a read-only file system; choose another folder",
        );
        assert_eq!(
            read_only.with_next_step(read_only.upload_next_step()),
            "/etc is on a read-only file system; choose another folder."
        );
        let gone = Failure::new(404, "there is no pod web-0");
        assert_eq!(
            gone.with_next_step(gone.upload_next_step()),
            "There is no pod web-0. The pod or container is gone: open it again from the pod list."
        );
        assert!(f(507).upload_next_step().contains("df -h"));
        assert!(f(413).upload_next_step().contains("--max-transfer-bytes"));
        assert!(!f(413).may_retry() && f(507).may_retry() && f(0).may_retry());
        for status in [0, 400, 401, 403, 404, 409, 413, 429, 500, 502, 507] {
            assert!(!f(status).list_headline().is_empty());
            assert!(!f(status).upload_next_step().is_empty());
            assert!(!f(status).said().is_empty());
        }
    }
}
