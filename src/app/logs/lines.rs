//! The lines a log view holds: the body's bytes cut into lines, each line's timestamp, a
//! store bounded in lines and bytes that drops the oldest, and the resume after a dropped
//! connection, which leaves out the lines the page already has.

use std::collections::VecDeque;

use super::stamp::Stamp;

/// The most lines a view keeps; older ones are dropped.
pub const MAX_LINES: usize = 10_000;
/// The most bytes of line text a view keeps; older lines are dropped.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// A longer line is cut there (a line's first 64 KiB are kept).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Said at the end of a cut line.
pub const CUT: &str = " … [line cut at 64 KiB]";

/// Cuts a stream of bytes into lines. A line cut across reads is put together; one without
/// an end yet waits, at most `MAX_LINE_BYTES` of it.
#[derive(Debug, Default)]
pub struct Splitter {
    pending: Vec<u8>,
    /// The pending line was cut: the rest of it, up to its end, is dropped.
    cut: bool,
}

impl Splitter {
    /// Adds bytes; the lines they complete go to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<String>) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            self.take(&bytes[..end]);
            out.push(self.line());
            bytes = &bytes[end + 1..];
        }
        self.take(bytes);
    }

    /// The stream ended: what waits is a line of its own.
    pub fn finish(&mut self, out: &mut Vec<String>) {
        if !self.pending.is_empty() || self.cut {
            out.push(self.line());
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.pending.len());
        if bytes.len() > room {
            self.cut = true;
        }
        self.pending
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn line(&mut self) -> String {
        let mut bytes = std::mem::take(&mut self.pending);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        // Cut text may end inside a character: it shows as a replacement character.
        let mut line = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if std::mem::take(&mut self.cut) {
            line.push_str(CUT);
        }
        line
    }
}

/// One line as the cluster sent it: `TIMESTAMP TEXT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    raw: String,
    /// Where the text starts in `raw` (0 when there is no timestamp).
    split: usize,
    pub stamp: Option<Stamp>,
    /// The filter matches it (as of the screen's last look).
    pub matched: bool,
    /// It is on the screen.
    pub drawn: bool,
}

impl Line {
    pub fn new(raw: String) -> Line {
        let (split, stamp) = match raw.split_once(' ') {
            Some((time, _)) => match Stamp::parse(time) {
                Some(stamp) => (time.len() + 1, Some(stamp)),
                None => (0, None),
            },
            None => match Stamp::parse(&raw) {
                Some(stamp) => (raw.len(), Some(stamp)),
                None => (0, None),
            },
        };
        Line {
            raw,
            split,
            stamp,
            matched: false,
            drawn: false,
        }
    }

    /// The timestamp as the cluster wrote it; empty when there is none.
    pub fn time(&self) -> &str {
        self.raw[..self.split].trim_end()
    }

    /// The line's text, escape sequences and all.
    pub fn text(&self) -> &str {
        &self.raw[self.split..]
    }

    fn size(&self) -> usize {
        self.raw.len()
    }
}

/// Where the lines a view has end: the last line's timestamp, and how many of the lines
/// had that very timestamp (several lines may share one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct End {
    pub last: Option<Stamp>,
    pub same: usize,
}

impl End {
    fn add(&mut self, stamp: Option<Stamp>) {
        match stamp {
            Some(stamp) if self.last == Some(stamp) => self.same += 1,
            Some(stamp) => {
                *self = End {
                    last: Some(stamp),
                    same: 1,
                }
            }
            // A line without a timestamp leaves the end where it was.
            None => {}
        }
    }
}

/// The lines a view has, oldest first, bounded by `MAX_LINES` and `MAX_BYTES`; also what
/// the screen has still to do: lines not drawn yet, drawn lines that were dropped.
#[derive(Debug, Default)]
pub struct Store {
    lines: VecDeque<Line>,
    bytes: usize,
    end: End,
    /// Lines dropped to keep within the bound since the view started.
    pub dropped: u64,
    /// Lines received since the view started.
    pub received: u64,
    /// Of the newest lines, how many the screen has not looked at yet.
    pub undrawn: usize,
    /// Drawn lines dropped since the screen last looked: their elements go.
    pub gone: usize,
    /// Lines that match the filter.
    pub matching: usize,
}

impl Store {
    pub fn push(&mut self, line: Line) {
        self.end.add(line.stamp);
        self.bytes += line.size();
        self.lines.push_back(line);
        self.undrawn += 1;
        self.received += 1;
        while self.lines.len() > MAX_LINES || (self.bytes > MAX_BYTES && self.lines.len() > 1) {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.size();
            self.dropped += 1;
            if old.drawn {
                self.gone += 1;
            }
            if old.matched {
                self.matching -= 1;
            }
        }
        self.undrawn = self.undrawn.min(self.lines.len());
    }

    /// Forgets every line, as for a new read with other options.
    pub fn clear(&mut self) {
        *self = Store::default();
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn end(&self) -> End {
        self.end
    }

    pub fn iter(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Line> {
        self.lines.iter_mut()
    }

    /// The lines the screen has not looked at yet (the newest).
    pub fn undrawn_mut(&mut self) -> impl Iterator<Item = &mut Line> {
        let skip = self.lines.len() - self.undrawn;
        self.lines.iter_mut().skip(skip)
    }
}

/// A read that carries on from where the view's lines end: it asks for the lines since
/// that second (`since_time` is to the second), then leaves out those the view has: every
/// line before the last one's timestamp, and as many lines with that very timestamp as the
/// view has.
#[derive(Debug, Clone)]
pub struct Resume {
    end: End,
    /// Lines with the last timestamp left out so far.
    seen: usize,
    /// A newer line came: from there on, everything is new.
    past: bool,
}

impl Resume {
    /// `None` when the view has no timestamped line to carry on from.
    pub fn from(end: End) -> Option<Resume> {
        end.last.map(|_| Resume {
            end,
            seen: 0,
            past: false,
        })
    }

    /// `since_time` for the read.
    pub fn since_time(&self) -> String {
        self.end.last.map(Stamp::to_second).unwrap_or_default()
    }

    /// Whether the view already has this line.
    pub fn has(&mut self, line: &Line) -> bool {
        if self.past {
            return false;
        }
        let (Some(last), Some(stamp)) = (self.end.last, line.stamp) else {
            // Without a timestamp there is no telling: shown.
            return false;
        };
        if stamp < last {
            return true;
        }
        if stamp == last && self.seen < self.end.same {
            self.seen += 1;
            return true;
        }
        self.past = true;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, &mut out);
        }
        splitter.finish(&mut out);
        out
    }

    #[test]
    fn lines_are_put_together_across_reads() {
        assert_eq!(
            split(&[b"one\ntw", b"o\r\n", b"", b"three"]),
            ["one", "two", "three"]
        );
        assert_eq!(split(&[b"a\n\nb\n"]), ["a", "", "b"]);
        assert!(split(&[b""]).is_empty());
        // A character split across reads is whole again.
        let e = "é".as_bytes();
        assert_eq!(split(&[b"caf", &e[..1], &e[1..], b"\n"]), ["café"]);
        // Invalid bytes become replacement characters.
        assert_eq!(split(&[b"a\xffb\n"]), ["a\u{fffd}b"]);
    }

    #[test]
    fn a_line_without_end_is_cut_not_held_whole() {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        for _ in 0..100 {
            splitter.push(&[b'x'; 10_000], &mut out);
            assert!(splitter.pending.len() <= MAX_LINE_BYTES);
        }
        splitter.push(b"yy\nnext\n", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], format!("{}{CUT}", "x".repeat(MAX_LINE_BYTES)));
        assert_eq!(out[1], "next");
        // Exactly the limit is not cut.
        assert_eq!(
            split(&[&[b'z'; MAX_LINE_BYTES], b"\n"])[0].len(),
            MAX_LINE_BYTES
        );
    }

    #[test]
    fn timestamps_are_split_off() {
        let line = Line::new("2026-12-02T10:00:00.5Z \u{1b}[32mINFO\u{1b}[0m shipped".into());
        assert_eq!(line.time(), "2026-12-02T10:00:00.5Z");
        assert_eq!(line.text(), "\u{1b}[32mINFO\u{1b}[0m shipped");
        assert_eq!(line.stamp, Stamp::parse("2026-12-02T10:00:00.5Z"));
        let empty = Line::new("2026-12-02T10:00:00.5Z ".into());
        assert_eq!((empty.time(), empty.text()), ("2026-12-02T10:00:00.5Z", ""));
        let bare = Line::new("2026-12-02T10:00:00.5Z".into());
        assert_eq!((bare.time(), bare.text()), ("2026-12-02T10:00:00.5Z", ""));
        let plain = Line::new("no time here".into());
        assert_eq!(
            (plain.time(), plain.text(), plain.stamp),
            ("", "no time here", None)
        );
    }

    #[test]
    fn the_store_keeps_the_newest_lines_within_bounds() {
        let mut store = Store::default();
        for i in 0..MAX_LINES + 5 {
            store.push(Line::new(format!("line {i}")));
        }
        assert_eq!(store.len(), MAX_LINES);
        assert_eq!(store.dropped, 5);
        assert_eq!(store.received, MAX_LINES as u64 + 5);
        assert_eq!(store.iter().next().unwrap().text(), "line 5");
        assert_eq!(store.undrawn, MAX_LINES);
        assert_eq!(store.gone, 0);

        // Bytes bound it too; drawn and matching lines that go are counted.
        let mut store = Store::default();
        let big = "x".repeat(MAX_LINE_BYTES);
        for _ in 0..3 {
            store.push(Line::new(big.clone()));
        }
        for line in store.undrawn_mut() {
            line.drawn = true;
            line.matched = true;
        }
        store.undrawn = 0;
        store.matching = 3;
        for _ in 0..MAX_BYTES / MAX_LINE_BYTES {
            store.push(Line::new(big.clone()));
        }
        assert_eq!(store.len(), MAX_BYTES / MAX_LINE_BYTES);
        assert_eq!((store.dropped, store.gone, store.matching), (3, 3, 0));
        assert_eq!(store.undrawn, store.len());
        // One line over the bytes bound on its own is kept.
        let mut store = Store::default();
        store.push(Line::new("y".repeat(MAX_BYTES + 1)));
        assert_eq!(store.len(), 1);
    }

    fn stamped(time: &str, text: &str) -> Line {
        Line::new(format!("{time} {text}"))
    }

    #[test]
    fn a_resume_leaves_out_what_the_view_has() {
        // The view has lines up to 10:00:07.5, two of them with that very timestamp.
        let mut store = Store::default();
        for (time, text) in [
            ("2026-12-02T10:00:06.9Z", "a"),
            ("2026-12-02T10:00:07.1Z", "b"),
            ("2026-12-02T10:00:07.5Z", "c"),
            ("2026-12-02T10:00:07.5Z", "d"),
        ] {
            store.push(stamped(time, text));
        }
        let mut resume = Resume::from(store.end()).unwrap();
        assert_eq!(resume.since_time(), "2026-12-02T10:00:07Z");
        // What the cluster sends for since_time=10:00:07: from b on, and newer lines.
        let again = [
            ("2026-12-02T10:00:07.1Z", "b"),
            ("2026-12-02T10:00:07.5Z", "c"),
            ("2026-12-02T10:00:07.5Z", "d"),
            ("2026-12-02T10:00:07.5Z", "e"),
            (
                "2026-12-02T10:00:07.2Z",
                "f (a clock step back, after new lines)",
            ),
            ("2026-12-02T10:00:08Z", "g"),
        ];
        let new: Vec<String> = again
            .iter()
            .map(|(time, text)| stamped(time, text))
            .filter(|line| !resume.has(line))
            .map(|line| line.text().to_string())
            .collect();
        assert_eq!(new, ["e", "f (a clock step back, after new lines)", "g"]);
    }

    #[test]
    fn the_end_follows_the_lines_pushed() {
        let mut store = Store::default();
        assert_eq!(Resume::from(store.end()).map(|r| r.since_time()), None);
        store.push(stamped("2026-12-02T10:00:07.5Z", "c"));
        store.push(Line::new("unstamped".into()));
        store.push(stamped("2026-12-02T10:00:07.5Z", "d"));
        assert_eq!(store.end().same, 2);
        store.push(stamped("2026-12-02T10:00:09Z", "e"));
        assert_eq!(
            store.end(),
            End {
                last: Stamp::parse("2026-12-02T10:00:09Z"),
                same: 1
            }
        );
        // Nothing new since: everything sent again is left out.
        let mut resume = Resume::from(store.end()).unwrap();
        assert!(resume.has(&stamped("2026-12-02T10:00:09Z", "e")));
        assert!(!resume.has(&stamped("2026-12-02T10:00:09Z", "e again, really new")));
        // Lines without timestamps cannot be told apart: kept.
        let mut resume = Resume::from(store.end()).unwrap();
        assert!(!resume.has(&Line::new("no time".into())));
        store.clear();
        assert_eq!(store.end(), End::default());
    }
}
