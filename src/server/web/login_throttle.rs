//! Slows down guessing: failed logins (and, in user-token mode, every token podterm checks
//! with the cluster) are counted per client address and for everyone together.
//!
//! The shared count stands for the identity being guessed: in token mode everyone logs in
//! as the one token holder, and in user-token mode the person is unknown until the cluster
//! has answered, so it caps how many tokens podterm checks for anybody. A throttled request
//! is refused before the token is looked at.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket: `burst` tries at once, then one every `every`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

/// Per client address: 10 tries, then one every 6 s.
pub const PER_ADDRESS: Rate = Rate {
    burst: 10,
    every: Duration::from_secs(6),
};
/// Everyone together: 100 tries, then 100 a minute.
pub const EVERYONE: Rate = Rate {
    burst: 100,
    every: Duration::from_millis(600),
};
/// Addresses remembered at most; full buckets are forgotten first.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    used: f64,
    at: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Self { used: 0.0, at: now }
    }

    /// Tries used, after refilling up to `now`.
    fn refill(&mut self, rate: Rate, now: Instant) {
        let regained = now.duration_since(self.at).as_secs_f64() / rate.every.as_secs_f64();
        self.used = (self.used - regained).max(0.0);
        self.at = now;
    }

    /// How long until a try is free, if none is.
    fn wait(&self, rate: Rate) -> Option<Duration> {
        let over = self.used + 1.0 - f64::from(rate.burst);
        (over > 0.0).then(|| rate.every.mul_f64(over))
    }
}

pub struct LoginThrottle {
    per_address: Rate,
    everyone: Rate,
    state: Mutex<State>,
}

struct State {
    addresses: HashMap<IpAddr, Bucket>,
    all: Bucket,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(PER_ADDRESS, EVERYONE)
    }
}

impl LoginThrottle {
    pub fn new(per_address: Rate, everyone: Rate) -> Self {
        Self {
            per_address,
            everyone,
            state: Mutex::new(State {
                addresses: HashMap::new(),
                all: Bucket::new(Instant::now()),
            }),
        }
    }

    /// Ok when `from` may try now; else how long to wait.
    pub fn check(&self, from: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.all.refill(self.everyone, now);
        let mine = state.addresses.get_mut(&from).map(|b| {
            b.refill(self.per_address, now);
            b.wait(self.per_address)
        });
        match mine.flatten().max(state.all.wait(self.everyone)) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts one try from `from`.
    pub fn count(&self, from: IpAddr) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.all.refill(self.everyone, now);
        state.all.used += 1.0;
        if state.addresses.len() >= MAX_ADDRESSES {
            let rate = self.per_address;
            state.addresses.retain(|_, b| {
                b.refill(rate, now);
                b.used > 0.0
            });
        }
        let bucket = state
            .addresses
            .entry(from)
            .or_insert_with(|| Bucket::new(now));
        bucket.refill(self.per_address, now);
        bucket.used += 1.0;
    }
}

/// Whole seconds for `Retry-After`, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn rate(burst: u32, secs: u64) -> Rate {
        Rate {
            burst,
            every: Duration::from_secs(secs),
        }
    }

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let t = LoginThrottle::new(rate(3, 60), rate(100, 1));
        for _ in 0..3 {
            assert!(t.check(A).is_ok());
            t.count(A);
        }
        let wait = t.check(A).unwrap_err();
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
        assert_eq!(retry_after_seconds(wait), 60);
        assert!(t.check(B).is_ok(), "another address is not held up");
    }

    #[test]
    fn everyone_together_is_capped_too() {
        let t = LoginThrottle::new(rate(100, 1), rate(2, 60));
        t.count(A);
        t.count(B);
        assert!(t.check(IpAddr::from([192, 0, 2, 3])).is_err());
    }

    #[test]
    fn buckets_refill() {
        let t = LoginThrottle::new(
            Rate {
                burst: 1,
                every: Duration::from_millis(20),
            },
            rate(100, 1),
        );
        t.count(A);
        assert!(t.check(A).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(t.check(A).is_ok());
    }
}
