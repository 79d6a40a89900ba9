//! A session's output as the page has yet to acknowledge it: what a resumed connection
//! replays from, and what holds the pod's output back once [`OUTPUT_WINDOW`] bytes wait.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::protocol::{OUTPUT_WINDOW, ServerEvent};

/// What a connection reads from the session.
pub struct Read {
    pub chunks: Vec<Bytes>,
    pub next: u64,
    /// Set once the session is over and everything before `next` is all there is: the last
    /// event to send (none when the person closed it or never came back).
    pub end: Option<Option<ServerEvent>>,
}

/// Output offsets count bytes from the start of the session.
#[derive(Default)]
pub(super) struct Replay {
    chunks: VecDeque<Bytes>,
    /// The offset of the first byte still kept.
    start: u64,
    end: u64,
    acked: u64,
    over: Option<Option<ServerEvent>>,
}

impl Replay {
    /// Bytes kept for the page.
    pub(super) fn buffered(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the pod may send more before the page acknowledges some.
    pub(super) fn window_open(&self) -> bool {
        self.end - self.acked < OUTPUT_WINDOW
    }

    /// Keeps `bytes`; the offset after them.
    pub(super) fn push(&mut self, bytes: Bytes) -> u64 {
        self.end += bytes.len() as u64;
        self.chunks.push_back(bytes);
        self.end
    }

    /// The session is over; `event` is the last one to send.
    pub(super) fn finish(&mut self, event: Option<ServerEvent>) {
        self.over = Some(event);
    }

    /// Where a connection asking for `requested` starts: output before what is kept is gone
    /// (only a page that skipped its acknowledgements asks for it).
    pub(super) fn start_offset(&self, requested: u64) -> Result<u64, String> {
        if requested > self.end {
            return Err(format!(
                "offset {requested} is past the session's output ({} bytes so far)",
                self.end
            ));
        }
        Ok(requested.max(self.start))
    }

    /// The output from `from` on (shared, not copied), and the end if it has come.
    pub(super) fn read(&self, from: u64) -> Read {
        let mut chunks = Vec::new();
        let mut offset = self.start;
        for chunk in &self.chunks {
            let next = offset + chunk.len() as u64;
            if next > from {
                let skip = from.saturating_sub(offset) as usize;
                chunks.push(chunk.slice(skip..));
            }
            offset = next;
        }
        Read {
            chunks,
            next: self.end.max(from),
            end: self.over.clone(),
        }
    }

    /// The page has written the output up to `offset`: forget it. Whether that was news.
    pub(super) fn ack(&mut self, offset: u64) -> bool {
        let offset = offset.min(self.end);
        if offset <= self.acked {
            return false;
        }
        self.acked = offset;
        while let Some(first) = self.chunks.front() {
            let first_end = self.start + first.len() as u64;
            if first_end > offset {
                break;
            }
            self.start = first_end;
            self.chunks.pop_front();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Step {
        Output(Vec<u8>),
        Ack(u64),
        Read(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 1..300).prop_map(Step::Output),
            (0u64..5000).prop_map(Step::Ack),
            (0u64..5000).prop_map(Step::Read),
        ]
    }

    proptest! {
        /// Whatever the order of output, acknowledgements and reads, a read from any kept
        /// offset returns exactly the output from there: nothing lost, doubled or reordered,
        /// and nothing acknowledged is kept.
        #[test]
        fn replay_is_exact(steps in proptest::collection::vec(step(), 1..60)) {
            let mut out = Replay::default();
            let mut all = Vec::new();
            for step in steps {
                match step {
                    Step::Output(bytes) => {
                        all.extend_from_slice(&bytes);
                        out.push(Bytes::from(bytes));
                    }
                    Step::Ack(offset) => {
                        out.ack(offset);
                    }
                    Step::Read(from) => {
                        let (start, acked) = (out.start, out.acked);
                        prop_assert!(start <= acked.max(start));
                        match out.start_offset(from) {
                            Ok(at) => {
                                prop_assert!(at >= start && at >= from.min(all.len() as u64));
                                let read = out.read(at);
                                let got: Vec<u8> = read.chunks.concat();
                                prop_assert_eq!(&got[..], &all[at as usize..]);
                                prop_assert_eq!(read.next, all.len() as u64);
                            }
                            Err(_) => prop_assert!(from > all.len() as u64),
                        }
                    }
                }
                let kept: u64 = out.chunks.iter().map(|c| c.len() as u64).sum();
                prop_assert_eq!(out.start + kept, out.end);
                prop_assert!(out.start <= out.acked || out.acked == 0);
                prop_assert!(out.end - out.start <= out.end - out.acked + 300);
            }
        }
    }
}
