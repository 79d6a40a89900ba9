//! When the kernel's own threads held a core: on a virtual machine its memory monitor
//! (`kdamond`) can take one of two cores for half a second every few seconds, and a path
//! that needs more than the core left then queues. Read every `TICK` during the busy
//! phase, so each echo can be told apart by whether it was typed in such a stretch.

use std::time::Duration;

use tokio::time::Instant;

use crate::servers::{kernel_thread_pids, ticks_of};

/// How often the kernel threads' CPU is read.
const TICK: Duration = Duration::from_millis(100);
/// A stretch counts as held when the kernel's threads used at least this share of a core.
const HELD_SHARE: f64 = 0.5;

/// The stretches in which the kernel's threads held a core, merged where they touch.
#[derive(Debug, Default, Clone)]
pub struct Held(Vec<(Instant, Instant)>);

impl Held {
    /// Adds the stretches as they are read; never ends (its caller stops polling it). The
    /// kernel's threads are listed once, so that a reading is a few small files: the
    /// memory monitor is made at boot; a workqueue thread made later is missed, not
    /// miscounted.
    pub async fn watch(&mut self) {
        let pids = kernel_thread_pids();
        let used = || {
            pids.iter()
                .filter_map(|&pid| ticks_of(pid))
                .sum::<Duration>()
        };
        let mut ticks = tokio::time::interval(TICK);
        let (mut at, mut before) = (Instant::now(), used());
        loop {
            ticks.tick().await;
            let (now, total) = (Instant::now(), used());
            let span = now.duration_since(at);
            let share = total.saturating_sub(before).as_secs_f64() / span.as_secs_f64();
            // The interval's first tick is at once: too short a span to read a share.
            if span >= TICK / 2 && share >= HELD_SHARE {
                self.add(at, now);
            }
            (at, before) = (now, total);
        }
    }

    fn add(&mut self, from: Instant, to: Instant) {
        match self.0.last_mut() {
            Some(last) if last.1 >= from => last.1 = to,
            _ => self.0.push((from, to)),
        }
    }

    /// Whether a key typed at `at` and echoed `took` later met a held stretch, give or take
    /// one reading (a reading only says that the stretch was somewhere in its `TICK`).
    pub fn met(&self, at: Instant, took: Duration) -> bool {
        let (from, to) = (at.checked_sub(TICK).unwrap_or(at), at + took + TICK);
        self.0.iter().any(|&(a, b)| a < to && from < b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_meets_a_held_stretch_within_a_reading_of_it() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut held = Held::default();
        held.add(t + ms(1000), t + ms(1100));
        held.add(t + ms(1100), t + ms(1200));
        held.add(t + ms(3000), t + ms(3100));
        assert_eq!(held.0.len(), 2, "touching stretches merge");
        assert!(held.met(t + ms(1150), ms(1)));
        assert!(held.met(t + ms(850), ms(60)), "within a reading before");
        assert!(held.met(t + ms(1290), ms(1)), "within a reading after");
        assert!(!held.met(t + ms(500), ms(5)));
        assert!(!held.met(t + ms(2000), ms(5)));
        assert!(
            held.met(t + ms(2500), ms(450)),
            "a slow echo that reaches one"
        );
    }
}
