//! What the cluster answered moments ago, used again for a few seconds. Each `Cluster` is
//! one identity in one context and holds its own, so no answer serves another person.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries kept beyond which expired ones are dropped.
const PRUNED_AT: usize = 1024;

pub struct Recent<K, V> {
    kept: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    pub fn new(kept: Duration) -> Self {
        Self {
            kept,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`, if it is younger than `kept`.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.kept)
            .map(|(_, value)| value.clone())
    }

    pub fn keep(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= PRUNED_AT {
            entries.retain(|_, (at, _)| at.elapsed() < self.kept);
        }
        entries.insert(key, (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_used_while_young_then_asked_again() {
        let recent = Recent::new(Duration::from_millis(50));
        assert_eq!(recent.get(&"a"), None);
        recent.keep("a", 1);
        assert_eq!(recent.get(&"a"), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get(&"a"), None);
    }

    #[test]
    fn expired_answers_are_dropped_when_many_are_kept() {
        let recent = Recent::new(Duration::ZERO);
        for n in 0..PRUNED_AT + 1 {
            recent.keep(n, ());
        }
        let left = recent.entries.lock().unwrap().len();
        assert!(left <= 1, "{left} kept");
    }
}
