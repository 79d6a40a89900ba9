//! Keepalive: the page pings, and takes a socket that stays silent for dead.

use std::cell::Cell;

use crate::protocol::{DEAD_AFTER_SECS, KEEPALIVE_SECS};

/// How often the keepalive timer looks at the connection.
pub(super) const TICK_MS: i32 = 5_000;
const KEEPALIVE_MS: f64 = (KEEPALIVE_SECS * 1000) as f64;
/// Silence after which the page takes a connection for dead: shorter than the server's
/// `DEAD_AFTER_SECS`, so the page notices a half-open connection first.
pub(super) const SILENCE_SECS: u64 = 2 * KEEPALIVE_SECS + 5;
const SILENCE_MS: f64 = (SILENCE_SECS * 1000) as f64;
const _: () = assert!(SILENCE_SECS < DEAD_AFTER_SECS);

/// When the current socket was last heard from and pinged (milliseconds, `Date.now()`).
#[derive(Default)]
pub(super) struct Keepalive {
    /// When the current connection last carried anything.
    heard: Cell<f64>,
    last_ping: Cell<f64>,
    /// When the first ping sent since `heard` went out.
    unanswered_since: Cell<Option<f64>>,
}

/// What a tick of the timer calls for.
pub(super) enum Tick {
    /// The socket is silent for too long: take it for dead.
    Dead,
    Ping,
    Wait,
}

impl Keepalive {
    /// A new socket.
    pub(super) fn reset(&self, now: f64) {
        self.heard.set(now);
        self.last_ping.set(now);
        self.unanswered_since.set(None);
    }

    /// The socket carried something.
    pub(super) fn heard(&self, now: f64) {
        self.heard.set(now);
        self.unanswered_since.set(None);
    }

    pub(super) fn tick(&self, now: f64, open: bool) -> Tick {
        // A ping must have gone unanswered too: a throttled background tab may tick late.
        let dead = now - self.heard.get() >= SILENCE_MS
            && (!open
                || self
                    .unanswered_since
                    .get()
                    .is_some_and(|since| now - since >= KEEPALIVE_MS));
        if dead {
            Tick::Dead
        } else if open && now - self.last_ping.get() >= KEEPALIVE_MS - f64::from(TICK_MS) / 2.0 {
            Tick::Ping
        } else {
            Tick::Wait
        }
    }

    pub(super) fn pinged(&self, now: f64) {
        self.last_ping.set(now);
        if self.unanswered_since.get().is_none() {
            self.unanswered_since.set(Some(now));
        }
    }
}
