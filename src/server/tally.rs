//! Places counted in all and by key, for the caps that need both: connections per client
//! address (`web::connections`), pod watches per person (`cluster::watch`).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug)]
pub struct Tally<K> {
    total: usize,
    by_key: HashMap<K, usize>,
}

impl<K> Default for Tally<K> {
    fn default() -> Self {
        Self {
            total: 0,
            by_key: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> Tally<K> {
    /// Places held in all.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Places held under `key`.
    pub fn of<Q>(&self, key: &Q) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.by_key.get(key).copied().unwrap_or_default()
    }

    /// One more place, under `key` when there is one (else only in the total).
    pub fn add(&mut self, key: Option<K>) {
        self.total += 1;
        if let Some(key) = key {
            *self.by_key.entry(key).or_default() += 1;
        }
    }

    /// A place given back; a key holding none is forgotten.
    pub fn remove(&mut self, key: Option<&K>) {
        self.total = self.total.saturating_sub(1);
        if let Some(key) = key
            && let Some(held) = self.by_key.get_mut(key)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.by_key.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_all_and_by_key() {
        let mut tally = Tally::default();
        tally.add(Some("a"));
        tally.add(Some("a"));
        tally.add(None);
        assert_eq!((tally.total(), tally.of(&"a"), tally.of(&"b")), (3, 2, 0));
        tally.remove(Some(&"a"));
        tally.remove(Some(&"a"));
        tally.remove(None);
        assert_eq!((tally.total(), tally.of(&"a")), (0, 0));
        assert!(tally.by_key.is_empty());
        tally.remove(Some(&"a"));
        assert_eq!(tally.total(), 0);
    }
}
