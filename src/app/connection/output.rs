//! What the page has of a session's output: received, written by xterm, acknowledged.
//! Flow control rests on it (the server waits for acks), and so does a resume (it asks
//! for the output from what was received).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::protocol::ACK_EVERY;

#[derive(Default)]
pub(super) struct Output {
    /// Counts server sessions; writes queued for an earlier one do not count as written.
    epoch: Cell<u32>,
    /// Output offset up to which the page has received output (queued in xterm or written).
    received: Cell<u64>,
    /// Output offset up to which xterm has written.
    written: Cell<u64>,
    /// Output the server sent again after a resume (it started before `received`).
    skip: Cell<u64>,
    /// Output of the first connection that an early start already wrote to the terminal.
    shown: Cell<u64>,
    /// Where the current connection's output started.
    attached_at: Cell<u64>,
    /// The last ack sent on the current connection.
    last_acked: Cell<Option<u64>>,
    /// Writes xterm has not finished, in order: (epoch, bytes).
    writes: RefCell<VecDeque<(u32, u64)>>,
}

impl Output {
    /// A new session: its output starts at 0, and what was queued before no longer counts.
    pub(super) fn new_session(&self) {
        self.epoch.set(self.epoch.get().wrapping_add(1));
        self.received.set(0);
        self.written.set(0);
        self.skip.set(0);
        self.shown.set(0);
    }

    /// The early start already wrote this much of the first connection's output.
    pub(super) fn already_shown(&self, bytes: u64) {
        self.shown.set(bytes);
    }

    pub(super) fn received(&self) -> u64 {
        self.received.get()
    }

    /// A socket attached at `offset`: to the session the page had (`resuming` and
    /// `resumed`), or to another. Returns how much output the page never got, to count as
    /// written once xterm reaches it.
    pub(super) fn attached(&self, offset: u64, resuming: bool, resumed: bool) -> u64 {
        let mut missed = 0;
        if resuming && resumed {
            let received = self.received.get();
            if offset < received {
                self.skip.set(received - offset);
            } else {
                self.skip.set(0);
                if offset > received {
                    self.received.set(offset);
                    missed = offset - received;
                }
            }
        } else {
            if resuming {
                // The server started over instead of resuming: a new session.
                self.epoch.set(self.epoch.get().wrapping_add(1));
            }
            self.received.set(offset);
            self.written.set(offset);
            self.skip.set(0);
        }
        self.attached_at.set(offset);
        self.last_acked.set(None);
        missed
    }

    /// Output arrived: what is left of it once what the page already has is skipped, as
    /// how much of it is already on screen and the rest to write; `None` when nothing is.
    pub(super) fn received_now<'a>(&self, bytes: &'a [u8]) -> Option<(u64, &'a [u8])> {
        let skip = self.skip.get().min(bytes.len() as u64);
        self.skip.set(self.skip.get() - skip);
        let bytes = &bytes[skip as usize..];
        if bytes.is_empty() {
            return None;
        }
        self.received.set(self.received.get() + bytes.len() as u64);
        let shown = self.shown.get().min(bytes.len() as u64);
        self.shown.set(self.shown.get() - shown);
        Some((shown, &bytes[shown as usize..]))
    }

    /// A write to xterm that counts `bytes` as written once it is done.
    pub(super) fn queued(&self, bytes: u64) {
        self.writes
            .borrow_mut()
            .push_back((self.epoch.get(), bytes));
    }

    /// xterm finished the oldest queued write (they finish in order); whether it counted.
    pub(super) fn written_one(&self) -> bool {
        let Some((epoch, counts)) = self.writes.borrow_mut().pop_front() else {
            return false;
        };
        if epoch != self.epoch.get() {
            return false;
        }
        self.written.set(self.written.get() + counts);
        true
    }

    /// The offset to acknowledge now, if one is due: the first output, then every
    /// `ACK_EVERY` written bytes (the server's window is many of those).
    pub(super) fn ack_due(&self) -> Option<u64> {
        self.unacked()
            .filter(|&(upto, last)| last.is_none_or(|last| upto - last >= ACK_EVERY))
            .map(|(upto, _)| upto)
    }

    /// The offset to acknowledge at the next keepalive tick: all that xterm has written.
    /// Output that trickles (an echo per keystroke) is acknowledged seconds later in one
    /// message, not once per keystroke.
    pub(super) fn settle_due(&self) -> Option<u64> {
        self.unacked().map(|(upto, _)| upto)
    }

    /// What xterm has written and this connection has not acknowledged: (up to, last ack).
    fn unacked(&self) -> Option<(u64, Option<u64>)> {
        let upto = self.written.get().min(self.received.get());
        // Output before this connection's start is not this connection's to ack.
        if upto == 0 || upto < self.attached_at.get() {
            return None;
        }
        let last = self.last_acked.get();
        last.is_none_or(|last| upto > last).then_some((upto, last))
    }

    pub(super) fn acked(&self, upto: u64) {
        self.last_acked.set(Some(upto));
    }
}
