//! The timestamps the cluster puts before each log line (RFC 3339, as `timestamps=true`
//! gives them): read into a value that compares in time order, and written back to the
//! second for `since_time`.

/// A point in time: seconds since 1970 (UTC) and the nanoseconds within that second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Stamp {
    /// `2026-12-02T10:00:00.123456789Z`, `2026-12-02T11:00:00+01:00`, …; `None` for
    /// anything else. Fractions of any length are read (the kubelet trims trailing zeros).
    pub fn parse(text: &str) -> Option<Stamp> {
        let b = text.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(range)?;
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(
                digits
                    .iter()
                    .fold(0i64, |n, d| n * 10 + i64::from(d - b'0')),
            )
        };
        let sep = |at: usize, want: &[u8]| b.get(at).is_some_and(|c| want.contains(c));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut at = 19;
        let mut nanos = 0u32;
        if b[at] == b'.' {
            at += 1;
            let start = at;
            while at < b.len() && b[at].is_ascii_digit() {
                if at - start < 9 {
                    nanos = nanos * 10 + u32::from(b[at] - b'0');
                }
                at += 1;
            }
            let digits = at - start;
            if digits == 0 {
                return None;
            }
            nanos *= 10u32.pow(9u32.saturating_sub(digits as u32));
        }
        let offset = match b.get(at..)? {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let two = |x: u8, y: u8| -> Option<i64> {
                    (x.is_ascii_digit() && y.is_ascii_digit())
                        .then(|| i64::from(x - b'0') * 10 + i64::from(y - b'0'))
                };
                let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let minutes = h * 60 + m;
                if *sign == b'+' { minutes } else { -minutes }
            }
            _ => return None,
        };
        // A leap second reads as the last moment of its minute.
        let (second, nanos) = if second == 60 {
            (59, 999_999_999)
        } else {
            (second, nanos)
        };
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
            - offset * 60;
        Some(Stamp { secs, nanos })
    }

    /// From milliseconds since 1970, as the browser's clock gives them.
    pub fn from_millis(millis: f64) -> Stamp {
        let millis = millis.floor() as i64;
        Stamp {
            secs: millis.div_euclid(1000),
            nanos: (millis.rem_euclid(1000) * 1_000_000) as u32,
        }
    }

    /// The whole second this falls in, in UTC: `2026-12-02T10:00:00Z`.
    pub fn to_second(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rest = self.secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3_600,
            rest % 3_600 / 60,
            rest % 60
        )
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_the_kubelet_writes_them() {
        let t = Stamp::parse("2026-12-02T10:00:00.123456789Z").unwrap();
        assert_eq!(t.secs, 1_796_205_600);
        assert_eq!(t.nanos, 123_456_789);
        assert_eq!(
            Stamp::parse("1970-01-01T00:00:00Z"),
            Some(Stamp { secs: 0, nanos: 0 })
        );
        // Trimmed fractions, other offsets, more than nine digits.
        assert_eq!(
            Stamp::parse("2026-12-02T10:00:00.5Z").unwrap().nanos,
            500_000_000
        );
        assert_eq!(
            Stamp::parse("2026-12-02T11:30:00+01:30"),
            Stamp::parse("2026-12-02T10:00:00Z")
        );
        assert_eq!(
            Stamp::parse("2026-12-02T10:00:00.1234567891Z")
                .unwrap()
                .nanos,
            123_456_789
        );
        assert_eq!(
            Stamp::parse("1969-12-31T23:59:59.5Z"),
            Some(Stamp {
                secs: -1,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            Stamp::parse("2024-02-29T00:00:00Z").unwrap().to_second(),
            "2024-02-29T00:00:00Z"
        );
        for bad in [
            "",
            "worker 2.4.1 starting",
            "2026-12-02T10:00:00",
            "2026-12-02T10:00:00.Z",
            "2026-13-02T10:00:00Z",
            "2025-02-29T10:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T10:00:00+1:00",
            "2026-12-02T10:00:00Zjunk",
            "2026-12-02T10:00:00\u{e9}",
        ] {
            assert_eq!(Stamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_compare_in_time_order() {
        let earlier = Stamp::parse("2026-12-02T10:00:00.9Z").unwrap();
        let later = Stamp::parse("2026-12-02T10:00:01.01Z").unwrap();
        assert!(earlier < later);
        assert!(Stamp::parse("2026-12-02T10:00:00.100Z") == Stamp::parse("2026-12-02T10:00:00.1Z"));
    }

    #[test]
    fn since_time_is_the_whole_second() {
        let t = Stamp::parse("2026-12-02T10:00:07.999999999Z").unwrap();
        assert_eq!(t.to_second(), "2026-12-02T10:00:07Z");
        assert_eq!(Stamp::parse(&t.to_second()).unwrap().secs, t.secs);
        assert_eq!(
            Stamp::from_millis(1_796_205_607_250.0).to_second(),
            "2026-12-02T10:00:07Z"
        );
        assert_eq!(Stamp::from_millis(1_796_205_607_250.0).nanos, 250_000_000);
        // Every day of four centuries goes there and back.
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
